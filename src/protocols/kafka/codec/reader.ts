// Bounds-checked reader over one Kafka frame. Every malformed input ends in a WharfError('INVALID_ARGUMENT'):
// lengths are checked against the bytes that remain *before* anything is allocated, so a hostile length
// prefix can never make us allocate more than the frame we already hold.
import { WharfError } from '../../../util/errors.js'

const TWO_32 = 4294967296

export function malformed(what: string): WharfError {
  return new WharfError('INVALID_ARGUMENT', `kafka: malformed frame: ${what}`)
}

export class Reader {
  readonly buf: Buffer
  pos: number
  readonly end: number

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf
    this.pos = start
    this.end = end
  }

  get remaining(): number {
    return this.end - this.pos
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) throw malformed(`${what} needs ${n} bytes, ${this.end - this.pos} left`)
  }

  skip(n: number): void {
    this.need(n, 'skip')
    this.pos += n
  }

  int8(): number {
    this.need(1, 'int8')
    return this.buf.readInt8(this.pos++)
  }

  bool(): boolean {
    this.need(1, 'bool')
    return this.buf[this.pos++] !== 0
  }

  int16(): number {
    this.need(2, 'int16')
    const value = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return value
  }

  uint16(): number {
    this.need(2, 'uint16')
    const value = this.buf.readUInt16BE(this.pos)
    this.pos += 2
    return value
  }

  int32(): number {
    this.need(4, 'int32')
    const value = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return value
  }

  /** int64 as a JS number: offsets and timestamps fit; values beyond 2^53 are rejected, not rounded. */
  int64(): number {
    this.need(8, 'int64')
    const value = this.buf.readInt32BE(this.pos) * TWO_32 + this.buf.readUInt32BE(this.pos + 4)
    if (!Number.isSafeInteger(value)) throw malformed('int64 beyond 2^53')
    this.pos += 8
    return value
  }

  float64(): number {
    this.need(8, 'float64')
    const value = this.buf.readDoubleBE(this.pos)
    this.pos += 8
    return value
  }

  /** Unsigned varint of at most 5 bytes (a Java int); returns 0..2^32-1. */
  uvarint(): number {
    let value = 0
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) throw malformed('truncated varint')
      const byte = this.buf[this.pos++]!
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return value
    }
    throw malformed('varint longer than 5 bytes')
  }

  /** Length prefix of a string/bytes/array: -1 means null. Rejects lengths beyond the remaining bytes. */
  private length(flexible: boolean, wide: boolean, what: string): number {
    const n = flexible ? this.uvarint() - 1 : wide ? this.int32() : this.int16()
    if (n < -1) throw malformed(`negative ${what} length`)
    if (n > this.end - this.pos) throw malformed(`${what} length ${n} beyond frame`)
    return n
  }

  nullableString(flexible: boolean): string | null {
    const n = this.length(flexible, false, 'string')
    if (n < 0) return null
    const value = this.buf.toString('utf8', this.pos, this.pos + n)
    this.pos += n
    return value
  }

  string(flexible: boolean): string {
    const value = this.nullableString(flexible)
    if (value === null) throw malformed('null in a non-nullable string')
    return value
  }

  /** Zero copy: a view of the frame, valid as long as the frame buffer is. */
  nullableBytes(flexible: boolean): Buffer | null {
    const n = this.length(flexible, true, 'bytes')
    if (n < 0) return null
    const value = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return value
  }

  bytes(flexible: boolean): Buffer {
    const value = this.nullableBytes(flexible)
    if (value === null) throw malformed('null in non-nullable bytes')
    return value
  }

  uuid(): Buffer {
    this.need(16, 'uuid')
    const value = this.buf.subarray(this.pos, this.pos + 16)
    this.pos += 16
    return value
  }

  /** Element count of an array, -1 for null. Every element takes at least one byte, hence the bound. */
  arrayLength(flexible: boolean, nullable: boolean): number {
    const n = this.length(flexible, true, 'array')
    if (n < 0 && !nullable) throw malformed('null in a non-nullable array')
    return n
  }

  /** Nullable struct marker (int8 -1 = null, 1 = present). */
  structPresent(): boolean {
    const marker = this.int8()
    if (marker !== -1 && marker !== 1) throw malformed(`struct marker ${marker}`)
    return marker === 1
  }

  /** Start of a tagged field's payload: returns where it must end. */
  taggedField(): number {
    const size = this.uvarint()
    this.need(size, 'tagged field')
    return this.pos + size
  }

  taggedFieldEnd(end: number): void {
    if (this.pos !== end) throw malformed('tagged field size mismatch')
  }

  /** Skips a whole tagged-field section (headers, structs without known tags). */
  skipTaggedFields(): void {
    const count = this.uvarint()
    for (let i = 0; i < count; i++) {
      this.uvarint()
      this.pos = this.taggedField()
    }
  }
}
