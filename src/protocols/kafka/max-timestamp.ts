// ListOffsets with timestamp -3 (MAX_TIMESTAMP, KIP-734): the offset and timestamp of the record with the
// largest timestamp, exactly (the first such record on a tie, as Kafka since KAFKA-16310). Batch headers carry
// their largest timestamp, so a scan reads headers only and decodes the one batch that wins.
//
// The scan is incremental: per partition log it remembers how far it got and the winning batch, so each byte
// is scanned once while the process lives; it starts over only when the winner is gone (retention,
// DeleteRecords, compaction). Control batches (transaction markers) are not records a consumer sees: skipped.
import { iterateBatches, readBatchHeader } from '../../record/index.js'
import type { PartitionLog } from '../../storage/api.js'

interface Scan {
  /** Scanned up to here (exclusive). */
  scannedTo: number
  maxTimestamp: number
  /** Base offset of the first batch holding maxTimestamp; -1 when no record was seen. */
  batchBase: number
}

const scans = new WeakMap<PartitionLog, Scan>()
/** One scan at a time per log: concurrent asks wait for it and share the result. */
const running = new WeakMap<PartitionLog, Promise<unknown>>()

/** Bytes read per step of a scan. */
const SCAN_STEP_BYTES = 1024 * 1024

async function scanTo(log: PartitionLog, scan: Scan, end: number): Promise<void> {
  while (scan.scannedTo < end) {
    const result = await log.read(Math.max(scan.scannedTo, log.logStartOffset), SCAN_STEP_BYTES)
    if (result.chunks.length === 0 || result.nextOffset <= scan.scannedTo) break
    for (const chunk of result.chunks) {
      for (const { position } of iterateBatches(chunk)) {
        const header = readBatchHeader(chunk, position)
        if (header.isControl || header.baseOffset + header.lastOffsetDelta >= end) continue
        if (header.maxTimestamp > scan.maxTimestamp) {
          scan.maxTimestamp = header.maxTimestamp
          scan.batchBase = header.baseOffset
        }
      }
    }
    scan.scannedTo = Math.min(result.nextOffset, end)
  }
}

/** The first record at or after the batch base with the timestamp; undefined if gone. */
async function findRecord(log: PartitionLog, scan: Scan): Promise<{ offset: number; timestamp: number } | undefined> {
  const { records } = await log.readRecords(scan.batchBase, 1)
  const found = records.find((r) => r.offset >= scan.batchBase && r.timestamp === scan.maxTimestamp)
  return found === undefined ? undefined : { offset: found.offset, timestamp: found.timestamp }
}

async function compute(log: PartitionLog): Promise<{ offset: number; timestamp: number } | null> {
  for (let attempt = 0; attempt < 2; attempt++) {
    let scan = scans.get(log)
    if (scan === undefined || (scan.batchBase !== -1 && scan.batchBase < log.logStartOffset) || attempt > 0) {
      scan = { scannedTo: log.logStartOffset, maxTimestamp: -1, batchBase: -1 }
      scans.set(log, scan)
    }
    await scanTo(log, scan, log.highWatermark)
    if (scan.batchBase === -1) return null
    const found = await findRecord(log, scan)
    if (found !== undefined) return found
    // The winning record was removed (compaction): scan again from the start.
  }
  return null
}

/** The record with the largest timestamp below the high watermark, or null for a log without records. */
export async function maxTimestampRecord(log: PartitionLog): Promise<{ offset: number; timestamp: number } | null> {
  const before = running.get(log)
  const next = (before ?? Promise.resolve()).catch(() => {}).then(() => compute(log))
  running.set(log, next)
  try {
    return await next
  } finally {
    if (running.get(log) === next) running.delete(log)
  }
}
