// One AMQP 1.0 session (Part 2.5.5-2.7): transfer ids and windows both ways, and its links by handle.
// A client's sender link (we receive) publishes each complete message to its queue or topic and settles
// it once stored; a client's receiver link (we send) is a queue consumer whose broker credit follows the
// link credit, and whose outcomes settle the leases: accepted acks, released and modified return the
// message, rejected dead-letters it (or drops it). Coordinator links and transactional work: coordinator.ts.
import type { StoredMessage } from '../../broker/message.js'
import type { Delivery } from '../../broker/queue/types.js'
import { AcceptedOutcomes } from './accepted.js'
import { attachReply, checkTarget, openSource, refusal, terminusAddress } from './addresses.js'
import { QueueBrowser } from './browse.js'
import { Amqp10FrameError } from './codec/frames.js'
import type { AnyInit, Composite, Init } from './codec/generated/types.js'
import { acceptedFrame } from './codec/per-message.js'
import { Described } from './codec/values.js'
import type { SessionHost } from './context.js'
import { coordinatorReply, isCoordinator, SessionTransactions } from './coordinator.js'
import { assemble, type IncomingLink, newIncomingLink, publishIncoming, rejectedDisposition } from './incoming.js'
import { encodeDelivery } from './message.js'
import { dropLocal, publisherOf } from './no-local.js'
import {
  closingDetach,
  newOutgoingLink,
  type OutgoingLink,
  readyFor,
  recreditOnRelease,
  settleByOutcome,
  transferFrames,
  whenDrained,
} from './outgoing.js'
import { closeSubscription, leaveSubscription } from './subscriptions.js'

type Attach = Composite & { kind: 'attach' }
type Flow = Composite & { kind: 'flow' }
type Transfer = Composite & { kind: 'transfer' }
type Disposition = Composite & { kind: 'disposition' }

/** Our incoming window: transfers the client may send before we top it up. */
const INCOMING_WINDOW = 2048

type Link = IncomingLink | OutgoingLink

export class Session {
  readonly #c: SessionHost
  readonly #channel: number
  readonly #links = new Map<number, Link>()
  #nextIncomingId: number
  #incomingWindow = INCOMING_WINDOW
  #nextOutgoingId = 0
  #remoteIncomingWindow: number
  /** Our unsettled deliveries by delivery id. */
  readonly #unsettled = new Map<number, { link: OutgoingLink; delivery: Delivery }>()
  /** Outcomes of stored messages, sent after the tick. */
  readonly #accepted = new AcceptedOutcomes((first, last) => this.#sendFrame(acceptedFrame(this.#channel, first, last)))
  /** Handles we detached with an error and the client has not yet answered: its frames on them are dropped. */
  readonly #closing = new Set<number>()
  #ended = false
  readonly #tx: SessionTransactions

  constructor(c: SessionHost, channel: number, begin: Composite & { kind: 'begin' }) {
    this.#c = c
    this.#channel = channel
    this.#tx = new SessionTransactions(c, { send: (p) => this.#send(p) })
    this.#nextIncomingId = begin.nextOutgoingId
    this.#remoteIncomingWindow = begin.incomingWindow
    c.send(channel, {
      kind: 'begin',
      remoteChannel: channel,
      nextOutgoingId: 0,
      incomingWindow: INCOMING_WINDOW,
      outgoingWindow: 2 ** 31,
      handleMax: c.host.limits.linksMax - 1,
    })
  }

  /** Handles a frame; an attach returns the promise of its setup, which later frames wait for. */
  handle(p: Composite, payload: Buffer): Promise<void> | undefined {
    switch (p.kind) {
      case 'attach':
        return this.#attach(p)
      case 'flow':
        this.#flow(p)
        return
      case 'transfer':
        this.#transfer(p, payload)
        return
      case 'disposition':
        this.#disposition(p)
        return
      case 'detach':
        void this.#detach(p.handle, p.closed, true)
        return
      default:
        throw new Amqp10FrameError(`${p.kind} is not a session frame`, 'amqp:connection:framing-error')
    }
  }

  #send(p: AnyInit, payload?: Buffer): void {
    if (!this.#ended) this.#c.send(this.#channel, p, payload)
  }

