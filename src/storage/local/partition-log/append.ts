// The append pipeline of a partition log (group commit): callers get offsets at once, and a single flush
// loop writes everything queued since the last flush with one writev and (durability 'always') one
// fdatasync, then resolves every caller in the group. Also segment rolling, failure handling (a failed write
// or sync cuts the file back and hands the void offsets out again) and the 'interval' durability timer.
// Plain functions over the log's LogState (state.ts); the await order here is what keeps
// acknowledged appends durable and offsets dense, so change it only with the crash tests at hand.
import { encodeBatch, type RecordInput } from '../../../record/index.js'
import { toStorageError, WharfError } from '../../../util/errors.js'
import type { AppendResult } from '../../api.js'
import { assignOffsets } from './append-check.js'
import { createSegmentFile } from './open.js'
import { type BatchInfo, Segment } from './segment.js'
import { activeSegment, type InflightWrite, type LogState, type PendingAppend } from './state.js'

const IOV_MAX = 1024
/** Writes in flight at once: the next group's writev overlaps the previous group's fdatasync. */
const PIPELINE_DEPTH = 2
/**
 * Under durability 'never' a big burst is split into writes of about this size so the pipeline keeps
 * moving; under 'always' a whole burst is one write (fewer, larger fdatasyncs are what group commit is for).
 */
const WRITE_BYTES_TARGET = 512 * 1024

export function append(s: LogState, batches: Buffer[]): Promise<AppendResult> {
  if (s.closed) return Promise.reject(new WharfError('LOG_CLOSED', `log ${s.name} is closed`))
  let infos: BatchInfo[]
  try {
    infos = assignOffsets(batches, s.nextOffset, s.config.maxBatchBytes)
  } catch (error) {
    return Promise.reject(error)
  }
  const offset = infos[infos.length - 1]!.lastOffset + 1
  const result: AppendResult = { baseOffset: s.nextOffset, lastOffset: offset - 1, appendTime: Date.now() }
  s.nextOffset = offset
  return new Promise<AppendResult>((resolve, reject) => {
    s.pending.push({ buffers: batches, infos, result, resolve, reject })
    if (s.flushing === null) s.flushing = flushLoop(s)
  })
}

export function appendRecords(s: LogState, records: RecordInput[]): Promise<AppendResult> {
  let batch: Buffer
  try {
    batch = encodeBatch(records)
  } catch (error) {
    return Promise.reject(error)
  }
  return append(s, [batch])
}

/**
 * The flush pipeline: up to PIPELINE_DEPTH writes are in flight at once, so the next group's writev runs
 * while the previous one is being fdatasync'ed. Writes are issued in offset order at known file positions;
 * they settle (sync, publish, resolve) strictly in order.
 */
async function flushLoop(s: LogState): Promise<void> {
  // Let every append issued in this tick join the first group.
  await Promise.resolve()
  let group: PendingAppend[] = []
  try {
    while (s.pending.length > 0 || s.inflight.length > 0) {
      if (s.pending.length > 0 && s.inflight.length < PIPELINE_DEPTH) {
        group = takeGroup(s)
        await issue(s, group)
      } else {
        await settle(s)
      }
    }
  } catch (error) {
    // Something outside a write failed (a roll's fsync or file creation): nobody awaits this loop, so the
    // error must end here — fail every append that is not yet durable, never the process.
    await abandon(s, group, error)
  } finally {
    s.flushing = null
  }
}

/** Fails every append not yet settled and cuts the active segment back to its published size. */
async function abandon(s: LogState, group: PendingAppend[], error: unknown): Promise<void> {
  s.failures++
  const typed = toStorageError(error, `append to ${s.name}`)
  const inflight = s.inflight.splice(0)
  await Promise.allSettled(inflight.map((e) => e.write))
  // Rejecting an append that already resolved is a no-op, so the whole group can be rejected.
  for (const entry of inflight) for (const pending of entry.completes) pending.reject(typed)
  for (const pending of group) pending.reject(typed)
  for (const pending of s.pending.splice(0)) pending.reject(typed)
  const segment = activeSegment(s)
  const published = s.visibleSegment === segment
  const safeSize = published ? s.visibleSize : 0
  const safeOffset = published ? s.highWatermark : segment.baseOffset
  if (segment.size > safeSize) {
    segment.rewind(safeSize, safeOffset)
    await truncateQuietly(s, segment, safeSize)
  }
  s.nextOffset = segment.nextOffset
}

