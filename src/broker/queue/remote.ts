// A queue that another broker of the cluster serves. The queue's state (ready messages, leases, acks) lives
// only on the broker owning the queue's first partition log; every other broker keeps the Queue object (so
// adapters hold one handle whatever moves) and sends each operation to the owner through a RemoteQueue, which
// the server's cluster link implements. The broker layer knows nothing of how the link talks.
import { isWharfError } from '../../util/errors.js'
import type { QueueConfig } from '../config.js'
import type { QueueConsumer } from './consumer.js'
import type { Delivery, GetOptions, QueueStats } from './types.js'

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
  /** The queue's numbers as its server has them (depth, in flight, consumers of every broker). */
  stats(): Promise<QueueStats>
  /**
   * Asks this (previous) server to stop serving the queue and make its acks durable, before this broker reads
   * the queue's state back and serves it; resolves either way (a dead server has nothing left to write).
   */
  handover(): Promise<void>
}

/** How long an operation follows a queue that is moving before it fails with the last server's error. */
const MOVING_MS = 15_000
const MOVING_RETRY_MS = 200

/**
 * Runs an operation where the queue is served now (`server()`: null for this broker) and, while the queue is
 * moving, where it goes next: a server that answers it does not serve the queue (NOT_OWNER) or cannot be
 * reached (LINK_DOWN) is asked again after the placement had a moment to learn the new owner (it moves the
 * queue within a second of an ownership change, or a dead member's lease running out).
 */
export async function atServer<T>(
  server: () => RemoteQueue | null,
  run: (server: RemoteQueue | null) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + MOVING_MS
  for (;;) {
    const at = server()
    try {
      return await run(at)
    } catch (error) {
      const moving = isWharfError(error) && (error.code === 'NOT_OWNER' || error.code === 'LINK_DOWN')
      if (at === null || !moving || Date.now() >= deadline) throw error
    }
    await new Promise((resolve) => setTimeout(resolve, MOVING_RETRY_MS))
  }
}
