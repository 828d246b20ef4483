// What a partition log shares with the per-area code that works on it. LocalPartitionLog (partition-log.ts)
// owns the one LogState and keeps it private; opening and recovery (open.ts), the append
// pipeline (append.ts), the read path (read.ts) and retention/compaction
// (retention.ts) are plain functions over it, so none of this state becomes public on the
// class. The read path and retention get narrower views (LogReadView, LogRetentionView) of the same object.
import type { AppendResult, LogConfig } from '../../api.js'
import type { FilePool } from '../file-pool.js'
import type { BatchInfo, Segment } from './segment.js'

export interface LogHooks {
  warn(message: string, details?: Record<string, unknown>): void
  /** An fdatasync of the log took `seconds` (the group commit's cost; upper layers turn it into metrics). */
  synced?(seconds: number): void
}

export interface InflightWrite {
  segment: Segment
  startSize: number
  endSize: number
  endOffset: number
  /** Appends whose last batch is in this write: resolved when it settles. */
  completes: PendingAppend[]
  write: Promise<void>
  done: boolean
}

export interface PendingAppend {
  buffers: Buffer[]
  infos: BatchInfo[]
  result: AppendResult
  resolve: (result: AppendResult) => void
  reject: (error: unknown) => void
}

export interface LogState {
  readonly dir: string
  readonly name: string
  config: LogConfig
  readonly pool: FilePool
  readonly hooks: LogHooks
  /** Oldest first; the last one is the active segment. Replaced wholesale by load and compaction. */
  segments: Segment[]
  logStartOffset: number
  nextOffset: number
  highWatermark: number
  /** Active-segment byte size at the high watermark: readers never see beyond it. */
  visibleSize: number
  visibleSegment: Segment | null
  pending: PendingAppend[]
  readonly inflight: InflightWrite[]
  /** Incremented by every failed write: lets an issue in progress notice that its offsets are void. */
  failures: number
  flushing: Promise<void> | null
  closed: boolean
  intervalTimer: NodeJS.Timeout | null
  dirty: boolean
  readonly listeners: Set<(nextOffset: number) => void>
  maintenance: Promise<unknown>
}

/** What the read path sees: it never changes log state. */
export type LogReadView = Readonly<
  Pick<
    LogState,
    | 'name'
    | 'config'
    | 'pool'
    | 'segments'
    | 'logStartOffset'
    | 'highWatermark'
    | 'visibleSegment'
    | 'visibleSize'
    | 'closed'
  >
>

/** What retention and compaction see: they change only the segment list, logStartOffset and the queue. */
export type LogRetentionView = Pick<LogState, 'segments' | 'logStartOffset' | 'maintenance'> &
  Readonly<Pick<LogState, 'dir' | 'config' | 'highWatermark'>>

export function newLogState(dir: string, name: string, config: LogConfig, pool: FilePool, hooks: LogHooks): LogState {
  return {
    dir,
    name,
    config,
    pool,
    hooks,
    segments: [],
    logStartOffset: 0,
    nextOffset: 0,
    highWatermark: 0,
    visibleSize: 0,
    visibleSegment: null,
    pending: [],
    inflight: [],
    failures: 0,
    flushing: null,
    closed: false,
    intervalTimer: null,
    dirty: false,
    listeners: new Set(),
    maintenance: Promise.resolve(),
  }
}

export function activeSegment(s: Pick<LogState, 'segments'>): Segment {
  return s.segments[s.segments.length - 1]!
}

export function sizeBytes(s: Pick<LogState, 'segments'>): number {
  let total = 0
  for (const segment of s.segments) total += segment.size
  return total
}