async function truncateQuietly(s: LogState, segment: Segment, size: number): Promise<void> {
  try {
    const pooled = await s.pool.acquire(segment.logPath)
    await pooled.handle.truncate(size).catch(() => {})
    pooled.release()
  } catch {
    // The file cannot even be opened: recovery on the next open truncates the tail instead.
  }
}

/** Takes pending appends from the front, about WRITE_BYTES_TARGET worth (at least one). */
function takeGroup(s: LogState): PendingAppend[] {
  if (s.config.durability === 'always') {
    const all = s.pending
    s.pending = []
    return all
  }
  let bytes = 0
  let count = 0
  while (count < s.pending.length && bytes < WRITE_BYTES_TARGET) {
    for (const info of s.pending[count]!.infos) bytes += info.size
    count++
  }
  if (count === s.pending.length) {
    const all = s.pending
    s.pending = []
    return all
  }
  return s.pending.splice(0, count)
}

/** Starts the writes of a group (rolling segments on the way); registers them as in flight. */
async function issue(s: LogState, group: PendingAppend[]): Promise<void> {
  const now = Date.now()
  let buffers: Buffer[] = []
  let completes: PendingAppend[] = []
  let start = activeSegment(s).size
  for (const pending of group) {
    for (let i = 0; i < pending.buffers.length; i++) {
      const info = pending.infos[i]!
      const active = activeSegment(s)
      const tooBig = active.size > 0 && active.size + info.size > s.config.segmentBytes
      const tooOld = active.size > 0 && now - active.createdAt > s.config.segmentMs
      if (tooBig || tooOld) {
        startWrite(s, active, start, buffers, completes)
        buffers = []
        completes = []
        // A roll needs everything before it settled (synced) first.
        const failures = s.failures
        while (s.inflight.length > 0) await settle(s)
        if (s.failures !== failures) return rejectRest(s, group, pending)
        await roll(s, info.baseOffset)
        start = 0
      }
      const segment = activeSegment(s)
      if (segment.size === 0) segment.createdAt = now
      info.position = segment.size
      segment.track(info)
      buffers.push(pending.buffers[i]!)
    }
    completes.push(pending)
  }
  startWrite(s, activeSegment(s), start, buffers, completes)
}

function startWrite(
  s: LogState,
  segment: Segment,
  position: number,
  buffers: Buffer[],
  completes: PendingAppend[],
): void {
  if (buffers.length === 0 && completes.length === 0) return
  const entry: InflightWrite = {
    segment,
    startSize: position,
    endSize: segment.size,
    endOffset: segment.nextOffset,
    completes,
    done: false,
    write: writeAt(s, segment, position, buffers),
  }
  entry.write.then(
    () => {
      entry.done = true
    },
    () => {},
  )
  s.inflight.push(entry)
}

async function writeAt(s: LogState, segment: Segment, position: number, buffers: Buffer[]): Promise<void> {
  if (buffers.length === 0) return
  const pooled = await s.pool.acquire(segment.logPath)
  try {
    for (let start = 0; start < buffers.length; start += IOV_MAX) {
      let chunk = buffers.slice(start, start + IOV_MAX)
      let want = 0
      for (const b of chunk) want += b.length
      while (want > 0) {
        const { bytesWritten } = await pooled.handle.writev(chunk, position)
        position += bytesWritten
        want -= bytesWritten
        if (want > 0) chunk = dropBytes(chunk, bytesWritten)
      }
    }
  } finally {
    pooled.release()
  }
}

