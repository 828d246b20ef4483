// The broker's late-bound hooks into the cluster link, which the server installs after the broker opened (the
// broker knows no link, only these questions): where a durable queue is served, and which other members must
// see an exchange publish because their clients hold transient subscriptions only they know. Also where
// adapters hear of cluster events: a client id claimed through another member, a queue another member created
// now open here.
import { WharfError } from '../util/errors.js'
import type { QueueConfig } from './config.js'
import type { PublishMessage } from './message.js'
import type { RemoteQueue } from './queue/remote.js'

/** How a queue finds the broker serving it: null when it is this one (or there is no cluster). */
export type RemoteQueueLookup = (name: string, config: QueueConfig, streamId: number) => RemoteQueue | null

/** A publish through an exchange as another broker of the cluster repeats it (PublishOptions.transientOnly). */
export type PublishRelay = (
  exchange: string,
  routingKey: string,
  message: PublishMessage,
  options: { routingHeaders?: Record<string, unknown>; extraRoutingKeys?: readonly string[] },
) => void

/**
 * Where a queue is served, the relay of exchange publishes to the members whose clients have transient
 * subscriptions (non-durable queues, in-memory sinks), and client ids claimed across the cluster. Unset: a
 * single broker.
 */
export class ClusterLinkHooks {
  lookup: RemoteQueueLookup | null = null
  relay: PublishRelay | null = null
  /**
   * Makes every other live member apply this broker's catalog changes so far and learn which exchanges its
   * transient subscriptions are on (bounded: a member that does not answer in seconds is not waited for).
   */
  settler: (() => Promise<void>) | null = null
  /** Sends a request to another member over the link (LINK_DOWN without one). */
  request: ((node: number, op: string, body: Record<string, unknown>) => Promise<unknown>) | null = null
  /** Tells every other member that a client of an adapter's kind connected here with this id. */
  claim: ((kind: string, id: string) => void) | null = null
  readonly #onClaimed = new Map<string, (id: string) => void>()
  readonly #onQueueOpened = new Set<(name: string) => void>()

  /**
   * A catalog change (declare, bind, delete...) a client is told of once this resolves: on a cluster, once
   * every live member has applied it, as a client that goes on through another broker expects. Awaited out of
   * the catalog lock, which the members' catching up can wait for on this broker.
   */
  async settled<T>(change: Promise<T>): Promise<T> {
    const result = await change
    await this.settle()
    return result
  }

  /** Resolves once every live member has applied this broker's catalog changes so far (at once without a cluster). */
  async settle(): Promise<void> {
    await this.settler?.()
  }

  ask(node: number, op: string, body: Record<string, unknown>): Promise<unknown> {
    if (this.request === null) return Promise.reject(new WharfError('LINK_DOWN', 'no cluster link'))
    return this.request(node, op, body)
  }

  find(name: string, config: QueueConfig, streamId: number): RemoteQueue | null {
    return this.lookup === null ? null : this.lookup(name, config, streamId)
  }

  /**
   * How an adapter hears that a client with one of its ids connected through another member (an MQTT session
   * taken over there): its own connection with that id must go. One handler per kind.
   */
  onClaimed(kind: string, handler: (id: string) => void): () => void {
    this.#onClaimed.set(kind, handler)
    return () => {
      if (this.#onClaimed.get(kind) === handler) this.#onClaimed.delete(kind)
    }
  }

  /** Another member's claim arrived over the link. */
  claimed(kind: string, id: string): void {
    this.#onClaimed.get(kind)?.(id)
  }

  /**
   * How an adapter hears that a queue another member created is open here (its catalog change arrived): a
   * client that resumed its session here a moment earlier may be waiting for it.
   */
  onQueueOpened(listener: (name: string) => void): () => void {
    this.#onQueueOpened.add(listener)
    return () => this.#onQueueOpened.delete(listener)
  }

  queueOpened(name: string): void {
    for (const listener of this.#onQueueOpened) listener(name)
  }
}
