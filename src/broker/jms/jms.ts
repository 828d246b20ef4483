// The JMS destination layer, protocol-free: what STOMP (and AMQP 1.0, OpenWire later) need beyond queues and
// exchanges to give JMS semantics. Client ids, durable and shared subscriptions, temporary destinations,
// virtual topics; noLocal stamping is in no-local.ts, queue browsing in queue/browse.ts. The broker builds one
// (broker.jms) and releases an owner's share of it in broker.releaseOwner.
import { ClientIds } from './client-ids.js'
import { DurableSubscriptions } from './durable.js'
import { type JmsHost, TOPIC_EXCHANGE } from './host.js'
import { defaultVirtualTopicPrefixes, type JmsOptions } from './options.js'
import { TemporaryDestinations } from './temporary.js'
import { VirtualTopics } from './virtual-topics.js'

export class Jms {
  readonly clientIds = new ClientIds()
  readonly durable: DurableSubscriptions
  readonly temporary: TemporaryDestinations
  readonly virtualTopics: VirtualTopics

  constructor(host: JmsHost, options: JmsOptions = {}) {
    this.durable = new DurableSubscriptions(host)
    this.temporary = new TemporaryDestinations(async (name, owner) => {
      await host.createQueue(name, { durable: false, exclusiveOwner: owner })
    }, options.temporariesPerOwnerMax)
    this.virtualTopics = new VirtualTopics(
      { ...defaultVirtualTopicPrefixes, ...options.virtualTopics },
      (queue, key) =>
        host.router
          .listBindings({ destination: { kind: 'queue', name: queue } })
          .some((b) => b.source === TOPIC_EXCHANGE && b.key === key),
      (queue, key) =>
        host.bind({
          source: TOPIC_EXCHANGE,
          destination: { kind: 'queue', name: queue },
          key,
          arguments: {},
          durable: true,
        }),
    )
  }

  /** The owner (connection) is gone: its client id is free, its temporaries and active subscriptions forgotten. */
  releaseOwner(owner: string): void {
    this.clientIds.release(owner)
    this.temporary.release(owner)
    this.durable.releaseOwner(owner)
  }
}

export { subscriptionQueue } from './durable.js'
export type { StoredSubscription } from './host.js'
export { PUBLISHER_HEADER, publishedBy, publisherHeader, stampPublisher } from './no-local.js'
export type { JmsOptions, VirtualTopicPrefixes } from './options.js'
export { type Temporary, type TemporaryKind, temporaryName } from './temporary.js'
export { topicPattern, virtualTopicOf } from './virtual-topics.js'
export { TOPIC_EXCHANGE }