/** Settles the oldest in-flight write and every later one that already completed, under one fdatasync. */
async function settle(s: LogState): Promise<void> {
  const first = s.inflight[0]
  if (first === undefined) return
  let count = 1
  try {
    await first.write
    while (count < s.inflight.length && s.inflight[count]!.done && s.inflight[count]!.segment === first.segment) count++
    if (s.config.durability === 'always') await sync(s, first.segment)
    else s.dirty = true
  } catch (error) {
    await fail(s, error)
    return
  }
  const settled = s.inflight.splice(0, count)
  const last = settled[settled.length - 1]!
  publish(s, last.segment, last.endSize, last.endOffset)
  for (const entry of settled) for (const pending of entry.completes) pending.resolve(pending.result)
}

/**
 * A write or sync failed: every in-flight and queued append fails (their offsets were never made
 * durable), the file is cut back to the last settled size, and offsets are handed out again from there.
 */
async function fail(s: LogState, error: unknown): Promise<void> {
  s.failures++
  const failed = s.inflight.splice(0)
  await Promise.allSettled(failed.map((e) => e.write))
  const segment = failed[0]!.segment
  const safeSize = failed[0]!.startSize
  const safeOffset = s.visibleSegment === segment ? s.highWatermark : segment.baseOffset
  segment.rewind(safeSize, Math.max(safeOffset, segment.baseOffset))
  await truncateQuietly(s, segment, safeSize)
  s.nextOffset = segment.nextOffset
  const typed = toStorageError(error, `append to ${s.name}`)
  for (const entry of failed) for (const pending of entry.completes) pending.reject(typed)
  for (const pending of s.pending.splice(0)) pending.reject(typed)
}

function rejectRest(s: LogState, group: PendingAppend[], from: PendingAppend): void {
  const error = new WharfError('IO_ERROR', `append to ${s.name} failed earlier in this group`)
  for (const pending of group.slice(group.indexOf(from))) pending.reject(error)
}

export async function sync(s: LogState, segment: Segment): Promise<void> {
  const pooled = await s.pool.acquire(segment.logPath)
  try {
    const started = performance.now()
    await pooled.handle.datasync()
    s.hooks.synced?.((performance.now() - started) / 1000)
  } finally {
    pooled.release()
  }
}

/** Makes everything up to (segment, size, offset) visible to readers and wakes tailing readers. */
function publish(s: LogState, segment: Segment, size: number, nextOffset: number): void {
  s.visibleSegment = segment
  s.visibleSize = size
  if (nextOffset === s.highWatermark) return
  s.highWatermark = nextOffset
  for (const listener of s.listeners) listener(nextOffset)
}

async function roll(s: LogState, baseOffset: number): Promise<void> {
  const old = activeSegment(s)
  await sync(s, old)
  old.sealed = true
  await old.writeIndexes()
  const segment = new Segment(s.dir, baseOffset, s.pool, s.config.indexIntervalBytes)
  await createSegmentFile(s, segment)
  s.segments.push(segment)
}

export function startIntervalTimer(s: LogState): void {
  if (s.intervalTimer !== null) clearInterval(s.intervalTimer)
  s.intervalTimer = null
  if (s.config.durability !== 'interval') return
  s.intervalTimer = setInterval(() => {
    if (s.dirty && !s.closed)
      void flush(s).catch((error) => s.hooks.warn('interval flush failed', { log: s.name, error: String(error) }))
  }, s.config.flushIntervalMs)
  s.intervalTimer.unref()
}

export async function flush(s: LogState): Promise<void> {
  while (s.flushing !== null) await s.flushing
  if (!s.dirty) return
  s.dirty = false
  await sync(s, activeSegment(s))
}

/** Drops the first `bytes` bytes from a list of buffers (after a partial writev). */
function dropBytes(buffers: Buffer[], bytes: number): Buffer[] {
  const out: Buffer[] = []
  let skip = bytes
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length
      continue
    }
    out.push(skip > 0 ? b.subarray(skip) : b)
    skip = 0
  }
  return out
}
