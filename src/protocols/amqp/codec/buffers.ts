// Bounds-checked cursor over a frame payload (Reader) and a range-checked cursor into a preallocated
// frame buffer (Writer). Every read checks the bytes are there first, so a malformed frame becomes an
// AmqpFrameError and never a RangeError from Buffer; every write checks the value fits its wire type,
// so a bad argument becomes a WharfError instead of silently wrapping.
import { encodeError, frameError, syntaxError } from './errors.js'

const TWO_POW_32 = 0x1_0000_0000
/** High word limit that keeps hi * 2^32 + lo a safe integer (2^53 = 2^21 * 2^32). */
const SAFE_HIGH_WORD_MAX = 0x20_0000

export class Reader {
  buf: Buffer
  pos: number
  /** Exclusive limit of readable bytes; nested tables narrow it temporarily. */
  end: number

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf
    this.pos = pos
    this.end = end
  }

  need(bytes: number): void {
    if (this.end - this.pos < bytes) throw frameError(`truncated: need ${bytes} bytes, have ${this.end - this.pos}`)
  }

  octet(): number {
    this.need(1)
    return this.buf[this.pos++]!
  }

  short(): number {
    this.need(2)
    const value = this.buf.readUInt16BE(this.pos)
    this.pos += 2
    return value
  }

  long(): number {
    this.need(4)
    const value = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return value
  }

  /** Unsigned 64-bit as a number; values past 2^53 are rejected (delivery tags and sizes never get there). */
  longlong(): number {
    this.need(8)
    const high = this.buf.readUInt32BE(this.pos)
    const low = this.buf.readUInt32BE(this.pos + 4)
    if (high >= SAFE_HIGH_WORD_MAX) throw syntaxError('longlong value exceeds 2^53')
    this.pos += 8
    return high * TWO_POW_32 + low
  }

  shortstr(): string {
    const length = this.octet()
    this.need(length)
    const value = this.buf.toString('utf8', this.pos, this.pos + length)
    this.pos += length
    return value
  }

  /** A view into the frame payload, not a copy: the payload buffer is never reused by the parser. */
  longstr(): Buffer {
    const length = this.long()
    this.need(length)
    const value = this.buf.subarray(this.pos, this.pos + length)
    this.pos += length
    return value
  }

  /** Methods must consume their payload exactly; RabbitMQ's decoder matches the binary whole too. */
  done(what: string): void {
    if (this.pos !== this.end) throw frameError(`${what}: ${this.end - this.pos} trailing bytes`)
  }
}

export class Writer {
  buf: Buffer
  pos: number

  constructor(buf: Buffer, pos = 0) {
    this.buf = buf
    this.pos = pos
  }

  octet(value: number): void {
    if ((value & 0xff) !== value) throw encodeError(`octet out of range: ${value}`)
    this.buf[this.pos++] = value
  }

  short(value: number): void {
    if ((value & 0xffff) !== value) throw encodeError(`short out of range: ${value}`)
    this.buf.writeUInt16BE(value, this.pos)
    this.pos += 2
  }

  long(value: number): void {
    if (value >>> 0 !== value) throw encodeError(`long out of range: ${value}`)
    this.buf.writeUInt32BE(value, this.pos)
    this.pos += 4
  }

  longlong(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw encodeError(`longlong out of range: ${value}`)
    const high = Math.floor(value / TWO_POW_32)
    this.buf.writeUInt32BE(high, this.pos)
    this.buf.writeUInt32BE(value - high * TWO_POW_32, this.pos + 4)
    this.pos += 8
  }

  /** The caller sized the buffer with shortstrSize, which also enforced the 255-byte limit. */
  shortstr(value: string): void {
    const length = this.buf.write(value, this.pos + 1, 'utf8')
    this.buf[this.pos] = length
    this.pos += 1 + length
  }

  longstr(value: Buffer): void {
    this.long(value.length)
    value.copy(this.buf, this.pos)
    this.pos += value.length
  }

  /** Signed 64-bit from a number (any integer in range, exact because such doubles are exact) or a bigint. */
  int64(value: number | bigint): void {
    if (typeof value === 'bigint') {
      if (value < -(2n ** 63n) || value >= 2n ** 63n) throw encodeError(`int64 out of range: ${value}`)
      this.buf.writeBigInt64BE(value, this.pos)
    } else {
      if (!Number.isInteger(value) || value < -(2 ** 63) || value >= 2 ** 63) {
        throw encodeError(`int64 out of range: ${value}`)
      }
      const high = Math.floor(value / TWO_POW_32)
      this.buf.writeInt32BE(high, this.pos)
      this.buf.writeUInt32BE(value - high * TWO_POW_32, this.pos + 4)
    }
    this.pos += 8
  }
}

/** Reads a signed 64-bit value: a number when exact, else a bigint (field tables only). */
export function readInt64(reader: Reader): number | bigint {
  reader.need(8)
  const high = reader.buf.readInt32BE(reader.pos)
  const low = reader.buf.readUInt32BE(reader.pos + 4)
  const value =
    high >= -SAFE_HIGH_WORD_MAX && high < SAFE_HIGH_WORD_MAX
      ? high * TWO_POW_32 + low
      : reader.buf.readBigInt64BE(reader.pos)
  reader.pos += 8
  return value
}

export function shortstrSize(value: string): number {
  if (typeof value !== 'string') throw encodeError(`shortstr expected, got ${typeof value}`)
  const length = Buffer.byteLength(value, 'utf8')
  if (length > 255) throw encodeError(`shortstr longer than 255 bytes (${length})`)
  return 1 + length
}

export function longstrSize(value: Buffer): number {
  if (!Buffer.isBuffer(value)) throw encodeError('longstr expected a Buffer')
  return 4 + value.length
}
