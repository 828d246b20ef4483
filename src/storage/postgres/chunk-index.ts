// What a PostgreSQL partition log knows of its rows without asking: per chunk row its offsets, newest
// timestamp and size, in offset order, plus the bytes of the newest rows (a tail cache bounded in bytes), so
// consumers reading what was just produced never go back to the database.
import { BATCH, readInt64 } from '../local/partition-log/segment.js'

export interface Chunk {
  baseOffset: number
  lastOffset: number
  maxTimestamp: number
  bytes: number
  /** The row's bytes while in the tail cache; null once evicted (read back from the database). */
  data: Buffer | null
}

export class ChunkIndex {
  /** Live chunks are chunks[head..]; chunks before cacheHead have no bytes in memory. */
  chunks: Chunk[] = []
  head = 0
  #cacheHead = 0
  #cachedBytes = 0
  /** Bytes of all live chunks. */
  bytes = 0

  constructor(private readonly cacheLimit: number) {}

  get count(): number {
    return this.chunks.length - this.head
  }

  /** Adds a chunk at the end; data null for rows known only by their index entry (open, resync). */
  push(chunk: Chunk): void {
    this.chunks.push(chunk)
    this.bytes += chunk.bytes
    if (chunk.data === null) return
    this.#cachedBytes += chunk.data.length
    while (this.#cachedBytes > this.cacheLimit && this.#cacheHead < this.chunks.length - 1) {
      const old = this.chunks[this.#cacheHead++]!
      if (old.data !== null) this.#cachedBytes -= old.data.length
      old.data = null
    }
  }

  /** Index of the live chunk holding offset (or the first one after it). */
  indexFor(offset: number): number {
    let lo = this.head
    let hi = this.chunks.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.chunks[mid]!.lastOffset < offset) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * The committed chunks (base offset below end) from index i on that fit maxBytes, at least one, with their
   * bytes: from the cache, the others by one fetch of the rows with base offsets in [from, to].
   */
  async pick(
    i: number,
    maxBytes: number,
    end: number,
    fetch: (from: number, to: number) => Promise<Map<number, Buffer>>,
  ): Promise<Array<{ chunk: Chunk; data: Buffer }>> {
    const picked: Chunk[] = []
    let bytes = 0
    for (let j = i; j < this.chunks.length; j++) {
      const chunk = this.chunks[j]!
      if (chunk.baseOffset >= end) break
      if (chunk.bytes === 0) continue // compacted away: its row is gone
      if (picked.length > 0 && bytes + chunk.bytes > maxBytes) break
      picked.push(chunk)
      bytes += chunk.bytes
    }
    const missing = picked.filter((chunk) => chunk.data === null)
    const fetched =
      missing.length > 0 ? await fetch(missing[0]!.baseOffset, missing[missing.length - 1]!.baseOffset) : new Map()
    const out: Array<{ chunk: Chunk; data: Buffer }> = []
    for (const chunk of picked) {
      // A row deleted meanwhile (retention) is simply not returned.
      const data = chunk.data ?? fetched.get(chunk.baseOffset)
      if (data !== undefined) out.push({ chunk, data })
    }
    return out
  }

  /**
   * After compaction rewrote a chunk's row: its new size, newest timestamp and last offset (the last batch
   * kept), or bytes 0 when its row was deleted. False when the chunk is no longer live (retention took it).
   */
  rewritten(chunk: Chunk, bytes: number, lastOffset: number, maxTimestamp: number): boolean {
    const at = this.indexFor(chunk.baseOffset)
    if (this.chunks[at] !== chunk) return false
    this.bytes += bytes - chunk.bytes
    if (chunk.data !== null) this.#cachedBytes -= chunk.data.length
    chunk.data = null
    chunk.bytes = bytes
    if (bytes > 0) {
      chunk.lastOffset = lastOffset
      chunk.maxTimestamp = maxTimestamp
    }
    return true
  }

  /** Forgets the chunks before index drop (their rows were deleted). */
  dropBefore(drop: number): void {
    while (this.head < drop) {
      const chunk = this.chunks[this.head++]!
      this.bytes -= chunk.bytes
      if (chunk.data !== null) this.#cachedBytes -= chunk.data.length
      chunk.data = null
    }
    this.#cacheHead = Math.max(this.#cacheHead, this.head)
    // Drop the dead prefix once it is at least half the array: amortised O(1) per chunk.
    if (this.head > 64 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head)
      this.#cacheHead -= this.head
      this.head = 0
    }
  }

  clear(): void {
    this.chunks = []
    this.head = 0
    this.#cacheHead = 0
    this.#cachedBytes = 0
    this.bytes = 0
  }
}

/** The batches of a chunk from the one containing offset on (a view, no copy). */
export function skipBatchesBefore(data: Buffer, offset: number): Buffer {
  let position = 0
  while (position + BATCH.headerBytes <= data.length) {
    const size = BATCH.lengthPrefixBytes + data.readInt32BE(position + BATCH.batchLength)
    const last = readInt64(data, position + BATCH.baseOffset) + data.readInt32BE(position + BATCH.lastOffsetDelta)
    if (last >= offset) break
    position += size
  }
  return position === 0 ? data : data.subarray(position)
}

/** The last offset of a batch (base offset + lastOffsetDelta). */
export function lastOffsetOf(batch: Buffer): number {
  return readInt64(batch, BATCH.baseOffset) + batch.readInt32BE(BATCH.lastOffsetDelta)
}
