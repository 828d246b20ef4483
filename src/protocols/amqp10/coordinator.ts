// Local transactions (AMQP 1.0 Part 4) over the broker's transactions (src/broker/transactions). A client's
// sender whose target is a `coordinator` is the control link: a `declare` message begins a broker transaction
// and is answered with `declared` and its txn-id; a `discharge` commits it (fail false) or rolls it back. A
// transfer carrying `transactional-state` is held by its transaction (answered with transactional-state /
// accepted) and stored at commit; a disposition carrying it acks, returns or dead-letters its delivery at
// commit, the delivery staying leased until then. Txn-ids are the connection's: a transaction declared on one
// session may be used on the connection's other sessions. A transaction is rolled back when its control link
// detaches, its session ends or the connection closes, and after `transactionTimeoutMs` (its discharge then
// fails with amqp:transaction:timeout). One whose send or settlement the broker refused is rolled back at once
// and its commit fails with amqp:transaction:rollback.

import type { PublishMessage } from '../../broker/message.js'
import type { Delivery } from '../../broker/queue/types.js'
import type { SendTarget, Transaction } from '../../broker/transactions/transaction.js'
import { isWharfError } from '../../util/errors.js'
import { type Address, checkTarget, parseAddress, TOPIC_EXCHANGE } from './addresses.js'
import { Decoder } from './codec/decoder.js'
import { Amqp10FrameError } from './codec/frames.js'
import { type AnyInit, type Composite, fromDescribed } from './codec/generated/types.js'
import { Amqp10DecodeError, Described } from './codec/values.js'
import type { SessionHost } from './context.js'
import { type Assembled, DeliveryRefused, type IncomingLink } from './incoming.js'
import { toPublish } from './message.js'

type Transfer = Composite & { kind: 'transfer' }
type TransactionalState = Composite & { kind: 'transactional-state' }
/** A delivery state as the encoder takes it (declared, accepted, rejected, transactional-state). */
type State = Record<string, unknown>

/** The capability a coordinator target offers: local transactions, several per session. */
export const COORDINATOR_CAPABILITIES = ['amqp:local-transactions', 'amqp:multi-txns-per-ssn']

interface Declared {
  tx: Transaction
  /** open; failed (an operation was refused: rolled back, its commit fails); timed-out (rolled back). */
  state: 'open' | 'failed' | 'timed-out'
  reason: string | undefined
  /** The session whose control link declared it: it dies with that link and that session. */
  owner: SessionTransactions
  link: IncomingLink
  timer: NodeJS.Timeout
  /** Anonymous relay sends whose destination is being checked: later sends and the discharge wait for them. */
  checking: Promise<void> | undefined
}

/** The declared transactions of each connection, by txn-id (hex). */
const byConnection = new WeakMap<SessionHost, Map<string, Declared>>()
let txnSeq = 0

/** What the coordinator needs of its session: a way to send a performative on its channel. */
export interface TransactionSession {
  send(p: AnyInit): void
}

/** Whether an attach's target is a transaction coordinator. */
export function isCoordinator(target: unknown): boolean {
  return target !== null && typeof target === 'object' && (target as Composite).kind === 'coordinator'
}

/** The coordinator target of the broker's attach reply, with the capabilities the broker supports. */
export function coordinatorReply(): AnyInit {
  return { kind: 'coordinator', capabilities: COORDINATOR_CAPABILITIES } as unknown as AnyInit
}

export class SessionTransactions {
  readonly #c: SessionHost
  readonly #session: TransactionSession
  readonly #declared: Map<string, Declared>
  readonly #controlLinks = new WeakSet<IncomingLink>()
  /** The transactional-state seen on the frames of a delivery still arriving, by link. */
  readonly #pending = new WeakMap<IncomingLink, TransactionalState>()

  constructor(c: SessionHost, session: TransactionSession) {
    this.#c = c
    this.#session = session
    let declared = byConnection.get(c)
    if (declared === undefined) {
      declared = new Map()
      byConnection.set(c, declared)
    }
    this.#declared = declared
  }

  /** A control link was attached (its target a coordinator). */
  attached(link: IncomingLink): void {
    this.#controlLinks.add(link)
  }

