// Chunked writer. Small fields go into a growing scratch buffer; large byte blobs (record batches read from
// storage) are appended by reference, so a Fetch response is written with socket.cork() + write per chunk
// (or writev) and never copied. finish() returns the chunk list; `length` is its total size.
import { assert } from '../../../util/assert.js'
import { WharfError } from '../../../util/errors.js'

const TWO_32 = 4294967296
/** Blobs at least this large are referenced, smaller ones copied (a chunk per tiny blob costs more than a copy). */
export const refBytesMin = 1024

export type Records = Buffer | Buffer[] | null

function invalid(what: string): WharfError {
  return new WharfError('INVALID_ARGUMENT', `kafka: cannot encode: ${what}`)
}

export function uvarintSize(value: number): number {
  let size = 1
  while (value >= 0x80) {
    value = Math.floor(value / 128)
    size++
  }
  return size
}

export class Writer {
  private buf: Buffer
  private pos = 0
  /** Start of the scratch region not yet handed to `chunks`. */
  private start = 0
  private readonly chunks: Buffer[] = []
  private flushedBytes = 0

  constructor(initialBytes = 512) {
    assert(initialBytes > 0, 'writer needs a positive initial size')
    this.buf = Buffer.allocUnsafe(initialBytes)
  }

  get length(): number {
    return this.flushedBytes + this.pos - this.start
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    // Grow into a new buffer; flushed chunks keep pointing at the old one, which is never written again.
    const pending = this.pos - this.start
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, pending + n))
    this.buf.copy(next, 0, this.start, this.pos)
    this.buf = next
    this.start = 0
    this.pos = pending
  }

  private flush(): void {
    if (this.pos > this.start) {
      this.chunks.push(this.buf.subarray(this.start, this.pos))
      this.flushedBytes += this.pos - this.start
      this.start = this.pos
    }
  }

  int8(value: number): void {
    this.ensure(1)
    this.pos = this.buf.writeInt8(value, this.pos)
  }

  bool(value: boolean): void {
    this.ensure(1)
    this.buf[this.pos++] = value ? 1 : 0
  }

  int16(value: number): void {
    this.ensure(2)
    this.pos = this.buf.writeInt16BE(value, this.pos)
  }

  uint16(value: number): void {
    this.ensure(2)
    this.pos = this.buf.writeUInt16BE(value, this.pos)
  }

  int32(value: number): void {
    this.ensure(4)
    this.pos = this.buf.writeInt32BE(value, this.pos)
  }

  int64(value: number): void {
    if (!Number.isSafeInteger(value)) throw invalid(`int64 ${value} is not a safe integer`)
    this.ensure(8)
    const high = Math.floor(value / TWO_32)
    this.buf.writeInt32BE(high, this.pos)
    this.buf.writeUInt32BE(value - high * TWO_32, this.pos + 4)
    this.pos += 8
  }

  float64(value: number): void {
    this.ensure(8)
    this.pos = this.buf.writeDoubleBE(value, this.pos)
  }

  uvarint(value: number): void {
    assert(value >= 0 && value < TWO_32 && Number.isInteger(value), 'uvarint out of range')
    this.ensure(5)
    this.putUvarint(value)
  }

  private putUvarint(value: number): void {
    while (value >= 0x80) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80
      value = Math.floor(value / 128)
    }
    this.buf[this.pos++] = value
  }

  private lengthPrefix(n: number, flexible: boolean, wide: boolean): void {
    if (flexible) this.uvarint(n + 1)
    else if (wide) this.int32(n)
    else this.int16(n)
  }

  nullableString(value: string | null, flexible: boolean): void {
    if (value === null) {
      this.lengthPrefix(-1, flexible, false)
      return
    }
    const n = Buffer.byteLength(value)
    if (!flexible && n > 0x7fff) throw invalid('string longer than 32767 bytes')
    this.lengthPrefix(n, flexible, false)
    this.ensure(n)
    this.pos += this.buf.write(value, this.pos, 'utf8')
  }

  string(value: string | null, flexible: boolean): void {
    if (value === null) throw invalid('null in a non-nullable string')
    this.nullableString(value, flexible)
  }

  /** Raw bytes without a prefix: referenced when large, copied when small. */
  raw(value: Buffer): void {
    if (value.length >= refBytesMin) {
      this.flush()
      this.chunks.push(value)
      this.flushedBytes += value.length
      return
    }
    this.ensure(value.length)
    value.copy(this.buf, this.pos)
    this.pos += value.length
  }

  nullableBytes(value: Buffer | null, flexible: boolean): void {
    if (value === null) {
      this.lengthPrefix(-1, flexible, true)
      return
    }
    this.lengthPrefix(value.length, flexible, true)
    this.raw(value)
  }

  bytes(value: Buffer | null, flexible: boolean): void {
    if (value === null) throw invalid('null in non-nullable bytes')
    this.nullableBytes(value, flexible)
  }

  /** Record batches: one buffer or a list (several batches straight from segment reads). */
  records(value: Records, flexible: boolean): void {
    if (!Array.isArray(value)) {
      this.nullableBytes(value, flexible)
      return
    }
    let n = 0
    for (const part of value) n += part.length
    this.lengthPrefix(n, flexible, true)
    for (const part of value) this.raw(part)
  }

  uuid(value: Buffer): void {
    if (value.length !== 16) throw invalid('uuid must be 16 bytes')
    this.raw(value)
  }

  /** Array count, -1 for null. */
  arrayLength(n: number, flexible: boolean): void {
    this.lengthPrefix(n, flexible, true)
  }

  /** Nullable struct marker (int8 -1 = null, 1 = present), non-flexible versions and flexible alike. */
  structPresent(present: boolean): void {
    this.int8(present ? 1 : -1)
  }

  /** Begins a size-prefixed region (a tagged field); pair with sizedEnd. Regions may nest. */
  sizedStart(): number {
    return this.length
  }

  /** Prepends the uvarint size of everything written since sizedStart. Tagged fields are small and never
   *  reference blobs, so the region is still one scratch run: shift it right by the varint's size. */
  sizedEnd(mark: number): void {
    const from = this.start + mark - this.flushedBytes
    assert(from >= this.start, 'sized region must stay in scratch')
    const size = this.pos - from
    const prefix = uvarintSize(size)
    this.ensure(prefix)
    const shifted = this.start + mark - this.flushedBytes
    this.buf.copyWithin(shifted + prefix, shifted, this.pos)
    const end = this.pos + prefix
    this.pos = shifted
    this.putUvarint(size)
    assert(this.pos === shifted + prefix, 'uvarint size mismatch')
    this.pos = end
  }

  /** Empty tagged-field section. */
  noTaggedFields(): void {
    this.ensure(1)
    this.buf[this.pos++] = 0
  }

  /** The output as chunks in order; the writer must not be used afterwards. */
  finish(): Buffer[] {
    this.flush()
    return this.chunks
  }
}