  #sendFrame(frame: Buffer, payload?: Buffer): void {
    if (!this.#ended) this.#c.sendFrame(frame, payload)
  }

  /** An attach refused: the reply attach with no terminus, then a closing detach with the error (Part 2.6.3). */
  #refuse(attach: Attach, condition: string, description: string): void {
    for (const frame of refusal(attach.name, attach.handle, !attach.role, condition, description)) this.#send(frame)
  }

  async #attach(a: Attach): Promise<void> {
    const c = this.#c
    if (a.role === false) {
      // The client sends: we receive into the target.
      const coordinator = isCoordinator(a.target)
      const address = coordinator ? undefined : terminusAddress(a.target)
      if (address !== undefined) {
        const refused = await checkTarget(c, address)
        if (refused !== undefined) return this.#refuse(a, ...refused)
      }
      const link = newIncomingLink(a, address)
      this.#links.set(a.handle, link)
      if (coordinator) this.#tx.attached(link)
      const target = coordinator ? { target: coordinatorReply() } : {}
      this.#send(attachReply(a, { role: true, maxMessageSize: BigInt(c.host.limits.maxMessageSize), ...target }))
      this.#grant(link)
      return
    }
    // The client receives: we send from the source.
    const source = await openSource(c, a.source, a.name)
    if ('refused' in source) return this.#refuse(a, ...source.refused)
    const { queue, ownQueue, durable } = source
    if (this.#ended) {
      if (durable !== undefined) leaveSubscription(c.broker.jms.durable, queue, c.id, durable)
      return
    }
    const browser = source.browse ? new QueueBrowser(c.broker, queue) : undefined
    const noLocal = source.noLocal ? publisherOf(c) : null
    const link = newOutgoingLink(a, { queue, ownQueue, durable, noLocal, browser })
    this.#links.set(a.handle, link)
    recreditOnRelease(link, () => this.#applyCredit(link))
    this.#send(attachReply(a, { role: false, source: source.reply, initialDeliveryCount: 0 }))
    if (browser !== undefined) return
    link.consumer = c.broker.consume(queue, {
      owner: c.id,
      tag: `amqp10-${c.id}-${a.handle}`,
      selector: source.selector,
      creditGroup: link.creditGroup,
      onDeliver: (deliveries) => this.#deliver(link, deliveries),
      onCancel: (reason) => this.#send(closingDetach(link.handle, 'amqp:resource-deleted', reason)),
    })
  }

  /** Tops up a client sender's credit to the configured amount (as messages are stored); true if a flow went out. */
  #grant(link: IncomingLink): boolean {
    const limit = this.#c.host.limits.linkCredit
    const want = limit - link.inflight
    // In batches of at least half the limit: not a flow frame for every message stored.
    if (this.#ended || want - link.credit < limit / 2) return false
    link.credit = want
    this.#sendLinkFlow(link)
    return true
  }

  #transfer(t: Transfer, payload: Buffer): void {
    const link = this.#links.get(t.handle)
    if (link === undefined) {
      if (this.#closing.has(t.handle)) return // sent before the client saw our detach
      throw new Amqp10FrameError(`transfer on unattached handle ${t.handle}`, 'amqp:session:unattached-handle')
    }
    if (link.role !== 'receiver')
      throw new Amqp10FrameError('transfer on a link where the broker sends', 'amqp:session:errant-link')
    this.#nextIncomingId++
    if (--this.#incomingWindow < INCOMING_WINDOW / 2) {
      this.#incomingWindow = INCOMING_WINDOW
      this.#send(this.#sessionFlow())
    }
    if (t.deliveryId === undefined && link.partial === undefined && !t.aborted)
      throw new Amqp10FrameError('first transfer of a delivery without delivery-id', 'amqp:invalid-field')
    // A new delivery needs link credit (Part 2.6.7): a client ignoring it would publish without bound.
    if (link.partial === undefined && !t.aborted && link.credit <= 0) {
      this.#closeLink(link, 'amqp:link:transfer-limit-exceeded', 'transfer without link credit')
      return
    }
    this.#tx.note(link, t)
    const message = assemble(link, t, payload, this.#c.host.limits.maxMessageSize)
    if (message === null) return
    if (message === 'too-large') {
      const limit = this.#c.host.limits.maxMessageSize
      this.#closeLink(link, 'amqp:link:message-size-exceeded', `message over ${limit} bytes`)
      return
    }
    if (this.#tx.take(link, message)) this.#grant(link)
    else this.#publish(link, message.deliveryId, message.settled, message.bytes)
  }

  /** Detaches a client's sender with an error: its later transfers are on an unattached handle. */
  #closeLink(link: IncomingLink, condition: string, description: string): void {
    this.#send(closingDetach(link.handle, condition, description))
    this.#links.delete(link.handle)
    this.#closing.add(link.handle)
  }

  #publish(link: IncomingLink, deliveryId: number, settled: boolean, bytes: Buffer): void {
    const done = publishIncoming(this.#c, link, bytes)
    link.inflight++
    done.then(
      () => {
        link.inflight--
        if (!settled) this.#accepted.add(deliveryId)
        this.#grant(link)
      },
      (error: unknown) => {
        link.inflight--
        if (!settled) this.#send(rejectedDisposition(deliveryId, error))
        this.#grant(link)
      },
    )
  }

  #flow(f: Flow): void {
    if (f.nextIncomingId !== undefined)
      this.#remoteIncomingWindow = f.nextIncomingId + f.incomingWindow - this.#nextOutgoingId
    else this.#remoteIncomingWindow = f.incomingWindow
    if (f.handle === undefined) {
      this.resumeOutgoing()
      return
    }
    const link = this.#links.get(f.handle)
    if (link === undefined) {
      if (this.#closing.has(f.handle)) return
      throw new Amqp10FrameError(`flow on unattached handle ${f.handle}`, 'amqp:session:unattached-handle')
    }
    if (link.role === 'receiver') {
      if (f.echo && !this.#grant(link)) this.#sendLinkFlow(link)
      return
    }
    // The receiver's view: credit = its delivery-count + link-credit - ours.
    const credit = (f.deliveryCount ?? 0) + (f.linkCredit ?? 0) - link.deliveryCount
    link.credit = Math.max(0, credit)
    link.drain = f.drain
    this.#applyCredit(link)
    if (link.drain) setImmediate(() => this.#finishDrain(link))
    if (f.echo) this.#sendLinkFlow(link)
  }

  /** The broker consumer may take as many deliveries as the link has credit (and the session window allows). */
  #applyCredit(link: OutgoingLink): void {
    if (link.browser !== undefined) {
      this.#browse(link, link.browser)
      return
    }
    const room = Math.min(link.credit, Math.max(0, this.#remoteIncomingWindow))
    if (room <= 0 || this.#c.backedUp) {
      link.creditGroup.hold()
      return
    }
    link.creditGroup.resize(link.creditGroup.used + room)
    link.creditGroup.resume()
  }

  /** Drain (Part 2.6.7): once nothing more is on its way, the rest of the credit is spent and the client told. */
  #finishDrain(link: OutgoingLink): void {
    whenDrained(
      link,
      () => link.drain && !this.#ended && this.#links.has(link.handle),
      () => readyFor(this.#c.broker, link),
      () => {
        link.deliveryCount += link.credit
        link.credit = 0
        // The flow still says drain: that is how the client (rhea, Qpid JMS) learns the drain is done.
        this.#sendLinkFlow(link)
        link.drain = false
        this.#applyCredit(link)
      },
    )
  }

  /** The session's flow state, alone (window top-up) or with a link's (credit, drain). */
  #sessionFlow(): Init<Flow> {
    return {
      kind: 'flow',
      nextIncomingId: this.#nextIncomingId,
      incomingWindow: this.#incomingWindow,
      nextOutgoingId: this.#nextOutgoingId,
      outgoingWindow: 2 ** 31,
    }
  }

  #sendLinkFlow(link: Link): void {
    this.#send({
      ...this.#sessionFlow(),
      handle: link.handle,
      deliveryCount: link.deliveryCount,
      linkCredit: link.credit,
      available: 0,
      drain: link.role === 'sender' ? link.drain : false,
    })
  }

  resumeOutgoing(): void {
    for (const link of this.#links.values()) if (link.role === 'sender') this.#applyCredit(link)
  }

  #deliver(link: OutgoingLink, deliveries: Delivery[]): void {
    const c = this.#c
    if (this.#ended || !this.#links.has(link.handle)) {
      for (const d of deliveries) c.broker.deliveries.nack(d, true)
      return
    }
    if (link.noLocal !== null) deliveries = dropLocal(c.broker, link, link.noLocal, deliveries)
    for (const d of deliveries) {
      if (d.redelivered) c.host.traffic.messagesRedelivered++
      const deliveryId = this.#transmit(link, d.message, d.deliveryCount)
      if (link.settled) c.output.whenWritten(() => c.broker.deliveries.settle(d))
      else this.#unsettled.set(deliveryId, { link, delivery: d })
    }
    this.#applyCredit(link)
  }

  /** One delivery's transfer frames, split to fit the client's max-frame-size; returns its delivery id. */
  #transmit(link: OutgoingLink, message: StoredMessage, deliveryCount: number): number {
    const deliveryId = this.#nextOutgoingId++
    this.#remoteIncomingWindow--
    link.deliveryCount++
    link.credit--
    const bytes = encodeDelivery(message, deliveryCount)
    const traffic = this.#c.host.traffic
    traffic.messagesDelivered++
    traffic.bytesDelivered += message.value?.length ?? 0
    const frameRoom = this.#c.remoteMaxFrameSize - 256
    for (const [head, payload] of transferFrames(link, this.#channel, deliveryId, bytes, frameRoom))
      this.#sendFrame(head, payload)
    return deliveryId
  }

  /** A browsing link: the browser sends what the credit allows, pre-settled, as the queue's messages are read. */
  #browse(link: OutgoingLink, browser: QueueBrowser): void {
    void browser.pump({
      room: () => (this.#c.backedUp ? 0 : Math.min(link.credit, this.#remoteIncomingWindow)),
      live: () => !this.#ended && this.#links.get(link.handle) === link,
      send: (message) => this.#transmit(link, message, 1),
    })
  }

  #disposition(d: Disposition): void {
    if (d.role !== true) return // the client settles its own sends' outcomes: nothing to do here
    const last = d.last ?? d.first
    if (last - d.first > 1_000_000) throw new Amqp10FrameError('disposition range too large', 'amqp:invalid-field')
    const state = d.state instanceof Described ? undefined : (d.state as Composite | undefined)
    for (let id = d.first; id <= last; id++) {
      const entry = this.#unsettled.get(id)
      if (entry === undefined) continue
      this.#unsettled.delete(id)
      const { link, delivery } = entry
      if (!this.#tx.settle(delivery, state)) settleByOutcome(this.#c.broker, this.#c.host.traffic, delivery, state)
      this.#applyCredit(link)
    }
  }

  async #detach(handle: number, closed: boolean, reply: boolean): Promise<void> {
    const link = this.#links.get(handle)
    // The client's answer to our detach (or a detach of nothing): no reply.
    if (link === undefined) {
      this.#closing.delete(handle)
      return
    }
    this.#links.delete(handle)
    if (link.role === 'receiver') this.#tx.detached(link)
    if (link.role === 'sender') {
      await this.#stopSender(link)
      // A durable subscription: detach keeps it for later, close (the client unsubscribes) removes it.
      if (closed && link.durable !== undefined) await closeSubscription(this.#c.broker.jms.durable, link.durable)
    }
    if (reply) this.#send({ kind: 'detach', handle, closed })
  }

  async #stopSender(link: OutgoingLink): Promise<void> {
    const broker = this.#c.broker
    if (link.consumer !== undefined) broker.getQueue(link.queue)?.cancel(link.consumer)
    if (link.durable !== undefined) leaveSubscription(broker.jms.durable, link.queue, this.#c.id, link.durable)
    for (const [id, entry] of this.#unsettled) {
      if (entry.link !== link) continue
      this.#unsettled.delete(id)
      broker.deliveries.nack(entry.delivery, true)
    }
    if (link.ownQueue) await broker.deleteQueue(link.queue).catch(() => {})
  }

  /** The session ends (by the client, reply true; or with the connection): every link stops. */
  end(reply: boolean): void {
    if (reply) this.#send({ kind: 'end' })
    this.#ended = true
    this.#tx.end()
    for (const link of [...this.#links.values()]) {
      this.#links.delete(link.handle)
      if (link.role === 'sender') void this.#stopSender(link)
    }
  }
}
