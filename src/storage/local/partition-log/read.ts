// The read path of a partition log: finding the segment of an offset, reading whole stored batches up to the
// high watermark (never a byte a crash could take back), and timestamp lookup. Plain functions over a
// read-only view of the log's state (LogReadView in state.ts): reads never change it.
import type { Record as LogRecord } from '../../../record/index.js'
import { assert } from '../../../util/assert.js'
import { WharfError } from '../../../util/errors.js'
import type { ReadResult } from '../../api.js'
import { decodeRecords } from './append-check.js'
import { findRecordAtTimestamp } from './log-scan.js'
import { BATCH, parseStoredBatch, readInt64, type Segment } from './segment.js'
import type { LogReadView } from './state.js'

function segmentIndexFor(s: LogReadView, offset: number): number {
  let lo = 0
  let hi = s.segments.length - 1
  let found = 0
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    if (s.segments[mid]!.baseOffset <= offset) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

/** Readable byte limit of a segment: whole for sealed ones below the watermark, else the visible size. */
function readLimit(s: LogReadView, segment: Segment): number {
  if (segment === s.visibleSegment) return s.visibleSize
  return segment.baseOffset < (s.visibleSegment?.baseOffset ?? 0) ? segment.size : 0
}

export async function read(s: LogReadView, fromOffset: number, maxBytes: number): Promise<ReadResult> {
  if (s.closed) throw new WharfError('LOG_CLOSED', `log ${s.name} is closed`)
  const empty = (): ReadResult => ({
    chunks: [],
    bytes: 0,
    nextOffset: fromOffset,
    logStartOffset: s.logStartOffset,
    highWatermark: s.highWatermark,
  })
  if (!Number.isSafeInteger(fromOffset) || fromOffset < s.logStartOffset || fromOffset > s.highWatermark) {
    throw new WharfError(
      'OFFSET_OUT_OF_RANGE',
      `offset ${fromOffset} is outside [${s.logStartOffset}, ${s.highWatermark}] of ${s.name}`,
    )
  }
  for (let i = segmentIndexFor(s, fromOffset); i < s.segments.length; i++) {
    if (fromOffset >= s.highWatermark) return empty()
    const segment = s.segments[i]!
    const found = await readSegment(s, segment, fromOffset, Math.max(1, maxBytes))
    if (found !== null) return { ...found, logStartOffset: s.logStartOffset, highWatermark: s.highWatermark }
    // Nothing at or after fromOffset in this segment (compaction gaps): continue with the next one.
  }
  return empty()
}

export async function readRecords(
  s: LogReadView,
  fromOffset: number,
  maxBytes: number,
): Promise<{ records: LogRecord[]; nextOffset: number }> {
  const result = await read(s, fromOffset, maxBytes)
  return { records: decodeRecords(result.chunks, fromOffset), nextOffset: result.nextOffset }
}

async function readSegment(s: LogReadView, segment: Segment, fromOffset: number, maxBytes: number) {
  const limit = readLimit(s, segment)
  let position = segment.positionFor(fromOffset)
  if (position >= limit) return null
  const pooled = await s.pool.acquire(segment.logPath)
  try {
    const window = Math.max(maxBytes, 64 * 1024) + s.config.indexIntervalBytes
    while (position < limit) {
      const buf = Buffer.allocUnsafe(Math.min(window, limit - position))
      const { bytesRead } = await pooled.handle.read(buf, 0, buf.length, position)
      const view = buf.subarray(0, bytesRead)
      let at = 0
      let start = -1
      let lastOffset = -1
      while (view.length - at >= BATCH.headerBytes) {
        const size = BATCH.lengthPrefixBytes + view.readInt32BE(at + BATCH.batchLength)
        const base = readInt64(view, at + BATCH.baseOffset)
        const last = base + view.readInt32BE(at + BATCH.lastOffsetDelta)
        if (start === -1 && last < fromOffset) {
          if (at + size > view.length) break
          at += size
          continue
        }
        if (at + size > view.length) break // partial batch: stop before it
        if (start !== -1 && at + size - start > maxBytes) break
        if (start === -1) start = at
        lastOffset = last
        at += size
      }
      if (start !== -1) {
        return { chunks: [view.subarray(start, at)], bytes: at - start, nextOffset: lastOffset + 1 }
      }
      if (at === 0) {
        // One batch larger than the window: read exactly that batch.
        const size = BATCH.lengthPrefixBytes + view.readInt32BE(BATCH.batchLength)
        assert(size > view.length && position + size <= limit, 'stored batch overruns its segment')
        const whole = Buffer.allocUnsafe(size)
        await pooled.handle.read(whole, 0, size, position)
        const info = parseStoredBatch(whole, 0, Number.MAX_SAFE_INTEGER, false)
        assert(info !== null, 'stored batch unreadable')
        if (info.lastOffset >= fromOffset) return { chunks: [whole], bytes: size, nextOffset: info.lastOffset + 1 }
        position += size
        continue
      }
      position += at
    }
    return null
  } finally {
    pooled.release()
  }
}

export async function offsetForTimestamp(s: LogReadView, timestamp: number): Promise<number | null> {
  for (const segment of s.segments) {
    if (segment.maxTimestamp < timestamp || readLimit(s, segment) === 0) continue
    const found = await findRecordAtTimestamp(segment, readLimit(s, segment), timestamp)
    if (found !== null) return Math.max(found, s.logStartOffset)
  }
  return null
}
