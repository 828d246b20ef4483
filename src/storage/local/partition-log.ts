// A partition log: an ordered list of segments, of which the last is active. Appends are group-committed:
// callers get offsets at once, and a single flush loop writes everything queued since the last flush with
// one writev and (durability 'always') one fdatasync, then resolves every caller in the group.
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { encodeBatch, type Record as LogRecord, type RecordInput } from '../../record/index.js'
import { assert } from '../../util/assert.js'
import { toStorageError, WharfError } from '../../util/errors.js'
import type { AppendResult, CompactionResult, LogConfig, PartitionLog, ReadResult } from '../api.js'
import { assignOffsets, decodeRecords } from './append-check.js'
import { compactLog } from './compaction.js'
import { type FilePool, fsyncDirectory } from './file-pool.js'
import { findRecordAtTimestamp } from './log-scan.js'
import { BATCH, type BatchInfo, parseStoredBatch, readInt64, Segment, writeInt64 } from './segment.js'

const IOV_MAX = 1024
/** Writes in flight at once: the next group's writev overlaps the previous group's fdatasync. */
const PIPELINE_DEPTH = 2
/**
 * Under durability 'never' a big burst is split into writes of about this size so the pipeline keeps
 * moving; under 'always' a whole burst is one write (fewer, larger fdatasyncs are what group commit is for).
 */
const WRITE_BYTES_TARGET = 512 * 1024
const LOG_START_FILE = 'log-start-offset'

interface InflightWrite {
  segment: Segment
  startSize: number
  endSize: number
  endOffset: number
  /** Appends whose last batch is in this write: resolved when it settles. */
  completes: PendingAppend[]
  write: Promise<void>
  done: boolean
}

interface PendingAppend {
  buffers: Buffer[]
  infos: BatchInfo[]
  result: AppendResult
  resolve: (result: AppendResult) => void
  reject: (error: unknown) => void
}

export interface LogHooks {
  warn(message: string, details?: Record<string, unknown>): void
}

export class LocalPartitionLog implements PartitionLog {
  readonly name: string
  readonly dir: string
  #config: LogConfig
  readonly #pool: FilePool
  readonly #hooks: LogHooks
  #segments: Segment[] = []
  #logStartOffset = 0
  #nextOffset = 0
  #highWatermark = 0
  /** Active-segment byte size at the high watermark: readers never see beyond it. */
  #visibleSize = 0
  #visibleSegment: Segment | null = null
  #pending: PendingAppend[] = []
  readonly #inflight: InflightWrite[] = []
  /** Incremented by every failed write: lets an issue in progress notice that its offsets are void. */
  #failures = 0
  #flushing: Promise<void> | null = null
  #closed = false
  #intervalTimer: NodeJS.Timeout | null = null
  #dirty = false
  readonly #listeners = new Set<(nextOffset: number) => void>()
  #maintenance: Promise<unknown> = Promise.resolve()

  private constructor(dir: string, name: string, config: LogConfig, pool: FilePool, hooks: LogHooks) {
    this.dir = dir
    this.name = name
    this.#config = config
    this.#pool = pool
    this.#hooks = hooks
  }

  static async open(
    dir: string,
    name: string,
    config: LogConfig,
    pool: FilePool,
    hooks: LogHooks,
  ): Promise<LocalPartitionLog> {
    const log = new LocalPartitionLog(dir, name, config, pool, hooks)
    await log.#load()
    log.#startIntervalTimer()
    return log
  }

  get logStartOffset(): number {
    return this.#logStartOffset
  }
  get nextOffset(): number {
    return this.#nextOffset
  }
  get highWatermark(): number {
    return this.#highWatermark
  }
  get sizeBytes(): number {
    let total = 0
    for (const segment of this.#segments) total += segment.size
    return total
  }
  get segmentCount(): number {
    return this.#segments.length
  }
  get config(): Readonly<LogConfig> {
    return this.#config
  }
  /** For tests and admin views: the segments' base offsets. */
  get segmentBaseOffsets(): number[] {
    return this.#segments.map((s) => s.baseOffset)
  }

  get #active(): Segment {
    return this.#segments[this.#segments.length - 1]!
  }

