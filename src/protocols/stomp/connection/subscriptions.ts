// SUBSCRIBE / UNSUBSCRIBE, MESSAGE deliveries and ACK / NACK. A `/queue/X` subscription is a consumer of the
// queue X (created on first use, as ActiveMQ does); a `/topic/X` subscription is a consumer of its own
// transient queue, owned by the connection and bound to amq.topic with X's key, gone with the subscription or
// the connection. Ack modes: auto (settled once written), client (an ACK settles every earlier delivery of
// its subscription too) and client-individual. A subscription holds at most `activemq.prefetchSize`
// deliveries unacked, and the connection at most `unackedBytesMax` body bytes: beyond, the broker keeps the
// messages until acks come, so a stalled subscriber costs bounded memory.
import { CreditGroup } from '../../../broker/credit.js'
import { headerText, Reserved } from '../../../broker/message.js'
import type { QueueConsumer } from '../../../broker/queue/queue.js'
import type { Delivery } from '../../../broker/queue/types.js'
import { bindingKeyOf, type Destination, parseDestination, TOPIC_EXCHANGE } from '../wire/destination.js'
import type { HeaderList } from '../wire/encode.js'
import { type Frame, StompFrameError } from '../wire/frame.js'
import { messageHeaders } from '../wire/message.js'
import type { ConnectionCore } from './context.js'
import { selectorArguments, subscriptionSelector } from './selector.js'
import { ensureQueue, refuse } from './send.js'

type AckMode = 'auto' | 'client' | 'client-individual'

interface Subscription {
  id: string
  destination: Destination
  ackMode: AckMode
  queue: string
  /** The subscription's own queue (topics), deleted with it. */
  ownQueue: boolean
  consumer: QueueConsumer | undefined
  /** Unacknowledged deliveries by ack sequence, oldest first. */
  unacked: Map<number, Delivery>
}

let subscriptionQueueSeq = 0

export class Subscriptions {
  readonly #c: ConnectionCore
  readonly #subscriptions = new Map<string, Subscription>()
  /** Unacknowledged deliveries by their `ack` / `message-id` value. */
  readonly #byAck = new Map<string, { subscription: Subscription; seq: number }>()
  #seq = 0
  #unackedBytes = 0
  #socketBackedUp = false

  constructor(c: ConnectionCore) {
    this.#c = c
  }

  get count(): number {
    return this.#subscriptions.size
  }

  get unackedCount(): number {
    return this.#byAck.size
  }

  /** The socket's write buffer went over (true) or back under (false) its bound: deliveries stop meanwhile. */
  socketBackedUp(backedUp: boolean): void {
    this.#socketBackedUp = backedUp
    this.#updateCredit()
  }

  #updateCredit(): void {
    const credit = this.#c.deliveryCredit
    if (this.#socketBackedUp || this.#unackedBytes > this.#c.host.limits.unackedBytesMax) credit.hold()
    else credit.resume()
  }

