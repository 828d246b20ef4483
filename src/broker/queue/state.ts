// What a queue shares with the per-area code that works on it. Queue (queue.ts) owns one
// QueueState and keeps it private; delivery.ts, settle.ts, read-ahead.ts and housekeeping.ts are plain
// functions over it, so none of this state becomes public on the class. The state names its queue only by
// the narrow QueueRef, so nothing here depends on queue.ts.
import type { CursorStore, PartitionLog } from '../../storage/api.js'
import { Heap } from '../../util/heap.js'
import type { QueueConfig } from '../config.js'
import type { DeathReason, StoredMessage } from '../message.js'
import { QueueBytes } from './byte-count.js'
import type { QueueConsumer } from './consumer.js'
import { MessageGroups } from './groups.js'
import { type Lease, QueuePartition } from './partition.js'
import type { RemoteQueue } from './remote.js'
import type { Delivery, QueueStats, Taker } from './types.js'

export const READY_MAX = 2048
/**
 * Body bytes a partition reads ahead of its consumers (one message always fits): with large messages the
 * count alone would let a queue nobody drains hold READY_MAX of them in memory.
 */
export const READY_BYTES_MAX = 8 * 1024 * 1024

/** What the hooks need to know of a queue: its name and current settings. */
export interface QueueRef {
  readonly name: string
  readonly config: QueueConfig
}

export interface QueueHooks {
  /** Where the queue is served when another broker of the cluster owns it (remote.ts); null: here. */
  remoteFor?(name: string, config: QueueConfig, streamId: number): RemoteQueue | null
  /** Routes a message to the queue's dead-letter target; resolves once durable there. */
  deadLetter(queue: QueueRef, message: StoredMessage, reason: DeathReason): Promise<void>
  /** The queue became unused in a way that deletes it (auto-delete, x-expires). */
  deleteQueue(queue: QueueRef, why: string): void
  /** A new lease id, unique in the broker (see deliveries.ts); increasing, so an older lease's id never matches. */
  leaseId(): number
  now(): number
  warn?(message: string, details?: Record<string, unknown>): void
  /** Runs work that frees space (a purge) so that its own small writes succeed on a full disk (storage's reserve). */
  freeingSpace<T>(work: () => Promise<T>): Promise<T>
}

/** A pull (get) waiting for a first message. */
export interface Waiter {
  readonly taker: Taker
  max: number
  taken: Delivery[]
  resolve(deliveries: Delivery[]): void
  timer: NodeJS.Timeout | null
}

export interface QueueState {
  /** The queue itself, as the hooks take it. */
  readonly queue: QueueRef
  readonly name: string
  config: QueueConfig
  readonly partitions: QueuePartition[]
  readonly cursors: CursorStore
  readonly hooks: QueueHooks
  readonly consumers: QueueConsumer[]
  /** Consumers with singleActive among them: while any, only the first of them is served. */
  singleActives: number
  /** Round-robin position over consumers (and over partitions without priorities). */
  rr: number
  /** Long-poll pulls waiting for messages. */
  readonly waiters: Waiter[]
  readonly leases: Heap<{ deadline: number; lease: Lease }>
  /** In-flight leases per FIFO message group. */
  readonly busyGroups: Map<string, number>
  /** JMS message groups pinned to consumers (groups.ts). */
  readonly groups: MessageGroups
  /** Set by pick() when it passed over messages the taker may not have (another consumer's groups). */
  passedOver: boolean
  /** Last generated consumer tag number. */
  tagSeq: number
  lastUsed: number
  deleted: boolean
  readonly pendingAcks: Map<QueuePartition, { offsets: number[]; sizes: number[]; promise: Promise<void> }>
  /** Running body-byte count, kept only while config.maxLengthBytes is set. */
  bytes: QueueBytes | null
  /** `dropped`: messages a full drop-new queue did not take. */
  readonly stats: { published: number; delivered: number; acked: number; deadLettered: number; dropped: number }
  /** Round-robin position within each priority group (offset from the group's start), by priority. */
  readonly groupTurns: Map<number, number>
  /** Runs the drain loop (delivery.ts) soon, at most once per tick. */
  schedule(): void
}

export const bodySize = (message: StoredMessage): number => message.value?.length ?? 0

export function depthOf(s: QueueState): number {
  let total = 0
  for (const p of s.partitions) total += p.depth(s.cursors)
  return total
}

