// One segment of a partition log: `<base>.log` holds RecordBatches exactly as stored, `<base>.index` maps
// (offset - base) -> file position every indexIntervalBytes, `<base>.timeindex` maps max timestamp so far
// -> (offset - base). Index files are written when a segment is sealed; the active segment's index is
// rebuilt by the recovery scan on open (it has to be read for CRC verification anyway).
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { crc32c } from '@node-rs/crc32'
import { assert } from '../../../util/assert.js'
import type { FilePool } from '../file-pool.js'

/** Fixed RecordBatch v2 header positions (see src/record): storage reads only these fields. */
export const BATCH = {
  baseOffset: 0,
  batchLength: 8,
  leaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  maxTimestamp: 35,
  headerBytes: 61,
  lengthPrefixBytes: 12,
} as const

const INDEX_ENTRY_BYTES = 8
const TIME_ENTRY_BYTES = 12
const SCAN_CHUNK_BYTES = 1024 * 1024

export function segmentFileName(baseOffset: number, extension: 'log' | 'index' | 'timeindex'): string {
  return `${String(baseOffset).padStart(20, '0')}.${extension}`
}

/** Reads a signed 64-bit big-endian integer as a JS number without a BigInt (exact below 2^53). */
export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4)
}

/** Writes a non-negative safe integer (or -1) as a signed 64-bit big-endian integer. */
export function writeInt64(buf: Buffer, value: number, at: number): void {
  const high = Math.floor(value / 4294967296)
  buf.writeInt32BE(high, at)
  buf.writeUInt32BE(value - high * 4294967296, at + 4)
}

/** Header facts of one stored batch. */
export interface BatchInfo {
  position: number
  size: number
  baseOffset: number
  lastOffset: number
  maxTimestamp: number
}

/**
 * Parses and checks the batch starting at `at` within `buf`; returns null when the bytes there are not a
 * whole valid batch (torn, zeroed, corrupt) — recovery truncates at that point.
 */
export function parseStoredBatch(buf: Buffer, at: number, maxBatchBytes: number, verifyCrc: boolean): BatchInfo | null {
  if (buf.length - at < BATCH.headerBytes) return null
  const batchLength = buf.readInt32BE(at + BATCH.batchLength)
  const size = BATCH.lengthPrefixBytes + batchLength
  if (batchLength < BATCH.headerBytes - BATCH.lengthPrefixBytes || size > maxBatchBytes) return null
  if (buf.length - at < size) return null
  if (buf[at + BATCH.magic] !== 2) return null
  const baseOffset = readInt64(buf, at + BATCH.baseOffset)
  const lastOffsetDelta = buf.readInt32BE(at + BATCH.lastOffsetDelta)
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0 || lastOffsetDelta < 0) return null
  if (verifyCrc && crc32c(buf.subarray(at + BATCH.attributes, at + size)) !== buf.readUInt32BE(at + BATCH.crc))
    return null
  const maxTimestamp = readInt64(buf, at + BATCH.maxTimestamp)
  return { position: at, size, baseOffset, lastOffset: baseOffset + lastOffsetDelta, maxTimestamp }
}

/** Growable sparse index: parallel arrays of (relative offset, position, max timestamp so far). */
class SparseIndex {
  relOffsets = new Int32Array(64)
  positions = new Int32Array(64)
  timestamps = new Float64Array(64)
  length = 0

  push(relOffset: number, position: number, maxTimestampSoFar: number): void {
    if (this.length === this.relOffsets.length) this.#grow()
    this.relOffsets[this.length] = relOffset
    this.positions[this.length] = position
    this.timestamps[this.length] = maxTimestampSoFar
    this.length++
  }

  /** Index of the greatest entry whose relOffset <= target, or -1. */
  floorByOffset(relOffset: number): number {
    let lo = 0
    let hi = this.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.relOffsets[mid]! <= relOffset) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  /** Index of the last entry whose max-timestamp-so-far is below `timestamp`, or -1. */
  lastBelowTimestamp(timestamp: number): number {
    let lo = 0
    let hi = this.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.timestamps[mid]! < timestamp) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  #grow(): void {
    const size = this.relOffsets.length * 2
    const relOffsets = new Int32Array(size)
    const positions = new Int32Array(size)
    const timestamps = new Float64Array(size)
    relOffsets.set(this.relOffsets)
    positions.set(this.positions)
    timestamps.set(this.timestamps)
    this.relOffsets = relOffsets
    this.positions = positions
    this.timestamps = timestamps
  }
}

