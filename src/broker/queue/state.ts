// What a queue subscription shares with the per-area code that works on it. QueueSubscription (queue.ts)
// owns one QueueState and keeps it private; delivery (queue-delivery.ts), acks (queue-acks.ts), read-ahead
// (queue-read.ts) and maintenance (queue-maintenance.ts) are plain functions over it, so none of this state
// becomes public on the class.
import type { CursorStore } from '../../storage/api.js'
import type { Heap } from '../../util/heap.js'
import type { QueueConfig } from '../config.js'
import type { DeathReason, StoredMessage } from '../message.js'
import type { QueueBytes } from './byte-count.js'
import type { QueueConsumer } from './consumer.js'
import type { Lease, QueuePartition } from './partition.js'
import type { QueueSubscription } from './queue.js'
import type { Delivery, GetOptions } from './types.js'

export const READY_MAX = 2048

export interface QueueHooks {
  /** Routes a message to the queue's dead-letter target; resolves once durable there. */
  deadLetter(queue: QueueSubscription, message: StoredMessage, reason: DeathReason): Promise<void>
  /** The queue became unused in a way that deletes it (auto-delete, x-expires). */
  deleteQueue(queue: QueueSubscription, why: string): void
  now(): number
  warn?(message: string, details?: Record<string, unknown>): void
}

/** A pull (get) waiting for a first message. */
export interface Waiter {
  options: GetOptions
  max: number
  taken: Delivery[]
  resolve(deliveries: Delivery[]): void
  timer: NodeJS.Timeout | null
}

export interface QueueState {
  /** The subscription itself, as the hooks take it. */
  readonly queue: QueueSubscription
  readonly name: string
  config: QueueConfig
  readonly partitions: QueuePartition[]
  readonly cursors: CursorStore
  readonly hooks: QueueHooks
  readonly consumers: QueueConsumer[]
  /** Round-robin position over consumers (and over partitions without priorities). */
  rr: number
  /** Long-poll pulls waiting for messages. */
  readonly waiters: Waiter[]
  readonly leases: Heap<{ deadline: number; lease: Lease }>
  /** In-flight leases per FIFO message group. */
  readonly busyGroups: Map<string, number>
  /** Last lease id handed out (generated consumer tags count on it too). */
  leaseSeq: number
  lastUsed: number
  deleted: boolean
  readonly pendingAcks: Map<QueuePartition, { offsets: number[]; sizes: number[]; promise: Promise<void> }>
  /** Running body-byte count, kept only while config.maxLengthBytes is set. */
  bytes: QueueBytes | null
  readonly stats: { published: number; delivered: number; acked: number; deadLettered: number }
  /** Runs the drain loop (queue-delivery.ts) soon, at most once per tick. */
  schedule(): void
}

export const bodySize = (message: StoredMessage): number => message.value?.length ?? 0

export function depthOf(s: QueueState): number {
  let total = 0
  for (const p of s.partitions) total += p.depth(s.cursors)
  return total
}

export function inflightCount(s: QueueState): number {
  let n = 0
  for (const p of s.partitions) n += p.inflight.size
  return n
}

export function ackFloorOf(s: QueueState, partition: number): number {
  const p = s.partitions[partition]!
  return Math.max(s.cursors.getAcks(p.ackKey)?.floor ?? 0, p.log.logStartOffset)
}
