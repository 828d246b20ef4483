// Sequential batch reading over a segment file, for maintenance work (time lookups, compaction) that
// walks stored batches rather than serving fetches.
import { decodeBatch } from '../../../record/index.js'
import { BATCH, type BatchInfo, parseStoredBatch, type Segment } from './segment.js'

const CHUNK_BYTES = 1024 * 1024

/** Yields whole stored batches between `from` and `limit` (file positions at batch boundaries). */
export async function* segmentBatches(
  segment: Segment,
  from: number,
  limit: number,
): AsyncGenerator<{ info: BatchInfo; bytes: Buffer }> {
  const pooled = await segment.pool.acquire(segment.logPath)
  try {
    let position = from
    let buf = Buffer.allocUnsafe(CHUNK_BYTES)
    while (position < limit) {
      const { bytesRead } = await pooled.handle.read(buf, 0, Math.min(buf.length, limit - position), position)
      const view = buf.subarray(0, bytesRead)
      let at = 0
      while (view.length - at >= BATCH.headerBytes) {
        const size = BATCH.lengthPrefixBytes + view.readInt32BE(at + BATCH.batchLength)
        if (at + size > view.length) break
        const info = parseStoredBatch(view, at, Number.MAX_SAFE_INTEGER, false)
        if (info === null) return
        info.position = position + at
        yield { info, bytes: view.subarray(at, at + size) }
        at += size
      }
      if (at === 0) {
        if (view.length < BATCH.headerBytes) return
        buf = Buffer.allocUnsafe(BATCH.lengthPrefixBytes + view.readInt32BE(BATCH.batchLength))
        continue
      }
      position += at
      // The yielded views alias `buf`: give the next chunk a fresh buffer.
      buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, buf.length))
    }
  } finally {
    pooled.release()
  }
}

/** Offset of the first record in the segment with timestamp >= `timestamp`, or null. */
export async function findRecordAtTimestamp(
  segment: Segment,
  limit: number,
  timestamp: number,
): Promise<number | null> {
  for await (const { info, bytes } of segmentBatches(segment, segment.positionForTimestamp(timestamp), limit)) {
    if (info.maxTimestamp < timestamp) continue
    const { records } = decodeBatch(bytes, { verifyCrc: false })
    for (const record of records) if (record.timestamp >= timestamp) return record.offset
  }
  return null
}
