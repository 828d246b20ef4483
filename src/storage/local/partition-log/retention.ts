// Segment-list maintenance of a partition log: DeleteRecords (moving logStartOffset), time/size retention
// and the compaction hook. Each runs through one serial queue so that they never interleave on the segment
// list; only sealed segments are touched, the active one always stays. Plain functions over a narrow view
// of the log's state (LogRetentionView in state.ts).
import { WharfError } from '../../../util/errors.js'
import type { CompactionResult } from '../../api.js'
import { compactLog } from './compaction.js'
import { writeLogStart } from './open.js'
import type { Segment } from './segment.js'
import { type LogRetentionView, sizeBytes } from './state.js'

export async function deleteRecordsBefore(s: LogRetentionView, offset: number): Promise<number> {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > s.highWatermark) {
    throw new WharfError(
      'OFFSET_OUT_OF_RANGE',
      `cannot delete records before ${offset}: high watermark is ${s.highWatermark}`,
    )
  }
  if (offset <= s.logStartOffset) return s.logStartOffset
  s.logStartOffset = offset
  await writeLogStart(s.dir, offset)
  await serial(s, () =>
    deleteSegmentsWhile(s, (_segment, next) => next !== undefined && next.baseOffset <= s.logStartOffset),
  )
  return s.logStartOffset
}

export function enforceRetention(s: LogRetentionView, now: number): Promise<number> {
  const { retentionMs, retentionBytes } = s.config
  return serial(s, () => {
    let size = sizeBytes(s)
    return deleteSegmentsWhile(s, (segment) => {
      const expired = retentionMs >= 0 && segment.maxTimestamp >= 0 && segment.maxTimestamp < now - retentionMs
      const tooBig = retentionBytes >= 0 && size - segment.size >= retentionBytes
      if (expired || tooBig) size -= segment.size
      return expired || tooBig
    })
  })
}

/** Runs segment-list maintenance (retention, compaction) one at a time. */
function serial<T>(s: LogRetentionView, work: () => Promise<T>): Promise<T> {
  const run = s.maintenance.then(work)
  s.maintenance = run.catch(() => {})
  return run
}

/** Deletes sealed segments from the front while `test` holds; the active segment always stays. */
async function deleteSegmentsWhile(
  s: LogRetentionView,
  test: (segment: Segment, next: Segment | undefined) => boolean,
): Promise<number> {
  let deleted = 0
  while (s.segments.length > 1) {
    const segment = s.segments[0]!
    if (!test(segment, s.segments[1])) break
    s.segments.shift()
    deleted++
    await segment.deleteFiles()
  }
  const first = s.segments[0]!.baseOffset
  if (first > s.logStartOffset) {
    s.logStartOffset = first
    await writeLogStart(s.dir, first)
  }
  return deleted
}

export async function compact(s: LogRetentionView, now: number): Promise<CompactionResult> {
  const none: CompactionResult = { segmentsRewritten: 0, recordsRemoved: 0, bytesBefore: 0, bytesAfter: 0 }
  if (!s.config.compact || s.segments.length < 2) return none
  return serial(s, () =>
    compactLog(s.dir, s.segments.slice(0, -1), s.config, now, (replacements) => {
      // Swap in the rewritten sealed segments; segments deleted by retention meanwhile stay deleted.
      s.segments = s.segments.map((segment) => replacements.get(segment) ?? segment)
    }),
  )
}
