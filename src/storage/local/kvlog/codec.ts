// Tiny binary writer/reader for kvlog entries: a type byte, LEB128 varints and length-prefixed UTF-8.
// Offsets are JS numbers, so varints carry up to 2^53 (8 bytes of 7 bits) and are checked on decode.
import { WharfError } from '../../../util/errors.js'

const MAX_VARINT_BYTES = 8

export class KvWriter {
  private buf: Buffer
  private pos = 0

  constructor(initialBytes = 64) {
    this.buf = Buffer.allocUnsafe(initialBytes)
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  u8(value: number): this {
    this.ensure(1)
    this.buf[this.pos++] = value
    return this
  }

  /** Unsigned varint; value must be a non-negative safe integer (callers validate user input first). */
  uvarint(value: number): this {
    this.ensure(MAX_VARINT_BYTES)
    let v = value
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.pos++] = v
    return this
  }

  /** Zig-zag signed varint (committed offsets may be -1). */
  svarint(value: number): this {
    return this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1)
  }

  string(value: string): this {
    const length = Buffer.byteLength(value, 'utf8')
    this.uvarint(length)
    this.ensure(length)
    this.pos += this.buf.write(value, this.pos, length, 'utf8')
    return this
  }

  get length(): number {
    return this.pos
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos)
  }
}

function malformed(what: string): WharfError {
  return new WharfError('STORE_CORRUPT', `malformed kvlog entry: ${what}`)
}

export class KvReader {
  private pos = 0

  constructor(private readonly buf: Buffer) {}

  u8(): number {
    const value = this.buf[this.pos]
    if (value === undefined) throw malformed('truncated')
    this.pos++
    return value
  }

  uvarint(): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.u8()
      result += (byte & 0x7f) * scale
      if (byte < 0x80) {
        if (!Number.isSafeInteger(result)) throw malformed('varint out of range')
        return result
      }
      scale *= 0x80
    }
    throw malformed('varint too long')
  }

  svarint(): number {
    const z = this.uvarint()
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2
  }

  string(): string {
    const length = this.uvarint()
    if (this.pos + length > this.buf.length) throw malformed('string past end')
    const value = this.buf.toString('utf8', this.pos, this.pos + length)
    this.pos += length
    return value
  }

  /** Entries carry no trailing bytes; anything left over means the payload is not what we wrote. */
  end(): void {
    if (this.pos !== this.buf.length) throw malformed('trailing bytes')
  }
}
