// SUBSCRIBE / UNSUBSCRIBE, MESSAGE deliveries and ACK / NACK. Which queue a subscription reads is
// destinations.ts's business (queues, topics, durable and shared subscriptions, temporaries); browsers are
// browse.ts's. The ActiveMQ consumer headers: `activemq.prefetchSize`, `activemq.exclusive` (this consumer gets
// every message while it lives, others stand by), `activemq.priority` (consumer priority), `activemq.noLocal`
// (a topic subscriber skips what its own connection sent). UNSUBSCRIBE with a durable subscription name
// deletes that subscription; a plain one only stops the consumer. Ack modes: auto (settled once written), client (an ACK settles every earlier delivery of
// its subscription too) and client-individual. A subscription holds at most `activemq.prefetchSize`
// deliveries unacked, and the connection at most `unackedBytesMax` body bytes: beyond, the broker keeps the
// messages until acks come, so a stalled subscriber costs bounded memory.
import { CreditGroup } from '../../../broker/credit.js'
import { publishedBy } from '../../../broker/jms/jms.js'
import type { RecordHeader } from '../../../broker/message.js'
import type { QueueConsumer } from '../../../broker/queue/queue.js'
import type { Delivery } from '../../../broker/queue/types.js'
import { destinationText, parseDestination, TOPIC_EXCHANGE } from '../wire/destination.js'
import type { HeaderList } from '../wire/encode.js'
import { type Frame, StompFrameError } from '../wire/frame.js'
import { messageHeaders } from '../wire/message.js'
import { refuse } from './access.js'
import { browseQueue } from './browse.js'
import type { ConnectionCore } from './context.js'
import { clientIdOf, durableNameOf, type Source, subscriptionSource } from './destinations.js'
import { subscriptionSelector } from './selector.js'
import { publisherOf } from './targets.js'

type AckMode = 'auto' | 'client' | 'client-individual'