export class Segment {
  readonly baseOffset: number
  readonly logPath: string
  readonly indexPath: string
  readonly timeIndexPath: string
  /** Bytes of whole batches in the file. */
  size = 0
  /** Offset after the last batch (for a sealed segment: the next segment's base). */
  nextOffset: number
  /** Newest record timestamp in the segment (-1 when empty). */
  maxTimestamp = -1
  /** When the first batch was appended (ms), for roll by age. */
  createdAt: number
  sealed = false
  #index: SparseIndex | null = null
  #bytesSinceIndex = 0
  readonly #pool: FilePool
  readonly #indexIntervalBytes: number

  constructor(dir: string, baseOffset: number, pool: FilePool, indexIntervalBytes: number, createdAt = Date.now()) {
    this.baseOffset = baseOffset
    this.nextOffset = baseOffset
    this.logPath = join(dir, segmentFileName(baseOffset, 'log'))
    this.indexPath = join(dir, segmentFileName(baseOffset, 'index'))
    this.timeIndexPath = join(dir, segmentFileName(baseOffset, 'timeindex'))
    this.#pool = pool
    this.#indexIntervalBytes = indexIntervalBytes
    this.createdAt = createdAt
  }

  get pool(): FilePool {
    return this.#pool
  }

  /** Notes a batch written at the end of the segment (in the order written). */
  track(info: BatchInfo): void {
    assert(info.position === this.size, 'segment batches must be tracked in file order')
    assert(info.baseOffset >= this.nextOffset, 'offsets within a segment must increase')
    if (this.#index === null) this.#index = new SparseIndex()
    const index = this.#index
    if (this.size === 0 || this.#bytesSinceIndex >= this.#indexIntervalBytes) {
      index.push(info.baseOffset - this.baseOffset, info.position, Math.max(this.maxTimestamp, info.maxTimestamp))
      this.#bytesSinceIndex = 0
    }
    this.#bytesSinceIndex += info.size
    this.size += info.size
    this.nextOffset = info.lastOffset + 1
    if (info.maxTimestamp > this.maxTimestamp) this.maxTimestamp = info.maxTimestamp
  }

  /**
   * Forgets batches tracked beyond `size` (their write failed). The max timestamp may stay an upper bound,
   * which only makes time retention keep the segment a little longer.
   */
  rewind(size: number, nextOffset: number): void {
    assert(size <= this.size && nextOffset <= this.nextOffset, 'rewind only moves backwards')
    const index = this.#index
    if (index !== null) while (index.length > 0 && index.positions[index.length - 1]! >= size) index.length--
    this.size = size
    this.nextOffset = nextOffset
    this.#bytesSinceIndex = this.#indexIntervalBytes // the next batch starts a fresh index entry
  }

  /**
   * Scans the log file from the start, verifying every batch; truncates the file at the first torn or
   * corrupt batch. Returns the number of bytes cut off.
   */
  async recover(maxBatchBytes: number): Promise<number> {
    this.#index = new SparseIndex()
    this.size = 0
    this.nextOffset = this.baseOffset
    this.maxTimestamp = -1
    this.#bytesSinceIndex = 0
    const pooled = await this.#pool.acquire(this.logPath)
    try {
      const { size: fileSize } = await pooled.handle.stat()
      let position = 0
      let buf = Buffer.allocUnsafe(SCAN_CHUNK_BYTES)
      scan: while (position < fileSize) {
        const { bytesRead } = await pooled.handle.read(buf, 0, Math.min(buf.length, fileSize - position), position)
        const view = buf.subarray(0, bytesRead)
        let at = 0
        let need = 0
        while (bytesRead - at >= BATCH.lengthPrefixBytes) {
          const size = BATCH.lengthPrefixBytes + view.readInt32BE(at + BATCH.batchLength)
          if (size < BATCH.headerBytes || size > maxBatchBytes) break scan
          if (size > bytesRead - at) {
            if (position + at + size > fileSize) break scan // torn tail
            need = size
            break // read more from here
          }
          const info = parseStoredBatch(view, at, maxBatchBytes, true)
          if (info === null || info.baseOffset < this.nextOffset) break scan
          info.position = position + at
          this.track(info)
          at += size
        }
        if (at === 0) {
          if (need <= buf.length) break // fewer than 12 bytes left: torn tail
          buf = Buffer.allocUnsafe(need)
          continue
        }
        position += at
      }
      const cut = fileSize - this.size
      if (cut > 0) {
        await pooled.handle.truncate(this.size)
        await pooled.handle.datasync()
      }
      return cut
    } finally {
      pooled.release()
    }
  }

  /** Writes the index files of a sealed segment (they are derived data: not fsynced, rebuilt if bad). */
  async writeIndexes(): Promise<void> {
    const index = this.#index
    if (index === null) return
    const offsets = Buffer.allocUnsafe(index.length * INDEX_ENTRY_BYTES)
    const times = Buffer.allocUnsafe(index.length * TIME_ENTRY_BYTES)
    for (let i = 0; i < index.length; i++) {
      offsets.writeInt32BE(index.relOffsets[i]!, i * INDEX_ENTRY_BYTES)
      offsets.writeInt32BE(index.positions[i]!, i * INDEX_ENTRY_BYTES + 4)
      times.writeBigInt64BE(BigInt(index.timestamps[i]!), i * TIME_ENTRY_BYTES)
      times.writeInt32BE(index.relOffsets[i]!, i * TIME_ENTRY_BYTES + 8)
    }
    // The time index ends with the segment's overall maximum, so retention needs no scan.
    const tail = Buffer.allocUnsafe(TIME_ENTRY_BYTES)
    tail.writeBigInt64BE(BigInt(Math.max(this.maxTimestamp, -1)), 0)
    tail.writeInt32BE(this.nextOffset - 1 - this.baseOffset, 8)
    await fs.writeFile(this.indexPath, offsets)
    await fs.writeFile(this.timeIndexPath, Buffer.concat([times, tail]))
  }

  /**
   * Opens a sealed segment from its files: trusts the log (it was fsynced when sealed), takes the index
   * files when they are consistent with it, else rebuilds them by scanning.
   */
  async openSealed(nextOffset: number, maxBatchBytes: number): Promise<void> {
    this.sealed = true
    const stat = await fs.stat(this.logPath)
    this.size = stat.size
    this.nextOffset = nextOffset
    this.createdAt = stat.mtimeMs
    const loaded = await this.#loadIndexes().catch(() => false)
    if (!loaded) {
      const cut = await this.recover(maxBatchBytes)
      assert(cut >= 0)
      this.nextOffset = Math.max(this.nextOffset, nextOffset)
      await this.writeIndexes()
    }
  }

  async #loadIndexes(): Promise<boolean> {
    const [offsets, times] = await Promise.all([fs.readFile(this.indexPath), fs.readFile(this.timeIndexPath)])
    if (offsets.length % INDEX_ENTRY_BYTES !== 0 || times.length % TIME_ENTRY_BYTES !== 0) return false
    const count = offsets.length / INDEX_ENTRY_BYTES
    if (times.length / TIME_ENTRY_BYTES !== count + 1 || (count === 0 && this.size > 0)) return false
    const index = new SparseIndex()
    let lastRel = -1
    let lastPos = -1
    for (let i = 0; i < count; i++) {
      const rel = offsets.readInt32BE(i * INDEX_ENTRY_BYTES)
      const pos = offsets.readInt32BE(i * INDEX_ENTRY_BYTES + 4)
      const ts = Number(times.readBigInt64BE(i * TIME_ENTRY_BYTES))
      if (rel <= lastRel || pos <= lastPos || pos >= this.size || times.readInt32BE(i * TIME_ENTRY_BYTES + 8) !== rel) {
        return false
      }
      index.push(rel, pos, ts)
      lastRel = rel
      lastPos = pos
    }
    if (count > 0 && index.positions[0] !== 0) return false
    this.maxTimestamp = Number(times.readBigInt64BE(count * TIME_ENTRY_BYTES))
    this.#index = index
    return true
  }

  /** File position from which to scan forward for `offset` (a batch boundary at or before it). */
  positionFor(offset: number): number {
    const index = this.#index
    if (index === null || index.length === 0) return 0
    const at = index.floorByOffset(offset - this.baseOffset)
    return at < 0 ? 0 : index.positions[at]!
  }

  /** File position from which to scan for the first batch whose max timestamp is >= timestamp. */
  positionForTimestamp(timestamp: number): number {
    const index = this.#index
    if (index === null || index.length === 0) return 0
    const at = index.lastBelowTimestamp(timestamp)
    return at < 0 ? 0 : index.positions[at]!
  }

  async deleteFiles(): Promise<void> {
    for (const path of [this.logPath, this.indexPath, this.timeIndexPath]) {
      await this.#pool.forget(path)
      await fs.rm(path, { force: true })
    }
  }
}
