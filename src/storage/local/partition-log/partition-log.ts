// A partition log: an ordered list of segments, of which the last is active. Appends are group-committed:
// callers get offsets at once, and a single flush loop writes everything queued since the last flush with
// one writev and (durability 'always') one fdatasync, then resolves every caller in the group.
// This class owns the log's state (LogState, state.ts) and keeps it private; the work is done
// by plain functions over it: opening and recovery (open.ts), the append pipeline
// (append.ts), reads (read.ts), retention and compaction
// (retention.ts).
import { promises as fs } from 'node:fs'
import type { Record as LogRecord, RecordInput } from '../../../record/index.js'
import type { AppendResult, CompactionResult, LogConfig, PartitionLog, ReadResult } from '../../api.js'
import type { FilePool } from '../file-pool.js'
import * as appendPath from './append.js'
import { loadLog } from './open.js'
import * as readPath from './read.js'
import * as retention from './retention.js'
import { activeSegment, type LogHooks, type LogState, newLogState, sizeBytes } from './state.js'

export type { LogHooks } from './state.js'

export class LocalPartitionLog implements PartitionLog {
  readonly name: string
  readonly dir: string
  readonly #s: LogState

  private constructor(dir: string, name: string, config: LogConfig, pool: FilePool, hooks: LogHooks) {
    this.dir = dir
    this.name = name
    this.#s = newLogState(dir, name, config, pool, hooks)
  }

  static async open(
    dir: string,
    name: string,
    config: LogConfig,
    pool: FilePool,
    hooks: LogHooks,
  ): Promise<LocalPartitionLog> {
    const log = new LocalPartitionLog(dir, name, config, pool, hooks)
    await loadLog(log.#s)
    appendPath.startIntervalTimer(log.#s)
    return log
  }

  get logStartOffset(): number {
    return this.#s.logStartOffset
  }
  get nextOffset(): number {
    return this.#s.nextOffset
  }
  get highWatermark(): number {
    return this.#s.highWatermark
  }
  get sizeBytes(): number {
    return sizeBytes(this.#s)
  }
  get segmentCount(): number {
    return this.#s.segments.length
  }
  get config(): Readonly<LogConfig> {
    return this.#s.config
  }
  /** For tests and admin views: the segments' base offsets. */
  get segmentBaseOffsets(): number[] {
    return this.#s.segments.map((s) => s.baseOffset)
  }

  // ---- append path (append.ts) ----

  append(batches: Buffer[]): Promise<AppendResult> {
    return appendPath.append(this.#s, batches)
  }

  appendRecords(records: RecordInput[]): Promise<AppendResult> {
    return appendPath.appendRecords(this.#s, records)
  }

  flush(): Promise<void> {
    return appendPath.flush(this.#s)
  }

  // ---- read path (read.ts) ----

  onAppend(listener: (nextOffset: number) => void): () => void {
    this.#s.listeners.add(listener)
    return () => this.#s.listeners.delete(listener)
  }

  read(fromOffset: number, maxBytes: number): Promise<ReadResult> {
    return readPath.read(this.#s, fromOffset, maxBytes)
  }

  readRecords(fromOffset: number, maxBytes: number): Promise<{ records: LogRecord[]; nextOffset: number }> {
    return readPath.readRecords(this.#s, fromOffset, maxBytes)
  }

  offsetForTimestamp(timestamp: number): Promise<number | null> {
    return readPath.offsetForTimestamp(this.#s, timestamp)
  }

  // ---- retention (retention.ts) ----

  deleteRecordsBefore(offset: number): Promise<number> {
    return retention.deleteRecordsBefore(this.#s, offset)
  }

  enforceRetention(now = Date.now()): Promise<number> {
    return retention.enforceRetention(this.#s, now)
  }

  compact(now = Date.now()): Promise<CompactionResult> {
    return retention.compact(this.#s, now)
  }

  updateConfig(config: Partial<LogConfig>): void {
    this.#s.config = { ...this.#s.config, ...config }
    appendPath.startIntervalTimer(this.#s)
  }

  async close(): Promise<void> {
    const s = this.#s
    if (s.closed) return
    while (s.flushing !== null) await s.flushing
    await s.maintenance
    s.closed = true
    if (s.intervalTimer !== null) clearInterval(s.intervalTimer)
    if (s.dirty) await appendPath.sync(s, activeSegment(s)).catch(() => {})
    s.listeners.clear()
    for (const segment of s.segments) await s.pool.forget(segment.logPath)
  }

  /** Closes and removes every file of the log. */
  async destroy(): Promise<void> {
    await this.close()
    for (const segment of this.#s.segments) await segment.deleteFiles()
    await fs.rm(this.dir, { recursive: true, force: true })
  }
}