  /** Notes a transfer frame's transactional-state (it may come on any frame of the delivery). */
  note(link: IncomingLink, t: Transfer): void {
    if (this.#controlLinks.has(link)) return
    if (t.aborted) {
      this.#pending.delete(link)
      return
    }
    const state = t.state
    if (state !== null && typeof state === 'object' && (state as Composite).kind === 'transactional-state')
      this.#pending.set(link, state as TransactionalState)
  }

  /**
   * Takes a whole delivery if it is the coordinator's business: a control message (declare, discharge) or a
   * transactional transfer. False: an ordinary publish, for the session.
   */
  take(link: IncomingLink, delivery: Assembled): boolean {
    if (this.#controlLinks.has(link)) {
      this.#outcome(delivery, this.#control(link, delivery))
      return true
    }
    const state = this.#pending.get(link)
    if (state === undefined) return false
    this.#pending.delete(link)
    this.#outcome(delivery, this.#send(link, delivery, state))
    return true
  }

  /**
   * A client's receiver settles a delivery: with transactional-state the outcome joins the transaction (true);
   * false for any other state (the session settles it). A txn-id the connection does not know is a
   * connection error (amqp:transaction:unknown-id); the delivery goes back to its queue.
   */
  settle(delivery: Delivery, state: Composite | undefined): boolean {
    if (state?.kind !== 'transactional-state') return false
    const broker = this.#c.broker
    const entry = this.#declared.get(keyOf(state.txnId))
    if (entry === undefined) {
      broker.deliveries.nack(delivery, true)
      throw new Amqp10FrameError('disposition in an unknown transaction', 'amqp:transaction:unknown-id')
    }
    if (entry.state !== 'open') {
      // Rolled back already: the delivery goes back, as the rollback returned the transaction's others.
      broker.deliveries.nack(delivery, true)
      return true
    }
    const outcome = state.outcome instanceof Described ? undefined : (state.outcome as Composite | undefined)
    const traffic = this.#c.host.traffic
    try {
      switch (outcome?.kind) {
        case 'rejected':
          entry.tx.nack(delivery, false)
          break
        case 'released':
        case 'modified':
          entry.tx.nack(delivery, !(outcome.kind === 'modified' && outcome.undeliverableHere === true))
          traffic.messagesRequeued++
          break
        default:
          entry.tx.ack(delivery)
          traffic.messagesAcknowledged++
      }
    } catch (error) {
      broker.deliveries.nack(delivery, true)
      this.#fail(entry, error)
    }
    return true
  }

  /** A link detached: a control link's transactions roll back. */
  detached(link: IncomingLink): void {
    if (!this.#controlLinks.has(link)) return
    this.#controlLinks.delete(link)
    for (const [key, entry] of this.#declared) if (entry.link === link) this.#forget(key, entry)
  }

  /** The session ended: the transactions its control links declared roll back. */
  end(): void {
    for (const [key, entry] of this.#declared) if (entry.owner === this) this.#forget(key, entry)
  }

  #forget(key: string, entry: Declared): void {
    this.#declared.delete(key)
    clearTimeout(entry.timer)
    if (entry.tx.state === 'open') entry.tx.rollback()
  }

  #fail(entry: Declared, error: unknown): void {
    if (entry.state !== 'open') return
    entry.state = 'failed'
    entry.reason = reasonOf(error)
    if (entry.tx.state === 'open') entry.tx.rollback()
  }

  // ---- the control link ----

  #control(link: IncomingLink, delivery: Assembled): State | Promise<State> {
    let body: Composite | undefined
    try {
      body = controlBody(delivery.bytes)
    } catch (error) {
      return rejected('amqp:decode-error', reasonOf(error))
    }
    if (body?.kind === 'declare') return this.#declare(link, body)
    if (body?.kind === 'discharge') return this.#discharge(body)
    return rejected('amqp:not-implemented', 'a coordinator takes only declare and discharge')
  }

  #declare(link: IncomingLink, declare: Composite & { kind: 'declare' }): State {
    if (declare.globalId !== undefined)
      return rejected('amqp:not-implemented', 'distributed transactions are not supported')
    const c = this.#c
    const max = c.broker.transactions.limits.openPerOwnerMax
    if (this.#declared.size >= max) return rejected('amqp:resource-limit-exceeded', `more than ${max} transactions`)
    let tx: Transaction
    try {
      tx = c.broker.transactions.begin(c.id)
    } catch (error) {
      return rejected('amqp:resource-limit-exceeded', reasonOf(error))
    }
    const id = Buffer.alloc(8)
    id.writeBigUInt64BE(BigInt(++txnSeq))
    const key = id.toString('hex')
    const timeoutMs = c.host.limits.transactionTimeoutMs
    const entry: Declared = {
      tx,
      state: 'open',
      reason: undefined,
      owner: this,
      link,
      timer: setTimeout(() => {
        if (entry.state !== 'open') return
        entry.state = 'timed-out'
        entry.reason = `open longer than ${timeoutMs} ms`
        if (tx.state === 'open') tx.rollback()
      }, timeoutMs).unref(),
      checking: undefined,
    }
    this.#declared.set(key, entry)
    return { kind: 'declared', txnId: id }
  }

  #discharge(discharge: Composite & { kind: 'discharge' }): State | Promise<State> {
    const key = keyOf(discharge.txnId)
    const entry = this.#declared.get(key)
    if (entry === undefined) return rejected('amqp:transaction:unknown-id', 'no such transaction')
    this.#declared.delete(key)
    clearTimeout(entry.timer)
    // Relay sends still being checked belong to the transaction: it is discharged once they are in it.
    if (entry.checking !== undefined) return entry.checking.then(() => this.#dischargeChecked(entry, discharge))
    return this.#dischargeChecked(entry, discharge)
  }

  #dischargeChecked(entry: Declared, discharge: Composite & { kind: 'discharge' }): State | Promise<State> {
    if (discharge.fail === true) {
      if (entry.tx.state === 'open') entry.tx.rollback()
      return { kind: 'accepted' }
    }
    if (entry.state === 'timed-out') return rejected('amqp:transaction:timeout', entry.reason ?? 'timed out')
    if (entry.state === 'failed') return rejected('amqp:transaction:rollback', entry.reason ?? 'rolled back')
    return entry.tx.commit().then(
      () => ({ kind: 'accepted' }),
      (error: unknown) => rejected('amqp:transaction:rollback', reasonOf(error)),
    )
  }