  async #load(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true })
    const names = await fs.readdir(this.dir)
    await compactLog.recoverInterrupted(this.dir, names)
    const bases = (await fs.readdir(this.dir))
      .filter((n) => /^\d{20}\.log$/.test(n))
      .map((n) => Number(n.slice(0, 20)))
      .sort((a, b) => a - b)
    const checkpoint = await readLogStart(this.dir)
    if (bases.length === 0) {
      const segment = new Segment(this.dir, checkpoint, this.#pool, this.#config.indexIntervalBytes)
      await this.#createFile(segment)
      this.#segments = [segment]
    } else {
      for (let i = 0; i < bases.length; i++) {
        const segment = new Segment(this.dir, bases[i]!, this.#pool, this.#config.indexIntervalBytes)
        if (i < bases.length - 1) {
          await segment.openSealed(bases[i + 1]!, this.#config.maxBatchBytes)
        } else {
          const cut = await segment.recover(this.#config.maxBatchBytes)
          if (cut > 0) {
            this.#hooks.warn('truncated torn or corrupt log tail', {
              log: this.name,
              segment: segment.baseOffset,
              bytesTruncated: cut,
              validBytes: segment.size,
              nextOffset: segment.nextOffset,
            })
          }
        }
        this.#segments.push(segment)
      }
    }
    const active = this.#active
    this.#nextOffset = active.nextOffset
    this.#highWatermark = active.nextOffset
    this.#visibleSegment = active
    this.#visibleSize = active.size
    this.#logStartOffset = Math.min(Math.max(checkpoint, this.#segments[0]!.baseOffset), this.#nextOffset)
  }

  async #createFile(segment: Segment): Promise<void> {
    const pooled = await this.#pool.acquire(segment.logPath, true)
    pooled.release()
    await fsyncDirectory(this.dir)
  }

  // ---- append path ----