  async subscribe(frame: Frame): Promise<void> {
    const c = this.#c
    const headers = frame.headers
    const destination = parseDestination(headers.get('destination'))
    // STOMP 1.0 makes the id optional; the destination then names the subscription.
    const id = headers.get('id') ?? (c.version === '1.0' ? (headers.get('destination') ?? '') : undefined)
    if (id === undefined) throw new StompFrameError('SUBSCRIBE needs an id header')
    if (this.#subscriptions.has(id)) throw new StompFrameError(`subscription id '${id}' is already in use`)
    if (this.#subscriptions.size >= c.host.limits.subscriptionsMax)
      throw new StompFrameError(`too many subscriptions (at most ${c.host.limits.subscriptionsMax})`)
    const ackMode = (headers.get('ack') ?? 'auto') as AckMode
    if (ackMode !== 'auto' && ackMode !== 'client' && ackMode !== 'client-individual')
      throw new StompFrameError(`invalid ack mode '${ackMode}'`)
    const prefetchText = headers.get('activemq.prefetchSize')
    const prefetch = prefetchText === undefined ? c.host.limits.prefetchDefault : Number(prefetchText)
    if (!Number.isSafeInteger(prefetch) || prefetch < 1)
      throw new StompFrameError(`invalid activemq.prefetchSize '${prefetchText}' (1 or more)`)
    const selector = subscriptionSelector(headers.get('selector'))
    let queue: string
    let ownQueue = false
    if (destination.kind === 'queue') {
      if (!c.access?.allows('Read', 'Topic', destination.name))
        throw refuse(c, 'read from', `/queue/${destination.name}`)
      await ensureQueue(c, destination.name)
      queue = destination.name
    } else {
      if (!c.access?.allows('Read', 'Exchange', TOPIC_EXCHANGE))
        throw refuse(c, 'subscribe to', `/topic/${destination.key}`)
      queue = `stomp.subscription.${c.id}.${++subscriptionQueueSeq}`
      ownQueue = true
      await c.broker.createQueue(queue, { durable: false, exclusiveOwner: c.id })
      await c.broker.bind({
        source: TOPIC_EXCHANGE,
        destination: { kind: 'queue', name: queue },
        key: bindingKeyOf(destination.key),
        arguments: selectorArguments(selector),
        durable: false,
      })
    }
    const subscription: Subscription = {
      id,
      destination,
      ackMode,
      queue,
      ownQueue,
      consumer: undefined,
      unacked: new Map(),
    }
    if (!c.isOpen()) {
      if (ownQueue) await c.broker.deleteQueue(queue).catch(() => {})
      return
    }
    this.#subscriptions.set(id, subscription)
    subscription.consumer = c.broker.consume(queue, {
      owner: c.id,
      tag: `stomp-${c.id}-${id}`,
      prefetch,
      selector: ownQueue ? undefined : selector,
      creditGroup: new CreditGroup(0, c.deliveryCredit),
      onDeliver: (deliveries) => this.#deliver(subscription, deliveries),
      onCancel: () => {
        this.#subscriptions.delete(id)
      },
    })
  }

  async unsubscribe(frame: Frame): Promise<void> {
    const c = this.#c
    const id = frame.headers.get('id') ?? (c.version === '1.0' ? frame.headers.get('destination') : undefined)
    if (id === undefined) throw new StompFrameError('UNSUBSCRIBE needs an id header')
    const subscription = this.#subscriptions.get(id)
    if (subscription === undefined) throw new StompFrameError(`no subscription '${id}'`)
    await this.#stop(subscription)
  }

  /** Cancels the consumer; its unacknowledged deliveries go back to the queue, redelivered. */
  async #stop(subscription: Subscription): Promise<void> {
    this.#subscriptions.delete(subscription.id)
    const broker = this.#c.broker
    if (subscription.consumer !== undefined) broker.getQueue(subscription.queue)?.cancel(subscription.consumer)
    for (const [seq, delivery] of subscription.unacked) {
      this.#forget(subscription, seq, delivery)
      broker.deliveries.nack(delivery, true)
    }
    this.#updateCredit()
    if (subscription.ownQueue) await broker.deleteQueue(subscription.queue).catch(() => {})
  }

  /** Every subscription stopped (the connection closes): leases return to their queues. */
  async stopAll(): Promise<void> {
    for (const subscription of [...this.#subscriptions.values()]) await this.#stop(subscription)
  }

  #deliver(subscription: Subscription, deliveries: Delivery[]): void {
    const c = this.#c
    const settled = c.broker.deliveries
    if (!c.isOpen() || !this.#subscriptions.has(subscription.id)) {
      for (const d of deliveries) settled.nack(d, true)
      return
    }
    const auto = subscription.ackMode === 'auto'
    const traffic = c.host.traffic
    if (auto)
      c.output.whenWritten(() => {
        for (const d of deliveries) settled.settle(d)
      })
    for (const d of deliveries) {
      const seq = ++this.#seq
      const ack = `${c.id}-${seq}`
      const m = d.message
      const headers: HeaderList = [
        ['subscription', subscription.id],
        ['message-id', ack],
        ['destination', destinationOf(subscription, d)],
      ]
      if (!auto) {
        if (c.version === '1.2') headers.push(['ack', ack])
        subscription.unacked.set(seq, d)
        this.#byAck.set(ack, { subscription, seq })
        this.#unackedBytes += m.value?.length ?? 0
      }
      if (d.redelivered) {
        headers.push(['redelivered', 'true'])
        traffic.messagesRedelivered++
      }
      traffic.messagesDelivered++
      traffic.bytesDelivered += m.value?.length ?? 0
      messageHeaders(m, headers)
      c.send('MESSAGE', headers, m.value ?? undefined)
    }
    if (!auto) this.#updateCredit()
  }

  /** The deliveries an ACK or NACK settles (cumulative in client mode); ERROR for an unknown id. */
  take(frame: Frame): Delivery[] {
    const c = this.#c
    const id = c.version === '1.2' ? frame.headers.get('id') : frame.headers.get('message-id')
    if (id === undefined)
      throw new StompFrameError(`${frame.command} needs ${c.version === '1.2' ? 'an id' : 'a message-id'} header`)
    const entry = this.#byAck.get(id)
    if (entry === undefined) throw new StompFrameError(`${frame.command} of an unknown or settled message '${id}'`)
    const { subscription, seq } = entry
    const out: Delivery[] = []
    if (subscription.ackMode === 'client') {
      for (const [s, d] of subscription.unacked) {
        if (s > seq) break
        this.#forget(subscription, s, d)
        out.push(d)
      }
    } else {
      const d = subscription.unacked.get(seq)!
      this.#forget(subscription, seq, d)
      out.push(d)
    }
    this.#updateCredit()
    return out
  }

  /** Checks that an ACK or NACK names an open delivery, without settling it (one held by a transaction). */
  check(frame: Frame): void {
    const id = this.#c.version === '1.2' ? frame.headers.get('id') : frame.headers.get('message-id')
    if (id === undefined || !this.#byAck.has(id))
      throw new StompFrameError(`${frame.command} of an unknown or settled message '${id ?? ''}'`)
  }

  settle(deliveries: Delivery[], ack: boolean): void {
    const settled = this.#c.broker.deliveries
    const traffic = this.#c.host.traffic
    if (ack) traffic.messagesAcknowledged += deliveries.length
    else traffic.messagesRequeued += deliveries.length
    for (const d of deliveries) {
      if (ack) settled.settle(d)
      else settled.nack(d, true)
    }
  }

  #forget(subscription: Subscription, seq: number, d: Delivery): void {
    subscription.unacked.delete(seq)
    this.#byAck.delete(`${this.#c.id}-${seq}`)
    this.#unackedBytes -= d.message.value?.length ?? 0
  }
}

/** A queue subscription's MESSAGE names the queue; a topic one the key the message was published with. */
function destinationOf(subscription: Subscription, d: Delivery): string {
  if (subscription.destination.kind === 'queue') return `/queue/${subscription.queue}`
  return `/topic/${headerText(d.message.headers, Reserved.routingKey) ?? subscription.destination.key}`
}
