// One AMQP 1.0 session (Part 2.5.5-2.7): transfer ids and windows both ways, and its links by handle.
// A client's sender link (we receive) publishes each complete message to its queue or topic and settles
// it once stored; a client's receiver link (we send) is a queue consumer whose broker credit follows the
// link credit, and whose outcomes settle the leases: accepted acks, released and modified return the
// message, rejected dead-letters it (or drops it). Coordinator links and transactional work: coordinator.ts.
import type { StoredMessage } from '../../broker/message.js'
import type { Delivery } from '../../broker/queue/types.js'
import { attachReply, checkTarget, openSource, refusal, terminusAddress } from './addresses.js'
import { Attaching } from './attaching.js'
import { QueueBrowser } from './browse.js'
import { Amqp10FrameError } from './codec/frames.js'
import type { AnyInit, Composite, Init } from './codec/generated/types.js'
import { Described } from './codec/values.js'
import type { SessionHost } from './context.js'
import { coordinatorReply, isCoordinator, SessionTransactions } from './coordinator.js'
import { assemble, type IncomingLink, publishIncoming, rejectionOf } from './incoming.js'
import { encodeDelivery } from './message.js'
import { dropLocal, publisherOf } from './no-local.js'
import { newOutgoingLink, type OutgoingLink, settleByOutcome, transferFrames } from './outgoing.js'
import { leaveSubscription } from './subscriptions.js'

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
  /** Attaches under way, and the frames for their handles that wait for them. */
  readonly #attaching = new Attaching()
  #nextIncomingId: number
  #incomingWindow = INCOMING_WINDOW
  #nextOutgoingId = 0
  #remoteIncomingWindow: number
  /** Our unsettled deliveries by delivery id. */
  readonly #unsettled = new Map<number, { link: OutgoingLink; delivery: Delivery }>()
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

  handle(p: Composite, payload: Buffer): void {
    switch (p.kind) {
      case 'attach':
        this.#attaching.start(p.handle, this.#links.has(p.handle))
        void this.#attach(p).finally(() => this.#attaching.done(p.handle))
        return
      case 'flow':
        this.#attaching.run(p.handle, () => this.#flow(p))
        return
      case 'transfer':
        this.#transfer(p, payload)
        return
      case 'disposition':
        this.#disposition(p)
        return
      case 'detach':
        this.#attaching.run(p.handle, () => void this.#detach(p.handle, p.closed, true))
        return
      default:
        throw new Amqp10FrameError(`${p.kind} is not a session frame`, 'amqp:connection:framing-error')
    }
  }

  #send(p: AnyInit, payload?: Buffer): void {
    if (!this.#ended) this.#c.send(this.#channel, p, payload)
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
      const link: IncomingLink = {
        role: 'receiver',
        handle: a.handle,
        name: a.name,
        target: address,
        deliveryCount: a.initialDeliveryCount ?? 0,
        credit: 0,
        partial: undefined,
        inflight: 0,
      }
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
    const creditGroup = link.creditGroup
    this.#links.set(a.handle, link)
    // The group counts leases, released as they end (at a commit, long after a disposition): room = link credit.
    let recrediting = false
    creditGroup.onRelease(() => {
      if (recrediting) return
      recrediting = true
      this.#applyCredit(link)
      recrediting = false
    })
    this.#send(attachReply(a, { role: false, source: source.reply, initialDeliveryCount: 0 }))
    if (browser !== undefined) return
    link.consumer = c.broker.consume(queue, {
      owner: c.id,
      tag: `amqp10-${c.id}-${a.handle}`,
      selector: source.selector,
      creditGroup,
      onDeliver: (deliveries) => this.#deliver(link, deliveries),
      onCancel: (reason) =>
        this.#send({
          kind: 'detach',
          handle: link.handle,
          closed: true,
          error: { kind: 'error', condition: 'amqp:resource-deleted', description: reason },
        } as AnyInit),
    })
  }

  /** Tops up a client sender's credit to the configured amount (as messages are stored). */
  #grant(link: IncomingLink): void {
    const limit = this.#c.host.limits.linkCredit
    const want = limit - link.inflight
    // Topped up in batches, not a flow frame per message.
    if (want <= link.credit || link.credit > limit / 2 || this.#ended) return
    link.credit = want
    this.#sendLinkFlow(link)
  }

  #transfer(t: Transfer, payload: Buffer): void {
    const link = this.#links.get(t.handle)
    if (link === undefined)
      throw new Amqp10FrameError(`transfer on unattached handle ${t.handle}`, 'amqp:session:unattached-handle')
    if (link.role !== 'receiver')
      throw new Amqp10FrameError('transfer on a link where the broker sends', 'amqp:session:errant-link')
    this.#nextIncomingId++
    if (--this.#incomingWindow < INCOMING_WINDOW / 2) {
      this.#incomingWindow = INCOMING_WINDOW
      this.#send(this.#sessionFlow())
    }
    if (t.deliveryId === undefined && link.partial === undefined && !t.aborted)
      throw new Amqp10FrameError('first transfer of a delivery without delivery-id', 'amqp:invalid-field')
    this.#tx.note(link, t)
    const message = assemble(link, t, payload, this.#c.host.limits.maxMessageSize)
    if (message === null) return
    if (message === 'too-large') {
      this.#send({
        kind: 'detach',
        handle: link.handle,
        closed: true,
        error: {
          kind: 'error',
          condition: 'amqp:link:message-size-exceeded',
          description: `message over ${this.#c.host.limits.maxMessageSize} bytes`,
        },
      } as AnyInit)
      this.#links.delete(link.handle)
      return
    }
    if (this.#tx.take(link, message)) this.#grant(link)
    else this.#publish(link, message.deliveryId, message.settled, message.bytes)
  }

  #publish(link: IncomingLink, deliveryId: number, settled: boolean, bytes: Buffer): void {
    const done = publishIncoming(this.#c, link, bytes)
    link.inflight++
    done.then(
      () => {
        link.inflight--
        if (!settled)
          this.#send({
            kind: 'disposition',
            role: true,
            first: deliveryId,
            settled: true,
            state: { kind: 'accepted' },
          } as AnyInit)
        this.#grant(link)
      },
      (error: unknown) => {
        link.inflight--
        if (!settled)
          this.#send({
            kind: 'disposition',
            role: true,
            first: deliveryId,
            settled: true,
            state: { kind: 'rejected', error: rejectionOf(error) },
          } as AnyInit)
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
    if (link === undefined)
      throw new Amqp10FrameError(`flow on unattached handle ${f.handle}`, 'amqp:session:unattached-handle')
    if (link.role === 'receiver') {
      if (f.echo) this.#grant(link)
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

  /** Drain: nothing more to send now, so the remaining credit is spent and the client told. */
  #finishDrain(link: OutgoingLink): void {
    if (!link.drain || this.#ended || !this.#links.has(link.handle)) return
    const stats = this.#c.broker.getQueue(link.queue) === undefined ? undefined : this.#c.broker.queueStats(link.queue)
    const more = link.browser !== undefined ? !link.browser.finished : stats !== undefined && stats.ready > 0
    if (link.credit > 0 && more) {
      setTimeout(() => this.#finishDrain(link), 5).unref()
      return
    }
    link.deliveryCount += link.credit
    link.credit = 0
    // The flow still says drain: that is how the client (rhea, Qpid JMS) learns the drain is done.
    this.#sendLinkFlow(link)
    link.drain = false
    this.#applyCredit(link)
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
      if (link.settled) {
        c.output.whenWritten(() => c.broker.deliveries.settle(d))
      } else this.#unsettled.set(deliveryId, { link, delivery: d })
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
    for (const [transfer, payload] of transferFrames(link, deliveryId, bytes, this.#c.remoteMaxFrameSize - 256))
      this.#send(transfer, payload)
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
    if (link === undefined) return
    this.#links.delete(handle)
    if (link.role === 'receiver') this.#tx.detached(link)
    if (link.role === 'sender') {
      await this.#stopSender(link)
      // A durable subscription: detach keeps it for later, close (the client unsubscribes) removes it.
      if (closed && link.durable !== undefined && !link.durable.volatile) {
        const { clientId, name } = link.durable
        await this.#c.broker.jms.durable.unsubscribe(clientId, name).catch(() => {})
      }
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
