// Zig-zag varints (Kafka's ByteUtils.readVarint/readVarlong) and 64-bit integers as JS numbers.
// Decoding is strict because input is untrusted: a varint is at most 5 bytes and must fit 32 bits, a varlong at
// most 10 bytes and must fit a safe integer (|value| < 2^52 after zig-zag), otherwise CORRUPT_RECORD.
import { corrupt } from './errors.js'

const TWO_POW_32 = 4294967296

/** A cursor over buf[pos, end). Methods advance pos; they never read at or past end. */
export class ByteReader {
  buf: Buffer
  pos: number
  end: number

  constructor(buf: Buffer, pos: number, end: number) {
    this.buf = buf
    this.pos = pos
    this.end = end
  }

  /** Zig-zag int32. */
  varint(): number {
    const buf = this.buf
    let pos = this.pos
    let raw = 0
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= this.end) throw corrupt('varint runs past the end of its field')
      const byte = buf[pos++]!
      if (shift === 28 && byte > 0x0f) throw corrupt('varint overflows 32 bits')
      raw |= (byte & 0x7f) << shift
      if (byte < 0x80) {
        this.pos = pos
        return (raw >>> 1) ^ -(raw & 1)
      }
    }
    throw corrupt('varint longer than 5 bytes')
  }

  /** Zig-zag int64, limited to what a JS number holds exactly. */
  varlong(): number {
    const buf = this.buf
    let pos = this.pos
    // The first 28 bits with integer arithmetic: the common case (deltas below 2^27) never leaves it.
    let low = 0
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= this.end) throw corrupt('varlong runs past the end of its field')
      const byte = buf[pos++]!
      low |= (byte & 0x7f) << shift
      if (byte < 0x80) {
        this.pos = pos
        return (low >>> 1) ^ -(low & 1)
      }
    }
    let raw = low
    let scale = 268435456 // 2^28
    for (let index = 4; index < 10; index++) {
      if (pos >= this.end) throw corrupt('varlong runs past the end of its field')
      const byte = buf[pos++]!
      raw += (byte & 0x7f) * scale
      if (byte < 0x80) {
        if (raw > Number.MAX_SAFE_INTEGER) throw corrupt('varlong exceeds the safe integer range')
        this.pos = pos
        return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2
      }
      scale *= 128
    }
    throw corrupt('varlong longer than 10 bytes')
  }
}

/** Signed int64 at pos as a number; CORRUPT_RECORD beyond ±(2^53 - 1). The caller checks bounds. */
export function readInt64(buf: Buffer, pos: number): number {
  const value = buf.readInt32BE(pos) * TWO_POW_32 + buf.readUInt32BE(pos + 4)
  if (!Number.isSafeInteger(value)) throw corrupt(`int64 at ${pos} exceeds the safe integer range`)
  return value
}

/** Writes a safe integer as int64; returns the position after it. */
export function writeInt64(buf: Buffer, pos: number, value: number): number {
  const high = Math.floor(value / TWO_POW_32)
  buf.writeInt32BE(high, pos)
  buf.writeUInt32BE(value - high * TWO_POW_32, pos + 4)
  return pos + 8
}

export function sizeOfVarint(value: number): number {
  let raw = ((value << 1) ^ (value >> 31)) >>> 0
  let size = 1
  while (raw >= 0x80) {
    raw >>>= 7
    size++
  }
  return size
}

/** value must be an int32. Returns the position after the varint. */
export function writeVarint(buf: Buffer, pos: number, value: number): number {
  let raw = ((value << 1) ^ (value >> 31)) >>> 0
  while (raw >= 0x80) {
    buf[pos++] = (raw & 0x7f) | 0x80
    raw >>>= 7
  }
  buf[pos++] = raw
  return pos
}

/** Largest |value| a varlong may carry so that its zig-zag form (2|v| or 2|v|-1) stays an exact number. */
// zig-zag doubles the magnitude: 2^52 - 1 is the largest that decodes back below 2^53.
export const VARLONG_MAX_ABS = 2 ** 52 - 1

function zigzagLong(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1
}

export function sizeOfVarlong(value: number): number {
  let raw = zigzagLong(value)
  let size = 1
  while (raw >= 0x80) {
    raw = Math.floor(raw / 128)
    size++
  }
  return size
}

/** value must be an integer with |value| <= VARLONG_MAX_ABS. Returns the position after the varlong. */
export function writeVarlong(buf: Buffer, pos: number, value: number): number {
  let raw = zigzagLong(value)
  if (raw < 0x80000000) return writeVarintRaw(buf, pos, raw)
  while (raw >= 0x80) {
    buf[pos++] = (raw % 128) | 0x80
    raw = Math.floor(raw / 128)
  }
  buf[pos++] = raw
  return pos
}

function writeVarintRaw(buf: Buffer, pos: number, raw: number): number {
  while (raw >= 0x80) {
    buf[pos++] = (raw & 0x7f) | 0x80
    raw >>>= 7
  }
  buf[pos++] = raw
  return pos
}