  // ---- transactional sends ----

  /**
   * A transactional transfer: to the link's target, or on an anonymous relay link to the message's
   * `properties.to`, checked at the transfer as a relay send outside a transaction is (rights, queue creation).
   */
  #send(link: IncomingLink, delivery: Assembled, state: TransactionalState): State | Promise<State> {
    const traffic = this.#c.host.traffic
    traffic.messagesReceived++
    traffic.bytesReceived += delivery.bytes.length
    const entry = this.#declared.get(keyOf(state.txnId))
    if (entry === undefined) return rejected('amqp:transaction:unknown-id', 'no such transaction')
    let address = link.target
    let message: PublishMessage
    try {
      const publish = toPublish(delivery.bytes, Date.now())
      message = publish.message
      address ??= parseAddress(publish.to, publish.toTopic)
      if (address === undefined)
        throw new DeliveryRefused('amqp:not-found', 'no target address: an anonymous relay message needs properties.to')
    } catch (error) {
      return this.#refuse(entry, error)
    }
    const to = address
    if (link.target !== undefined && entry.checking === undefined) return this.#sendIn(entry, to, message, state)
    // The check may create the queue (asynchronous): the transaction's later sends wait, so they keep their order.
    const sent = (entry.checking ?? Promise.resolve())
      .then(() => (link.target === undefined ? checkTarget(this.#c, to) : undefined))
      .then(
        (refused) =>
          refused === undefined
            ? this.#sendIn(entry, to, message, state)
            : this.#refuse(entry, new DeliveryRefused(...refused)),
        (error: unknown) => this.#refuse(entry, error),
      )
    const checking = sent.then(() => {
      if (entry.checking === checking) entry.checking = undefined
    })
    entry.checking = checking
    return sent
  }

  #sendIn(entry: Declared, address: Address, message: PublishMessage, state: TransactionalState): State {
    if (entry.state === 'timed-out') return rejected('amqp:transaction:timeout', entry.reason ?? 'timed out')
    if (entry.state === 'failed') return rejected('amqp:transaction:rollback', entry.reason ?? 'rolled back')
    try {
      const target: SendTarget =
        address.kind === 'topic' ? { exchange: TOPIC_EXCHANGE, routingKey: address.name } : { queue: address.name }
      const reached = entry.tx.send(target, message)
      if (reached === 0 && address.kind === 'queue')
        throw new DeliveryRefused('amqp:not-found', `no queue ${address.name}`)
    } catch (error) {
      return this.#refuse(entry, error)
    }
    return { kind: 'transactional-state', txnId: state.txnId, outcome: { kind: 'accepted' } }
  }

  /** A refused send: the transaction is rolled back at once (its commit fails), so it never commits without it. */
  #refuse(entry: Declared, error: unknown): State {
    this.#fail(entry, error)
    if (entry.state === 'timed-out') return rejected('amqp:transaction:timeout', entry.reason ?? 'timed out')
    const condition = error instanceof Amqp10DecodeError ? 'amqp:decode-error' : conditionOf(error)
    return rejected(condition, reasonOf(error))
  }

  /** Settles a delivery of a client's sender with a state (none for one the client sent settled). */
  #outcome(delivery: Assembled, outcome: State | Promise<State>): void {
    if (outcome instanceof Promise) {
      void outcome.then((state) => this.#outcome(delivery, state))
      return
    }
    if (delivery.settled) return
    this.#session.send({
      kind: 'disposition',
      role: true,
      first: delivery.deliveryId,
      settled: true,
      state: outcome,
    } as unknown as AnyInit)
  }
}

/** The declare or discharge an amqp-value section of a control message carries. */
function controlBody(bytes: Buffer): Composite | undefined {
  const d = new Decoder(bytes)
  while (d.remaining > 0) {
    const value = d.value()
    if (!(value instanceof Described)) throw new Amqp10DecodeError('a message section must be a described value')
    const section = fromDescribed(value)
    if (section instanceof Described || section.kind !== 'amqp-value') continue
    const body = section.value
    if (body !== null && typeof body === 'object' && 'kind' in body) return body as Composite
    return undefined
  }
  return undefined
}

function keyOf(txnId: unknown): string {
  return Buffer.isBuffer(txnId) ? txnId.toString('hex') : `?${String(txnId)}`
}

function rejected(condition: string, description: string): State {
  return { kind: 'rejected', error: { kind: 'error', condition, description } }
}

function conditionOf(error: unknown): string {
  if (error instanceof DeliveryRefused) return error.condition
  if (isWharfError(error, 'LIMIT_EXCEEDED')) return 'amqp:resource-limit-exceeded'
  if (isWharfError(error, 'ACCESS_REFUSED')) return 'amqp:unauthorized-access'
  return 'amqp:precondition-failed'
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
