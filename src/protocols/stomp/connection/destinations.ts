// What a SUBSCRIBE reads: the queue behind each kind of destination.
// - `/queue/X`: the queue X (created on first use); a virtual topic consumer queue
//   (`Consumer.<name>.VirtualTopic.X`) is bound to its topic the first time it is subscribed to.
// - `/topic/X`: a transient queue owned by the connection, bound to amq.topic with X's key; with a durable
//   subscription name (`activemq.subscriptionName`, Artemis `durable-subscription-name` /
//   `durable-subscriber-name`) or a shared one (`shared-subscription-name`) the broker's durable
//   subscription queue instead, which outlives the subscription.
// - `/temp-queue/X`, `/temp-topic/X`: the connection's temporaries (created on first use);
//   `/remote-temp-*/<name>` only by the connection that owns it.
import { headerText, Reserved } from '../../../broker/message.js'
import type { Delivery } from '../../../broker/queue/types.js'
import { bindingKeyOf, type Destination, destinationText, TOPIC_EXCHANGE } from '../wire/destination.js'
import { StompFrameError } from '../wire/frame.js'
import { ensureQueue, refuse } from './access.js'
import type { ConnectionCore } from './context.js'

export interface Source {
  queue: string
  /** The subscription's own queue, deleted with it. */
  ownQueue: boolean
  /** A durable or shared subscription's queue: detached from, not deleted, when the subscription stops. */
  durable: boolean
  /** A topic (noLocal applies). */
  topic: boolean
  /** The `destination` header of a MESSAGE. */
  display(d: Delivery): string
}

/** The durable subscription name a SUBSCRIBE or UNSUBSCRIBE carries (Artemis's headers first, then ActiveMQ's). */
export function durableNameOf(headers: ReadonlyMap<string, string>): string | undefined {
  return (
    headers.get('durable-subscription-name') ??
    headers.get('durable-subscriber-name') ??
    headers.get('activemq.subscriptionName')
  )
}

/**
 * The connection's client id (CONNECT `client-id`), else the frame's own `client-id` (Artemis allows it there),
 * which the connection then holds as if CONNECT had named it (RESOURCE_LOCKED when another connection does).
 */
export function clientIdOf(c: ConnectionCore, headers: ReadonlyMap<string, string>): string | null {
  if (c.clientId !== undefined) return c.clientId
  const clientId = headers.get('client-id')
  if (clientId === undefined || clientId === '') return null
  c.broker.jms.clientIds.claim(clientId, c.id)
  c.clientId = clientId
  return clientId
}

let subscriptionQueueSeq = 0

export async function subscriptionSource(
  c: ConnectionCore,
  d: Destination,
  headers: ReadonlyMap<string, string>,
): Promise<Source> {
  const jms = c.broker.jms
  switch (d.kind) {
    case 'queue': {
      if (!c.access?.allows('Read', 'Topic', d.name)) throw refuse(c, 'read from', `/queue/${d.name}`)
      await ensureQueue(c, d.name)
      // Another connection's own queue (a topic subscriber's, a temporary queue): not for others to drain.
      const owner = c.broker.getQueue(d.name)?.config.exclusiveOwner ?? null
      if (owner !== null && owner !== c.id) throw new StompFrameError(`queue '${d.name}' belongs to another connection`)
      if (jms.virtualTopics.keyOf(d.name) !== undefined) {
        // Binding the queue to a topic reads that topic: the same right as a topic subscription.
        if (!c.access?.allows('Read', 'Exchange', TOPIC_EXCHANGE)) throw refuse(c, 'read from', `/queue/${d.name}`)
        await jms.virtualTopics.used(d.name)
      }
      return queueSource(d.name, `/queue/${d.name}`)
    }
    case 'topic': {
      if (!c.access?.allows('Read', 'Exchange', TOPIC_EXCHANGE)) throw refuse(c, 'subscribe to', `/topic/${d.key}`)
      const shared = headers.get('shared-subscription-name')
      const name = shared ?? durableNameOf(headers)
      if (name === undefined) return ownTopicQueue(c, bindingKeyOf(d.key), undefined, headers.get('selector'))
      const queue = await jms.durable.subscribe({
        clientId: clientIdOf(c, headers),
        name,
        shared: shared !== undefined,
        exchange: TOPIC_EXCHANGE,
        key: bindingKeyOf(d.key),
        selector: headers.get('selector') ?? null,
        noLocal: headers.get('activemq.noLocal') === 'true',
        owner: c.id,
      })
      return { queue, ownQueue: false, durable: true, topic: true, display: topicDisplay(d.key) }
    }
    case 'temp-queue': {
      const temporary = await jms.temporary.create('queue', c.id, d.local)
      return queueSource(temporary.name, destinationText(d))
    }
    case 'remote-temp-queue':
      return queueSource(jms.temporary.consumable(d.name, c.id).name, destinationText(d))
    case 'temp-topic': {
      const temporary = await jms.temporary.create('topic', c.id, d.local)
      return ownTopicQueue(c, temporary.name, destinationText(d), headers.get('selector'))
    }
    case 'remote-temp-topic':
      return ownTopicQueue(c, jms.temporary.consumable(d.name, c.id).name, destinationText(d), headers.get('selector'))
  }
}

function queueSource(queue: string, shown: string): Source {
  return { queue, ownQueue: false, durable: false, topic: false, display: () => shown }
}

/** A topic subscription's MESSAGE names the key the message was published with. */
function topicDisplay(key: string): (d: Delivery) => string {
  return (d) => `/topic/${headerText(d.message.headers, Reserved.routingKey) ?? key}`
}

/**
 * A transient queue owned by the connection, bound to the topic exchange with `key`; a selector goes on the
 * binding as `x-selector` (as for durable subscriptions), so the router can leave non-matching messages out.
 */
async function ownTopicQueue(
  c: ConnectionCore,
  key: string,
  shown: string | undefined,
  selector: string | undefined,
): Promise<Source> {
  const queue = `stomp.subscription.${c.id}.${++subscriptionQueueSeq}`
  await c.broker.createQueue(queue, { durable: false, exclusiveOwner: c.id })
  await c.broker.bind({
    source: TOPIC_EXCHANGE,
    destination: { kind: 'queue', name: queue },
    key,
    arguments: selector === undefined ? {} : { 'x-selector': selector },
    durable: false,
  })
  const display = shown === undefined ? topicDisplay(key) : () => shown
  return { queue, ownQueue: true, durable: false, topic: true, display }
}
