// Outbound delivery of one connection: consuming the session queue (QoS ≥ 1, persistent sessions) and
// shared-subscription queues, the in-memory sink of a clean session (QoS 0, and QoS ≥ 1 through the waiting
// list of pending.ts, refilled in batches), the inflight window (credit, packet ids) and the client's
// PUBACK / PUBREC / PUBCOMP that settle it. Encoding and writing a PUBLISH is publish-writer.ts. Every
// delivery is a Read of its topic (as Mosquitto checks each message): a wildcard subscription does not carry
// topics the principal may not read, and rules changed since SUBSCRIBE apply (decisions are cached).
import type { QoS } from 'mqtt-packet'
import { CreditGroup } from '../../../broker/credit.js'
import { headerText, type StoredMessage } from '../../../broker/message.js'
import { deliveryKey } from '../../../broker/queue/deliveries.js'
import type { QueueConsumer } from '../../../broker/queue/queue.js'
import type { Delivery } from '../../../broker/queue/types.js'
import { type Subscription, sharedQueueName } from '../session/session.js'
import { MqttError, Reason } from '../wire/errors.js'
import { type DeliveryView, deliveryView } from '../wire/message.js'
import { OfflineBoundary } from './offline-qos0.js'
import type { Output } from './output.js'
import { PendingDeliveries, type PendingDelivery, pendingBytes } from './pending.js'
import type { PublishWriter } from './publish-writer.js'
import type { ConnectionCore } from './state.js'

type OutboundContext = ConnectionCore & { readonly output: Output; readonly publishWriter: PublishWriter }

interface Outbound {
  /** The queue delivery to settle, or null for a clean-session or retained message (no queue). */
  delivery: Delivery | null
  qos: 1 | 2
  key: string
  /** Payload bytes it counts against maxInflightBytes (clean-session deliveries only). */
  bytes: number
}

/** A clean session with this many QoS ≥ 1 messages waiting holds publishers back until it is down to LOW. */
const BACKLOG_HIGH = 512
const BACKLOG_LOW = 128

export class OutboundDeliveries {
  readonly #c: OutboundContext
  readonly #inflight = new Map<number, Outbound>()
  #nextId = 0
  /** The inflight window (the client's Receive Maximum), shared by every queue this connection consumes. */
  readonly credit: CreditGroup
  /** QoS ≥ 1 deliveries of a queue-less (clean) session waiting for inflight room. */
  readonly #waiting: PendingDeliveries
  #sessionConsumer: QueueConsumer | null = null
  /** Where the session's offline time ends in its queue (offline-qos0.ts); null: QoS 0 is kept offline. */
  #offline: OfflineBoundary | null = null
  readonly #sharedConsumers = new Map<string, QueueConsumer>()
  #clientIdBytes: Buffer | undefined
  /** Payload bytes of the clean-session deliveries in flight (bounded by maxInflightBytes). */
  #inflightBytes = 0

  constructor(c: OutboundContext) {
    this.#c = c
    this.credit = new CreditGroup(c.hub.limits.maxInflight)
    this.#waiting = new PendingDeliveries(c.hub.limits.maxQueuedPerSession, c.hub.limits.maxQueuedBytesPerSession)
  }

  get inflightCount(): number {
    return this.#inflight.size
  }

  /** Payload bytes of the clean-session deliveries in flight (bounded by maxInflightBytes). */
  get inflightBytes(): number {
    return this.#inflightBytes
  }

  get waitingCount(): number {
    return this.#waiting.size
  }

  /** Payload bytes of the waiting list (bounded by maxQueuedBytesPerSession). */
  get waitingBytes(): number {
    return this.#waiting.bytes
  }