/** Leases in flight, pins of messages being dropped or dead-lettered included. O(partitions). */
export function inflightCount(s: QueueState): number {
  let n = 0
  for (const p of s.partitions) n += p.inflight.size
  return n
}

/**
 * Messages in flight and not acked yet. A dropped or dead-lettered message stays pinned in flight until its
 * ack is durable, but the cursor store counts it acked once the write is issued, so depth already leaves it
 * out meanwhile; depth minus this is exact. O(in flight): for purge, not for per-message stats.
 */
export function unackedInflightCount(s: QueueState): number {
  let n = 0
  for (const p of s.partitions)
    for (const lease of p.inflight.values()) if (!s.cursors.isAcked(p.ackKey, lease.offset)) n++
  return n
}

/**
 * Whether a partition's read-ahead wants refilling now: returned offsets to re-read, or the read-ahead below
 * half while the log has more. Not while a read is running.
 */
export function wantsRead(p: QueuePartition): boolean {
  return (
    p.reading === null &&
    (p.cold.size > 0 ||
      (p.ready.length < READY_MAX / 2 && p.readyBytes < READY_BYTES_MAX / 2 && p.readOffset < p.log.highWatermark))
  )
}

/**
 * An in-flight entry that only holds an offset back from delivery (dead-lettering or dropping it): no owner,
 * no consumer, no deadline.
 */
export function pinLease(s: QueueState, p: QueuePartition, message: StoredMessage): Lease {
  return {
    id: s.hooks.leaseId(),
    partition: p.index,
    offset: message.offset,
    owner: '',
    consumer: null,
    deadline: null,
    deliveryCount: 0,
    groupId: undefined,
    group: undefined,
    message,
    purged: false,
  }
}

export function ackFloorOf(s: QueueState, partition: number): number {
  const p = s.partitions[partition]!
  return Math.max(s.cursors.getAcks(p.ackKey)?.floor ?? 0, p.log.logStartOffset)
}

/** A queue's state as it starts (at open, and when the queue is served here again after another broker). */
export function newQueueState(
  queue: QueueRef,
  logs: readonly PartitionLog[],
  streamId: number,
  parts: Pick<QueueState, 'config' | 'cursors' | 'hooks' | 'consumers' | 'stats'>,
  tagSeq: number,
  schedule: () => void,
): QueueState {
  return {
    queue,
    name: queue.name,
    ...parts,
    partitions: logs.map((log, i) => new QueuePartition(i, log, ackKeyOf(queue.name, streamId, i), parts.cursors)),
    singleActives: parts.consumers.filter((c) => c.singleActive).length,
    rr: 0,
    waiters: [],
    leases: new Heap<{ deadline: number; lease: Lease }>((a, b) => a.deadline < b.deadline),
    busyGroups: new Map(),
    groups: new MessageGroups(parts.config.messageGroupsMax),
    passedOver: false,
    tagSeq,
    lastUsed: parts.hooks.now(),
    deleted: false,
    pendingAcks: new Map(),
    groupTurns: new Map(),
    bytes: null,
    schedule,
  }
}

/** The cursor-store key of a queue partition's acks. */
export function ackKeyOf(queue: string, streamId: number, partition: number): string {
  return `q\u0000${queue}\u0000${streamId}\u0000${partition}`
}

/** Starts or stops the running body-byte count as config.maxLengthBytes is set or not. */
export function trackBytes(s: QueueState): void {
  const on = (s.config.maxLengthBytes ?? null) !== null
  if (on && s.bytes === null) {
    s.bytes = new QueueBytes(s.partitions, s.cursors, (message, details) =>
      s.hooks.warn?.(message, { queue: s.name, ...details }),
    )
  } else if (!on && s.bytes !== null) {
    s.bytes.close()
    s.bytes = null
  }
}

export function queueStatsOf(s: QueueState, stream: string): QueueStats {
  const depth = depthOf(s)
  const inflight = inflightCount(s)
  let delayed = 0
  for (const p of s.partitions) delayed += p.delayed.size
  return {
    name: s.name,
    stream,
    depth,
    ready: Math.max(0, depth - inflight - delayed),
    inflight,
    delayed,
    consumers: s.consumers.length,
    publishedTotal: s.stats.published,
    deliveredTotal: s.stats.delivered,
    ackedTotal: s.stats.acked,
    deadLetteredTotal: s.stats.deadLettered,
    droppedTotal: s.stats.dropped,
    ...(s.bytes === null ? {} : { bytes: s.bytes.total() }),
  }
}