interface Subscription {
  id: string
  ackMode: AckMode
  /** The queue it reads; undefined for a browser. */
  source: Source | undefined
  consumer: QueueConsumer | undefined
  /** noLocal: this connection's publisher stamp, whose messages are skipped; null otherwise. */
  noLocal: RecordHeader | null
  /** Unacknowledged deliveries by ack sequence, oldest first. */
  unacked: Map<number, Delivery>
}

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
    const singleActive = flag(headers, 'activemq.exclusive')
    const priority = consumerPriority(headers.get('activemq.priority'))
    // Compiled here so that a bad one is an ERROR before anything is created.
    const selector = subscriptionSelector(headers.get('selector'))
    const subscription: Subscription = {
      id,
      ackMode,
      source: undefined,
      consumer: undefined,
      noLocal: null,
      unacked: new Map(),
    }
    if (flag(headers, 'browser')) {
      if (destination.kind !== 'queue' && destination.kind !== 'temp-queue')
        throw new StompFrameError('browser:true is for queues only')
      const source = await subscriptionSource(c, destination, headers)
      if (!c.isOpen()) return
      this.#subscriptions.set(id, subscription)
      const shown = destinationText(destination)
      const live = () => c.isOpen() && this.#subscriptions.get(id) === subscription
      void browseQueue(c, id, source.queue, shown, live).catch((error: unknown) =>
        c.fail(`browsing ${shown} failed: ${(error as Error).message}`),
      )
      return
    }
    const source = await subscriptionSource(c, destination, headers)
    subscription.source = source
    if (source.topic && flag(headers, 'activemq.noLocal')) subscription.noLocal = publisherOf(c)
    if (!c.isOpen()) {
      await this.#release(source)
      return
    }
    try {
      subscription.consumer = c.broker.consume(source.queue, {
        owner: c.id,
        tag: `stomp-${c.id}-${id}`,
        prefetch,
        // A topic subscription's selector is on its binding: what it does not select never reaches its queue.
        selector: source.topic ? undefined : selector,
        creditGroup: new CreditGroup(0, c.deliveryCredit),
        singleActive,
        priority,
        onDeliver: (deliveries) => this.#deliver(subscription, deliveries),
        onCancel: () => {
          // The queue was deleted (by an operator, or a temporary one with its owner).
          if (this.#subscriptions.get(id) === subscription) this.#subscriptions.delete(id)
          if (source.durable) c.broker.jms.durable.detach(source.queue, c.id)
        },
      })
    } catch (error) {
      await this.#release(source)
      throw error
    }
    this.#subscriptions.set(id, subscription)
  }

  /** Stops the subscription `id`; with a durable subscription name, deletes that subscription too. */
  async unsubscribe(frame: Frame): Promise<void> {
    const c = this.#c
    const headers = frame.headers
    const id = headers.get('id') ?? (c.version === '1.0' ? headers.get('destination') : undefined)
    const shared = headers.get('shared-subscription-name')
    const durable = shared ?? durableNameOf(headers)
    if (id === undefined && durable === undefined) throw new StompFrameError('UNSUBSCRIBE needs an id header')
    const subscription = id === undefined ? undefined : this.#subscriptions.get(id)
    if (subscription === undefined && durable === undefined) throw new StompFrameError(`no subscription '${id}'`)
    if (subscription !== undefined) await this.#stop(subscription)
    if (durable !== undefined) {
      if (!c.access?.allows('Read', 'Exchange', TOPIC_EXCHANGE))
        throw refuse(c, 'unsubscribe from', `durable subscription ${durable}`)
      const clientId = clientIdOf(c, headers)
      if (clientId === null && shared === undefined)
        throw new StompFrameError('removing a durable subscription needs a client-id')
      await c.broker.jms.durable.unsubscribe(clientId, durable)
    }
  }

  /** Cancels the consumer; its unacknowledged deliveries go back to the queue, redelivered. */
  async #stop(subscription: Subscription): Promise<void> {
    this.#subscriptions.delete(subscription.id)
    const broker = this.#c.broker
    const source = subscription.source
    if (subscription.consumer !== undefined && source !== undefined)
      broker.getQueue(source.queue)?.cancel(subscription.consumer)
    for (const [seq, delivery] of subscription.unacked) {
      this.#forget(subscription, seq, delivery)
      broker.deliveries.nack(delivery, true)
    }
    this.#updateCredit()
    if (source !== undefined) await this.#release(source)
  }

  /** What a stopped subscription leaves: its own queue deleted, a durable one detached from. */
  async #release(source: Source): Promise<void> {
    const broker = this.#c.broker
    if (source.durable) broker.jms.durable.detach(source.queue, this.#c.id)
    if (source.ownQueue) await broker.deleteQueue(source.queue).catch(() => {})
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
    const noLocal = subscription.noLocal
    if (noLocal !== null && deliveries.some((d) => publishedBy(d.message, noLocal))) {
      // Sent by this connection: settled unseen.
      for (const d of deliveries) if (publishedBy(d.message, noLocal)) settled.settle(d)
      deliveries = deliveries.filter((d) => !publishedBy(d.message, noLocal))
      if (deliveries.length === 0) return
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
        ['destination', subscription.source!.display(d)],
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
      // JMS's names: how often the message was delivered (only once it was redelivered), and a group's first.
      if (d.deliveryCount > 1) headers.push(['JMSXDeliveryCount', String(d.deliveryCount)])
      if (d.groupFirst) headers.push(['JMSXGroupFirstForConsumer', 'true'])
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

function flag(headers: ReadonlyMap<string, string>, name: string): boolean {
  const value = headers.get(name)
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  throw new StompFrameError(`invalid ${name} '${value}' (true or false)`)
}

/** `activemq.priority`: ActiveMQ's consumer priority, a byte (higher first); default 0. */
function consumerPriority(text: string | undefined): number {
  if (text === undefined) return 0
  const n = Number(text)
  if (text.trim() === '' || !Number.isInteger(n) || n < -128 || n > 127)
    throw new StompFrameError(`invalid activemq.priority '${text}' (an integer from -128 to 127)`)
  return n
}
