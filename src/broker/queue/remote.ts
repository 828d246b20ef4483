// A queue that another broker of the cluster serves. The queue's state (ready messages, leases, acks) lives
// only on the broker owning the queue's first partition log; every other broker keeps the Queue object (so
// adapters hold one handle whatever moves) and sends each operation to the owner through a RemoteQueue, which
// the server's cluster link implements. The broker layer knows nothing of how the link talks.
import type { QueueConfig } from '../config.js'
import { followMoves } from '../moving.js'
import type { QueueConsumer } from './consumer.js'
import type { BrowseOptions, BrowsePage, Delivery, GetOptions, QueueStats } from './types.js'

/** The reason a forwarded consumer is cancelled with when its queue is served elsewhere now. */
export const QUEUE_MOVED = 'queue moved to another broker'

/**
 * Whether a queue lives in this broker's memory alone (non-durable, or exclusive to a connection here): such
 * a queue is never in the shared catalog, so it is always served here and other brokers relay publishes to it.
 */
export function servedHereOnly(config: QueueConfig): boolean {
  return !config.durable || config.exclusiveOwner !== null
}

export type RemoteSettle = 'ack' | 'settle' | 'nack' | 'requeue' | 'release' | 'extend'

export interface RemoteQueue {
  /** The node id of the broker serving the queue. */
  readonly node: number
  /**
   * Attaches a consumer there, on the consumer's own terms, and keeps it attached (re-attaching after a lost
   * link) until unsubscribed; deliveries arrive through consumer.onDeliver, a cancel by the server through
   * consumer.onCancel.
   */
  subscribe(consumer: QueueConsumer): void
  unsubscribe(consumer: QueueConsumer): void
  get(options: GetOptions): Promise<Delivery[]>
  /** settle() for callers that do not wait for the outcome: nothing comes back. */
  settleLater(op: RemoteSettle, partition: number, offset: number, leaseId: number | undefined, leaseMs?: number): void
  /** Settles a delivery handed out there; resolves when the server settled it (an ack: durably). */
  settle(
    op: RemoteSettle,
    partition: number,
    offset: number,
    leaseId: number | undefined,
    leaseMs?: number,
  ): Promise<boolean>
  /** Returns the leases an owner (connection/channel) holds there. */
  releaseOwner(owner: string): void
  purge(): Promise<number>
  /** A page of the queue as its server has it (browse.ts). */
  browse(options: BrowseOptions): Promise<BrowsePage>
  /** The queue's numbers as its server has them (depth, in flight, consumers of every broker). */
  stats(): Promise<QueueStats>
  /**
   * Asks this (previous) server to stop serving the queue and make its acks durable, before this broker reads
   * the queue's state back and serves it; resolves either way (a dead server has nothing left to write).
   */
  handover(): Promise<void>
}

/**
 * Runs an operation where the queue is served now (`server()`: null for this broker) and, while the queue is
 * moving, where it goes next (../moving.ts): the placement moves the queue within a second of an ownership
 * change, or of a dead member's lease running out. An operation run here is not retried.
 */
export function atServer<T>(
  server: () => RemoteQueue | null,
  run: (server: RemoteQueue | null) => Promise<T>,
): Promise<T> {
  let at: RemoteQueue | null = null
  return followMoves(
    () => {
      at = server()
      return run(at)
    },
    () => at !== null,
  )
}
