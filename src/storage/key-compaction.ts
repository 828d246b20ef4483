// Key compaction at the record level (Kafka's cleanup.policy=compact), shared by the engines: the newest
// offset of each key over a range of batches, then each batch rewritten without the records a newer one of
// the same key supersedes, and without tombstones (null values) older than the horizon. Offsets are kept (the
// rewritten batch keeps its base offset, offset deltas and lastOffsetDelta, so readers step over the gaps);
// control batches (transaction markers) and records without a key are kept whole. How the batches are stored
// and swapped is each engine's: local/partition-log/compaction.ts, postgres/compaction.ts.
import { Compression, canCompress, decodeBatch, encodeBatch, type Record } from '../record/index.js'

/** Attributes bit of a control batch. */
const CONTROL = 0x20
const ATTRIBUTES = 21

function keyOf(record: Record): string | null {
  return record.key === null ? null : record.key.toString('latin1')
}

/** Notes in latest the offset of every keyed record of batch (newer batches after older ones). */
export function noteLatest(batch: Buffer, latest: Map<string, number>): void {
  if ((batch.readInt16BE(ATTRIBUTES) & CONTROL) !== 0) return
  for (const record of decodeBatch(batch, { verifyCrc: false }).records) {
    const key = keyOf(record)
    if (key !== null) latest.set(key, record.offset)
  }
}

export interface CompactedBatch {
  /** The batch to keep: the input itself (copied) when nothing was removed; null when nothing is left. */
  batch: Buffer | null
  removed: number
  /** Newest timestamp of the records kept (-1 when none). */
  maxTimestamp: number
}

/** batch without the records latest says are superseded and the tombstones older than tombstoneHorizon (ms). */
export function compactBatch(batch: Buffer, latest: Map<string, number>, tombstoneHorizon: number): CompactedBatch {
  const { header, records } = decodeBatch(batch, { verifyCrc: false })
  const keep = header.isControl
    ? records
    : records.filter((r) => {
        const key = keyOf(r)
        if (key === null) return true
        if (latest.get(key) !== r.offset) return false
        return !(r.value === null && r.timestamp < tombstoneHorizon)
      })
  let maxTimestamp = -1
  for (const r of keep) if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp
  const removed = records.length - keep.length
  if (keep.length === 0) return { batch: null, removed, maxTimestamp }
  if (removed === 0) return { batch: Buffer.from(batch), removed, maxTimestamp }
  const rewritten = encodeBatch(
    keep.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
    {
      baseOffset: header.baseOffset,
      offsetDeltas: keep.map((r) => r.offset - header.baseOffset),
      lastOffsetDelta: header.lastOffsetDelta,
      // A process that can only decode zstd (no native module, Node < 22.15) rewrites it uncompressed.
      compression: canCompress(header.compression) ? header.compression : Compression.None,
      timestampType: header.timestampType,
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      isTransactional: header.isTransactional,
    },
  )
  return { batch: rewritten, removed, maxTimestamp }
}