  /** Starts consuming the session queue (when it exists and we are connected). */
  consumeSession(): void {
    const c = this.#c
    const session = c.session
    if (c.state !== 'connected' || session === null || this.#sessionConsumer !== null) return
    if (!c.hub.sessionQueueOpen(session)) return
    this.#offline = OfflineBoundary.of(c.hub.broker, session.queueName, c.hub.limits.queueQos0Messages)
    this.#sessionConsumer = c.hub.broker.consume(session.queueName, {
      owner: c.connection.id,
      creditGroup: this.credit,
      onDeliver: (deliveries) => this.#onDeliver(deliveries, null),
    })
  }

  consumeShared(sub: Subscription): void {
    const c = this.#c
    const queue = sharedQueueName(sub.group ?? '', sub.topicFilter)
    if (c.state !== 'connected' || this.#sharedConsumers.has(queue) || c.hub.broker.getQueue(queue) === undefined)
      return
    this.#sharedConsumers.set(
      queue,
      c.hub.broker.consume(queue, {
        owner: c.connection.id,
        creditGroup: this.credit,
        onDeliver: (deliveries) => this.#onDeliver(deliveries, sub),
      }),
    )
  }

  stopShared(queue: string): void {
    if (!this.#sharedConsumers.delete(queue)) return
    this.#c.hub.broker.getQueue(queue)?.releaseOwner(this.#c.connection.id)
  }

  /** Teardown: hand every queue's unacked deliveries back and forget the inflight window and waiting list. */
  release(): void {
    const c = this.#c
    const broker = c.hub.broker
    const session = c.session
    if (session !== null) c.hub.releaseSessionQueue(session, c.connection.id)
    for (const queue of this.#sharedConsumers.keys()) broker.getQueue(queue)?.releaseOwner(c.connection.id)
    this.#sharedConsumers.clear()
    this.#sessionConsumer = null
    this.#inflight.clear()
    this.#inflightBytes = 0
    this.#waiting.clear()
  }

  /** Subscriptions of this session a message matched (the dotted-topic fallback maps RabbitMQ's lossy keys). */
  #matches(message: StoredMessage, topic: string): Subscription[] {
    const out: Subscription[] = []
    const trie = this.#c.session!.trie
    trie.match(topic, (sub) => out.push(sub))
    if (out.length === 0) {
      const routed = headerText(message.headers, 'wharf.routing-key')
      if (routed !== undefined) trie.match(routed.replaceAll('*', '+').replaceAll('.', '/'), (sub) => out.push(sub))
    }
    return out
  }

  /** QoS 0 message from the in-memory sink (clean sessions). */
  deliverSink(message: StoredMessage): void {
    const c = this.#c
    if (c.state !== 'connected') return
    const session = c.session!
    const view = deliveryView(message)
    const subs = this.#matches(message, view.topic)
    if (subs.length === 0 || !c.access!.allows('Read', 'MqttTopic', view.topic)) return
    // The session queue delivers this message too (an overlapping queued subscription): one copy only.
    if (subs.some((s) => session.queued(s))) return
    if (subs.every((s) => s.noLocal) && this.#isLocal(view)) return
    let subQos = 0
    for (const s of subs) if (s.qos > subQos) subQos = s.qos
    const qos = Math.min(view.qos, subQos) as QoS
    if (qos > 0) {
      const retain = view.retain && subs.some((s) => s.retainAsPublished)
      const item: PendingDelivery = { message, view, qos: qos as 1 | 2, retain, ids: subIds(subs) }
      if (this.#waiting.size === 0 && this.#roomFor(item)) this.#sendVolatile(item)
      else if (!this.#waiting.push(item)) c.hub.stats.dropped++
      else if (!c.output.backlogged && this.#waiting.size >= BACKLOG_HIGH) c.output.setBacklogged(true)
      return
    }
    if (c.output.bufferedBytes > c.hub.limits.maxWriteBufferBytes) {
      c.hub.stats.dropped++
      return
    }
    const expiry = viewExpiry(view, message, c.hub.broker.now())
    if (expiry !== undefined && expiry <= 0) return
    const options = c.publishWriter.prepare(0)
    options.retain = view.retain && subs.some((s) => s.retainAsPublished)
    options.subscriptionIds = subIds(subs)
    options.expiry = expiry
    c.publishWriter.send(view, message, options)
  }

  /**
   * The inflight window has room for this clean-session delivery: by count (Receive Maximum) and by payload
   * bytes, where one message always fits an empty window (as Mosquitto's max_inflight_bytes): a client that
   * does not read holds at most that much in the socket's write buffer.
   */
  #roomFor(item: PendingDelivery): boolean {
    if (!this.credit.available) return false
    return this.#inflightBytes === 0 || this.#inflightBytes + pendingBytes(item) <= this.#c.hub.limits.maxInflightBytes
  }

  /** Sends a QoS 1/2 delivery of a session without a queue; the inflight window has room. */
  #sendVolatile(item: PendingDelivery): void {
    const expiry = viewExpiry(item.view, item.message, this.#c.hub.broker.now())
    if (expiry !== undefined && expiry <= 0) return
    const id = this.#allocateId()
    const out: Outbound = { delivery: null, qos: item.qos, key: `v\u0000${id}`, bytes: pendingBytes(item) }
    this.#inflightBytes += out.bytes
    this.credit.take()
    this.#inflight.set(id, out)
    const options = this.#c.publishWriter.prepare(item.qos)
    options.retain = item.retain
    options.messageId = id
    options.subscriptionIds = item.ids
    options.expiry = expiry
    if (!this.#c.publishWriter.send(item.view, item.message, options)) {
      this.#complete(id, out) // too large for the client: discarded as if delivered [MQTT-3.1.2-25]
    }
  }

  /** Takes a packet id and an inflight slot for a retained QoS 1/2 message sent on SUBSCRIBE. */
  reserveRetained(qos: 1 | 2): number {
    const messageId = this.#allocateId()
    this.credit.take()
    this.#inflight.set(messageId, { delivery: null, qos, key: `r\u0000${messageId}`, bytes: 0 })
    return messageId
  }

  /** A reserved retained delivery that could not be sent (too large for the client): free its id and slot. */
  releaseRetained(messageId: number): void {
    const out = this.#inflight.get(messageId)
    if (out !== undefined && out.delivery === null) this.#complete(messageId, out)
  }

  #isLocal(view: DeliveryView): boolean {
    if (view.from === undefined) return false
    this.#clientIdBytes ??= Buffer.from(this.#c.clientId)
    return view.from.equals(this.#clientIdBytes)
  }

  #onDeliver(deliveries: Delivery[], shared: Subscription | null): void {
    const c = this.#c
    const session = c.session
    if (c.state !== 'connected' || session === null) return // released with the owner on teardown
    // QoS 2 exactly once across a broker restart: a persistent session's new packet ids for QoS 2 messages
    // are made durable (with the session) before those PUBLISHes leave, so a resend after a restart or
    // SIGKILL carries the same id and the client does not deliver it twice [MQTT-4.4.0-1].
    if (session.persistent) {
      let fresh = false
      for (const d of deliveries) {
        const key = deliveryKey(d)
        if (session.packetIds.has(key) || deliveryView(d.message).qos !== 2) continue
        session.packetIds.set(key, this.#allocateId())
        fresh = true
      }
      if (fresh) {
        const resume = () => this.#onDeliver(deliveries, shared)
        c.hub.save(session).then(resume, (error) => {
          c.hub.logger.warn({ err: error, clientId: c.clientId }, 'saving MQTT packet ids failed')
          resume()
        })
        return
      }
    }
    const broker = c.hub.broker
    const now = broker.now()
    // One batch per drain of one queue: its packets leave in one writev (see Output.write).
    for (const d of deliveries) {
      const message = d.message
      const view = deliveryView(message)
      const subs = shared !== null ? [shared] : this.#matches(message, view.topic)
      const expiry = viewExpiry(view, message, now)
      const key = deliveryKey(d)
      if (
        subs.length === 0 ||
        (expiry !== undefined && expiry <= 0) ||
        (subs.every((s) => s.noLocal) && this.#isLocal(view)) ||
        !c.access!.allows('Read', 'MqttTopic', view.topic)
      ) {
        this.#forgetId(key)
        broker.deliveries.settle(d)
        continue
      }
      let subQos = 0
      for (const s of subs) if (s.qos > subQos) subQos = s.qos
      const qos = Math.min(view.qos, subQos) as QoS
      const retain = view.retain && subs.some((s) => s.retainAsPublished)
      if (qos === 0) {
        this.#forgetId(key)
        const full = c.output.bufferedBytes > c.hub.limits.maxWriteBufferBytes
        if (full || (shared === null && this.#offline?.queuedOffline(message))) c.hub.stats.dropped++
        else {
          const options = c.publishWriter.prepare(0)
          options.retain = retain
          options.subscriptionIds = subIds(subs)
          options.expiry = expiry
          c.publishWriter.send(view, message, options)
        }
        broker.deliveries.settle(d)
        continue
      }
      let id = session.packetIds.get(key)
      if (id === undefined) {
        id = this.#allocateId()
        session.packetIds.set(key, id)
      }
      const out: Outbound = { delivery: d, qos: qos as 1 | 2, key, bytes: 0 }
      this.#inflight.set(id, out)
      // The queue's redelivered flag may miss a delivery made just before a SIGKILL; a restored id does not.
      const dup = d.redelivered || session.sentBeforeRestart.delete(key)
      const options = c.publishWriter.prepare(qos)
      options.retain = retain
      options.dup = dup
      options.messageId = id
      options.subscriptionIds = subIds(subs)
      options.expiry = expiry
      if (!c.publishWriter.send(view, message, options)) {
        // Too large for the client (its Maximum Packet Size): discarded as if delivered [MQTT-3.1.2-25].
        this.#complete(id, out)
      }
    }
  }

  /** Drops a packet id reserved for a delivery that will not be sent with one. */
  #forgetId(key: string): void {
    const session = this.#c.session!
    const id = session.packetIds.get(key)
    if (id === undefined) return
    session.packetIds.delete(key)
    session.idsInUse.delete(id)
  }

  #allocateId(): number {
    const used = this.#c.session!.idsInUse
    for (let i = 0; i < 0xffff; i++) {
      this.#nextId = (this.#nextId % 0xffff) + 1
      if (!used.has(this.#nextId) && !this.#inflight.has(this.#nextId)) {
        used.add(this.#nextId)
        return this.#nextId
      }
    }
    throw new MqttError(Reason.quotaExceeded, 'no free packet identifier')
  }

  // ---- outbound acknowledgements ----

  onPuback(id: number): void {
    const out = this.#inflight.get(id)
    if (out === undefined || out.qos !== 1) return // unknown id: a late duplicate; nothing to settle
    this.#complete(id, out)
  }

  onPubrec(id: number, reasonCode: number): void {
    const c = this.#c
    const out = this.#inflight.get(id)
    const session = c.session!
    if (out === undefined || out.qos !== 2) {
      // Already released (a resend after reconnect crossed our PUBREL): release again.
      if (session.outRel.has(id)) c.output.send({ cmd: 'pubrel', messageId: id })
      else if (c.version === 5)
        c.output.send({ cmd: 'pubrel', messageId: id, reasonCode: Reason.packetIdentifierNotFound })
      return
    }
    this.#complete(id, out)
    if (reasonCode >= 0x80) return // the receiver refused it: the exchange ends here
    session.outRel.add(id)
    session.idsInUse.add(id)
    void c.hub.save(session).catch(() => {})
    c.output.send({ cmd: 'pubrel', messageId: id })
  }

  onPubcomp(id: number): void {
    const c = this.#c
    const session = c.session!
    if (!session.outRel.delete(id)) return
    session.idsInUse.delete(id)
    void c.hub.save(session).catch(() => {})
  }

  /** A QoS 1/2 delivery is done from the queue's point of view: ack it, free its packet id. */
  #complete(id: number, out: Outbound): void {
    const c = this.#c
    c.hub.traffic.messagesAcknowledged++
    this.#inflight.delete(id)
    this.#inflightBytes -= out.bytes
    const session = c.session!
    session.packetIds.delete(out.key)
    session.idsInUse.delete(id)
    if (out.delivery === null) {
      this.credit.release()
      // Refill the window in batches of a quarter of it, not one PUBLISH per PUBACK: under load that turns
      // many one-packet socket writes into a few larger ones (the client still has the rest in flight).
      if (this.#waiting.size > 0 && this.credit.room >= Math.max(1, this.credit.limit >> 2)) {
        for (let next = this.#waiting.peek(); next !== undefined && this.#roomFor(next); next = this.#waiting.peek()) {
          if (c.state !== 'connected') break
          this.#sendVolatile(this.#waiting.shift()!)
        }
        if (c.output.backlogged && this.#waiting.size <= BACKLOG_LOW) c.output.setBacklogged(false)
      }
      return
    }
    c.hub.broker.deliveries.settle(out.delivery)
  }
}

/** Seconds of life left (see remainingExpiry), from an already scanned message. */
function viewExpiry(view: DeliveryView, message: StoredMessage, now: number): number | undefined {
  if (view.expiryText === undefined) return undefined
  return Number(view.expiryText.toString('latin1')) - Math.floor((now - message.timestamp) / 1000)
}

function subIds(subs: Subscription[]): number[] | undefined {
  let ids: number[] | undefined
  for (const s of subs) {
    if (s.id === undefined) continue
    ids ??= []
    ids.push(s.id)
  }
  return ids
}