  append(batches: Buffer[]): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new WharfError('LOG_CLOSED', `log ${this.name} is closed`))
    let infos: BatchInfo[]
    try {
      infos = assignOffsets(batches, this.#nextOffset, this.#config.maxBatchBytes)
    } catch (error) {
      return Promise.reject(error)
    }
    const offset = infos[infos.length - 1]!.lastOffset + 1
    const result: AppendResult = { baseOffset: this.#nextOffset, lastOffset: offset - 1, appendTime: Date.now() }
    this.#nextOffset = offset
    return new Promise<AppendResult>((resolve, reject) => {
      this.#pending.push({ buffers: batches, infos, result, resolve, reject })
      if (this.#flushing === null) this.#flushing = this.#flushLoop()
    })
  }

  appendRecords(records: RecordInput[]): Promise<AppendResult> {
    let batch: Buffer
    try {
      batch = encodeBatch(records)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.append([batch])
  }

  async readRecords(fromOffset: number, maxBytes: number): Promise<{ records: LogRecord[]; nextOffset: number }> {
    const result = await this.read(fromOffset, maxBytes)
    return { records: decodeRecords(result.chunks, fromOffset), nextOffset: result.nextOffset }
  }

  /**
   * The flush pipeline: up to PIPELINE_DEPTH writes are in flight at once, so the next group's writev runs
   * while the previous one is being fdatasync'ed. Writes are issued in offset order at known file positions;
   * they settle (sync, publish, resolve) strictly in order.
   */
  async #flushLoop(): Promise<void> {
    // Let every append issued in this tick join the first group.
    await Promise.resolve()
    let group: PendingAppend[] = []
    try {
      while (this.#pending.length > 0 || this.#inflight.length > 0) {
        if (this.#pending.length > 0 && this.#inflight.length < PIPELINE_DEPTH) {
          group = this.#takeGroup()
          await this.#issue(group)
        } else {
          await this.#settle()
        }
      }
    } catch (error) {
      // Something outside a write failed (a roll's fsync or file creation): nobody awaits this loop, so the
      // error must end here — fail every append that is not yet durable, never the process.
      await this.#abandon(group, error)
    } finally {
      this.#flushing = null
    }
  }

  /** Fails every append not yet settled and cuts the active segment back to its published size. */
  async #abandon(group: PendingAppend[], error: unknown): Promise<void> {
    this.#failures++
    const typed = toStorageError(error, `append to ${this.name}`)
    const inflight = this.#inflight.splice(0)
    await Promise.allSettled(inflight.map((e) => e.write))
    // Rejecting an append that already resolved is a no-op, so the whole group can be rejected.
    for (const entry of inflight) for (const pending of entry.completes) pending.reject(typed)
    for (const pending of group) pending.reject(typed)
    for (const pending of this.#pending.splice(0)) pending.reject(typed)
    const segment = this.#active
    const published = this.#visibleSegment === segment
    const safeSize = published ? this.#visibleSize : 0
    const safeOffset = published ? this.#highWatermark : segment.baseOffset
    if (segment.size > safeSize) {
      segment.rewind(safeSize, safeOffset)
      await this.#truncateQuietly(segment, safeSize)
    }
    this.#nextOffset = segment.nextOffset
  }

  async #truncateQuietly(segment: Segment, size: number): Promise<void> {
    try {
      const pooled = await this.#pool.acquire(segment.logPath)
      await pooled.handle.truncate(size).catch(() => {})
      pooled.release()
    } catch {
      // The file cannot even be opened: recovery on the next open truncates the tail instead.
    }
  }

  /** Takes pending appends from the front, about WRITE_BYTES_TARGET worth (at least one). */
  #takeGroup(): PendingAppend[] {
    if (this.#config.durability === 'always') {
      const all = this.#pending
      this.#pending = []
      return all
    }
    let bytes = 0
    let count = 0
    while (count < this.#pending.length && bytes < WRITE_BYTES_TARGET) {
      for (const info of this.#pending[count]!.infos) bytes += info.size
      count++
    }
    if (count === this.#pending.length) {
      const all = this.#pending
      this.#pending = []
      return all
    }
    return this.#pending.splice(0, count)
  }

  /** Starts the writes of a group (rolling segments on the way); registers them as in flight. */
  async #issue(group: PendingAppend[]): Promise<void> {
    const now = Date.now()
    let buffers: Buffer[] = []
    let completes: PendingAppend[] = []
    let start = this.#active.size
    for (const pending of group) {
      for (let i = 0; i < pending.buffers.length; i++) {
        const info = pending.infos[i]!
        const active = this.#active
        const tooBig = active.size > 0 && active.size + info.size > this.#config.segmentBytes
        const tooOld = active.size > 0 && now - active.createdAt > this.#config.segmentMs
        if (tooBig || tooOld) {
          this.#startWrite(active, start, buffers, completes)
          buffers = []
          completes = []
          // A roll needs everything before it settled (synced) first.
          const failures = this.#failures
          while (this.#inflight.length > 0) await this.#settle()
          if (this.#failures !== failures) return this.#rejectRest(group, pending)
          await this.#roll(info.baseOffset)
          start = 0
        }
        const segment = this.#active
        if (segment.size === 0) segment.createdAt = now
        info.position = segment.size
        segment.track(info)
        buffers.push(pending.buffers[i]!)
      }
      completes.push(pending)
    }
    this.#startWrite(this.#active, start, buffers, completes)
  }

  #startWrite(segment: Segment, position: number, buffers: Buffer[], completes: PendingAppend[]): void {
    if (buffers.length === 0 && completes.length === 0) return
    const entry: InflightWrite = {
      segment,
      startSize: position,
      endSize: segment.size,
      endOffset: segment.nextOffset,
      completes,
      done: false,
      write: this.#writeAt(segment, position, buffers),
    }
    entry.write.then(
      () => {
        entry.done = true
      },
      () => {},
    )
    this.#inflight.push(entry)
  }

  async #writeAt(segment: Segment, position: number, buffers: Buffer[]): Promise<void> {
    if (buffers.length === 0) return
    const pooled = await this.#pool.acquire(segment.logPath)
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
  async #settle(): Promise<void> {
    const first = this.#inflight[0]
    if (first === undefined) return
    let count = 1
    try {
      await first.write
      while (
        count < this.#inflight.length &&
        this.#inflight[count]!.done &&
        this.#inflight[count]!.segment === first.segment
      )
        count++
      if (this.#config.durability === 'always') await this.#sync(first.segment)
      else this.#dirty = true
    } catch (error) {
      await this.#fail(error)
      return
    }
    const settled = this.#inflight.splice(0, count)
    const last = settled[settled.length - 1]!
    this.#publish(last.segment, last.endSize, last.endOffset)
    for (const entry of settled) for (const pending of entry.completes) pending.resolve(pending.result)
  }

  /**
   * A write or sync failed: every in-flight and queued append fails (their offsets were never made
   * durable), the file is cut back to the last settled size, and offsets are handed out again from there.
   */
  async #fail(error: unknown): Promise<void> {
    this.#failures++
    const failed = this.#inflight.splice(0)
    await Promise.allSettled(failed.map((e) => e.write))
    const segment = failed[0]!.segment
    const safeSize = failed[0]!.startSize
    const safeOffset = this.#visibleSegment === segment ? this.#highWatermark : segment.baseOffset
    segment.rewind(safeSize, Math.max(safeOffset, segment.baseOffset))
    await this.#truncateQuietly(segment, safeSize)
    this.#nextOffset = segment.nextOffset
    const typed = toStorageError(error, `append to ${this.name}`)
    for (const entry of failed) for (const pending of entry.completes) pending.reject(typed)
    for (const pending of this.#pending.splice(0)) pending.reject(typed)
  }

  #rejectRest(group: PendingAppend[], from: PendingAppend): void {
    const error = new WharfError('IO_ERROR', `append to ${this.name} failed earlier in this group`)
    for (const pending of group.slice(group.indexOf(from))) pending.reject(error)
  }

  async #sync(segment: Segment): Promise<void> {
    const pooled = await this.#pool.acquire(segment.logPath)
    try {
      await pooled.handle.datasync()
    } finally {
      pooled.release()
    }
  }

  /** Makes everything up to (segment, size, offset) visible to readers and wakes tailing readers. */
  #publish(segment: Segment, size: number, nextOffset: number): void {
    this.#visibleSegment = segment
    this.#visibleSize = size
    if (nextOffset === this.#highWatermark) return
    this.#highWatermark = nextOffset
    for (const listener of this.#listeners) listener(nextOffset)
  }

  async #roll(baseOffset: number): Promise<void> {
    const old = this.#active
    await this.#sync(old)
    old.sealed = true
    await old.writeIndexes()
    const segment = new Segment(this.dir, baseOffset, this.#pool, this.#config.indexIntervalBytes)
    await this.#createFile(segment)
    this.#segments.push(segment)
  }

  #startIntervalTimer(): void {
    if (this.#intervalTimer !== null) clearInterval(this.#intervalTimer)
    this.#intervalTimer = null
    if (this.#config.durability !== 'interval') return
    this.#intervalTimer = setInterval(() => {
      if (this.#dirty && !this.#closed)
        void this.flush().catch((error) =>
          this.#hooks.warn('interval flush failed', { log: this.name, error: String(error) }),
        )
    }, this.#config.flushIntervalMs)
    this.#intervalTimer.unref()
  }

  async flush(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing
    if (!this.#dirty) return
    this.#dirty = false
    await this.#sync(this.#active)
  }

  // ---- read path ----

  onAppend(listener: (nextOffset: number) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #segmentIndexFor(offset: number): number {
    let lo = 0
    let hi = this.#segments.length - 1
    let found = 0
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.#segments[mid]!.baseOffset <= offset) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  /** Readable byte limit of a segment: whole for sealed ones below the watermark, else the visible size. */
  #readLimit(segment: Segment): number {
    if (segment === this.#visibleSegment) return this.#visibleSize
    return segment.baseOffset < (this.#visibleSegment?.baseOffset ?? 0) ? segment.size : 0
  }

  async read(fromOffset: number, maxBytes: number): Promise<ReadResult> {
    if (this.#closed) throw new WharfError('LOG_CLOSED', `log ${this.name} is closed`)
    const empty = (): ReadResult => ({
      chunks: [],
      bytes: 0,
      nextOffset: fromOffset,
      logStartOffset: this.#logStartOffset,
      highWatermark: this.#highWatermark,
    })
    if (!Number.isSafeInteger(fromOffset) || fromOffset < this.#logStartOffset || fromOffset > this.#highWatermark) {
      throw new WharfError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${fromOffset} is outside [${this.#logStartOffset}, ${this.#highWatermark}] of ${this.name}`,
      )
    }
    for (let i = this.#segmentIndexFor(fromOffset); i < this.#segments.length; i++) {
      if (fromOffset >= this.#highWatermark) return empty()
      const segment = this.#segments[i]!
      const found = await this.#readSegment(segment, fromOffset, Math.max(1, maxBytes))
      if (found !== null) return { ...found, logStartOffset: this.#logStartOffset, highWatermark: this.#highWatermark }
      // Nothing at or after fromOffset in this segment (compaction gaps): continue with the next one.
    }
    return empty()
  }

  async #readSegment(segment: Segment, fromOffset: number, maxBytes: number) {
    const limit = this.#readLimit(segment)
    let position = segment.positionFor(fromOffset)
    if (position >= limit) return null
    const pooled = await this.#pool.acquire(segment.logPath)
    try {
      const window = Math.max(maxBytes, 64 * 1024) + this.#config.indexIntervalBytes
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

  async offsetForTimestamp(timestamp: number): Promise<number | null> {
    for (const segment of this.#segments) {
      if (segment.maxTimestamp < timestamp || this.#readLimit(segment) === 0) continue
      const found = await findRecordAtTimestamp(segment, this.#readLimit(segment), timestamp)
      if (found !== null) return Math.max(found, this.#logStartOffset)
    }
    return null
  }

  // ---- retention ----

  async deleteRecordsBefore(offset: number): Promise<number> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.#highWatermark) {
      throw new WharfError(
        'OFFSET_OUT_OF_RANGE',
        `cannot delete records before ${offset}: high watermark is ${this.#highWatermark}`,
      )
    }
    if (offset <= this.#logStartOffset) return this.#logStartOffset
    this.#logStartOffset = offset
    await writeLogStart(this.dir, offset)
    await this.#serial(() =>
      this.#deleteSegmentsWhile((_segment, next) => next !== undefined && next.baseOffset <= this.#logStartOffset),
    )
    return this.#logStartOffset
  }

  enforceRetention(now = Date.now()): Promise<number> {
    const { retentionMs, retentionBytes } = this.#config
    return this.#serial(() => {
      let size = this.sizeBytes
      return this.#deleteSegmentsWhile((segment) => {
        const expired = retentionMs >= 0 && segment.maxTimestamp >= 0 && segment.maxTimestamp < now - retentionMs
        const tooBig = retentionBytes >= 0 && size - segment.size >= retentionBytes
        if (expired || tooBig) size -= segment.size
        return expired || tooBig
      })
    })
  }

  /** Runs segment-list maintenance (retention, compaction) one at a time. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#maintenance.then(work)
    this.#maintenance = run.catch(() => {})
    return run
  }

  /** Deletes sealed segments from the front while `test` holds; the active segment always stays. */
  async #deleteSegmentsWhile(test: (segment: Segment, next: Segment | undefined) => boolean): Promise<number> {
    let deleted = 0
    while (this.#segments.length > 1) {
      const segment = this.#segments[0]!
      if (!test(segment, this.#segments[1])) break
      this.#segments.shift()
      deleted++
      await segment.deleteFiles()
    }
    const first = this.#segments[0]!.baseOffset
    if (first > this.#logStartOffset) {
      this.#logStartOffset = first
      await writeLogStart(this.dir, first)
    }
    return deleted
  }

  async compact(now = Date.now()): Promise<CompactionResult> {
    const none: CompactionResult = { segmentsRewritten: 0, recordsRemoved: 0, bytesBefore: 0, bytesAfter: 0 }
    if (!this.#config.compact || this.#segments.length < 2) return none
    return this.#serial(() =>
      compactLog(this.dir, this.#segments.slice(0, -1), this.#config, now, (replacements) => {
        // Swap in the rewritten sealed segments; segments deleted by retention meanwhile stay deleted.
        this.#segments = this.#segments.map((segment) => replacements.get(segment) ?? segment)
      }),
    )
  }

  updateConfig(config: Partial<LogConfig>): void {
    this.#config = { ...this.#config, ...config }
    this.#startIntervalTimer()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    while (this.#flushing !== null) await this.#flushing
    await this.#maintenance
    this.#closed = true
    if (this.#intervalTimer !== null) clearInterval(this.#intervalTimer)
    if (this.#dirty) await this.#sync(this.#active).catch(() => {})
    this.#listeners.clear()
    for (const segment of this.#segments) await this.#pool.forget(segment.logPath)
  }

  /** Closes and removes every file of the log. */
  async destroy(): Promise<void> {
    await this.close()
    for (const segment of this.#segments) await segment.deleteFiles()
    await fs.rm(this.dir, { recursive: true, force: true })
  }
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

async function readLogStart(dir: string): Promise<number> {
  try {
    const value = Number((await fs.readFile(join(dir, LOG_START_FILE), 'utf8')).trim())
    return Number.isSafeInteger(value) && value >= 0 ? value : 0
  } catch {
    return 0
  }
}

async function writeLogStart(dir: string, offset: number): Promise<void> {
  const tmp = join(dir, `${LOG_START_FILE}.tmp`)
  await fs.writeFile(tmp, String(offset))
  const handle = await fs.open(tmp, 'r+')
  try {
    await handle.datasync()
  } finally {
    await handle.close()
  }
  await fs.rename(tmp, join(dir, LOG_START_FILE))
}
