// What the JMS destination layer needs of the broker: queue and binding calls and one durable catalog kind.
// The Broker satisfies it as it is (broker.ts passes itself), and this folder never imports broker.ts.
import type { Catalog } from '../catalog.js'
import type { QueueConfig } from '../config.js'
import type { BindingDef, Destination } from '../routing/types.js'

export interface JmsHost {
  createQueue(name: string, config: Partial<QueueConfig>, options?: { ifNotExists?: boolean }): Promise<unknown>
  deleteQueue(name: string): Promise<number>
  getQueue(name: string): unknown
  bind(binding: BindingDef): Promise<void>
  readonly router: { listBindings(filter: { destination?: Destination }): BindingDef[] }
  catalog<T>(kind: 'jms-subscription'): Catalog<T>
}

/** A durable (or shared) subscription as stored: what a resubscribe is compared with. */
export interface StoredSubscription {
  clientId: string | null
  name: string
  shared: boolean
  /** The exchange and binding key the subscription queue is bound with (the topic). */
  exchange: string
  key: string
  /** Selector text the binding carries as `x-selector`; null when none. */
  selector: string | null
  noLocal: boolean
}

/** The exchange JMS topics live on: a topic `a.b` is routing key `a.b` there (MQTT `a/b`, AMQP `amq.topic`). */
export const TOPIC_EXCHANGE = 'amq.topic'
