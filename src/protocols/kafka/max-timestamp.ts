// ListOffsets with timestamp -3 (MAX_TIMESTAMP, KIP-734): the offset and timestamp of the record with the
// largest timestamp, exactly (the first such record on a tie). Batch headers carry
// their largest timestamp, so a scan reads headers only and decodes the one batch that wins.
//
// The scan is incremental: per partition log it remembers how far it got and where the winner is, so each byte
// is scanned once while the process lives; it starts over only when the winner is gone (retention,
// DeleteRecords, compaction). Control batches (transaction markers) are not records a consumer sees: skipped.
import { iterateBatches, readBatchHeader } from '../../record/index.js'
import type { PartitionLog } from '../../storage/api.js'

interface Scan {
  /** Scanned up to here (exclusive). */
  scannedTo: number
  maxTimestamp: number
  /** The first record with maxTimestamp is at or after this offset (its batch's base); -1 when none was seen. */
  from: number
}

const scans = new WeakMap<PartitionLog, Scan>()
/** One scan at a time per log: a concurrent ask waits, then finds the scan done up to where it got. */
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
          scan.from = header.baseOffset
        }
      }
    }
    scan.scannedTo = Math.min(result.nextOffset, end)
  }
}

/**
 * A new scan. The batch holding the log start offset may hold deleted records before it, whose timestamps its
 * header still counts: that batch is decoded, and only its records from the log start count.
 */
async function startScan(log: PartitionLog, end: number): Promise<Scan> {
  const start = log.logStartOffset
  const scan: Scan = { scannedTo: start, maxTimestamp: -1, from: -1 }
  if (start >= end) return scan
  const { records, nextOffset } = await log.readRecords(start, 1)
  for (const r of records) {
    if (r.offset >= end) break
    if (r.offset >= start && r.timestamp > scan.maxTimestamp) {
      scan.maxTimestamp = r.timestamp
      scan.from = r.offset
    }
  }
  scan.scannedTo = Math.min(Math.max(nextOffset, start), end)
  return scan
}

/** The first record at or after `from` with the winning timestamp; undefined if it is gone. */
async function findRecord(log: PartitionLog, scan: Scan): Promise<{ offset: number; timestamp: number } | undefined> {
  const from = Math.max(scan.from, log.logStartOffset)
  const { records } = await log.readRecords(from, 1)
  const found = records.find((r) => r.offset >= from && r.timestamp === scan.maxTimestamp)
  return found === undefined ? undefined : { offset: found.offset, timestamp: found.timestamp }
}

async function compute(log: PartitionLog): Promise<{ offset: number; timestamp: number } | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const end = log.highWatermark
    let scan = scans.get(log)
    // Records below the log start were deleted: if the scan counted any of them, it starts over.
    const start = log.logStartOffset
    if (scan === undefined || attempt > 0 || scan.scannedTo < start || (scan.from !== -1 && scan.from < start)) {
      scan = await startScan(log, end)
      scans.set(log, scan)
    }
    try {
      await scanTo(log, scan, end)
      if (scan.from === -1) return null
      const found = await findRecord(log, scan)
      if (found !== undefined) return found
    } catch (error) {
      // Retention or DeleteRecords moved the log start during the scan: start over.
      if (log.logStartOffset <= scan.from || attempt === 2) throw error
    }
    // The winning record was removed (compaction, deletion): scan again from the start.
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
