// The broker's late-bound hooks into the cluster link, which the server installs after the broker opened (the
// broker knows no link, only these two questions): where a durable queue is served, and which other members
// must see an exchange publish because their clients hold transient subscriptions only they know.
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
 * Where a queue is served, and the relay of exchange publishes to the members whose clients have transient
 * subscriptions (non-durable queues, in-memory sinks). Unset: a single broker.
 */
export class ClusterLinkHooks {
  lookup: RemoteQueueLookup | null = null
  relay: PublishRelay | null = null

  find(name: string, config: QueueConfig, streamId: number): RemoteQueue | null {
    return this.lookup === null ? null : this.lookup(name, config, streamId)
  }
}
