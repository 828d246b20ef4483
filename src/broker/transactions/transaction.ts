// One open transaction: sends routed when they are added (so a client learns at once that nothing is bound),
// acks and nacks of deliveries this owner holds, bounded in bytes and operations. Nothing of it is visible
// or durable before commit(): a crash or a dropped connection simply forgets it. The acked deliveries keep
// their leases meanwhile, so no other consumer receives them.
import { WharfError } from '../../util/errors.js'
import type { PublishMessage } from '../message.js'
import { deliveryKey } from '../queue/deliveries.js'
import type { DeliveryRef } from '../queue/types.js'
import type { LeafDestination } from '../routing/types.js'
import type { TransactionLimits } from './limits.js'

/** Where a transactional send goes: through an exchange, or straight to a queue or a stream. */
export type SendTarget =
  | {
      exchange: string
      routingKey: string
      routingHeaders?: Record<string, unknown> | undefined
      /** More routing keys through the same exchange (AMQP CC/BCC), each destination once. */
      extraRoutingKeys?: readonly string[] | undefined
    }
  | { queue: string }
  | { stream: string }

/** A send with its destinations resolved and the exchange / routing-key stamps on the message. */
export interface HeldSend {
  message: PublishMessage
  routingKey: string
  destinations: LeafDestination[]
}

export type TransactionState = 'open' | 'committing' | 'committed' | 'rolled-back'

/** What a transaction needs from the manager (transactions.ts). */
export interface TransactionEngine {
  readonly limits: TransactionLimits
  /** Resolves a send's destinations and stamps the message; an empty list is unroutable. */
  resolve(target: SendTarget, message: PublishMessage): HeldSend
  /** Whether the lease behind a delivery reference is still held. */
  leaseHeld(ref: DeliveryRef): boolean
  commit(tx: Transaction): Promise<void>
  rollback(tx: Transaction, returnAcked: boolean): void
}

export class Transaction {
  readonly id: string
  readonly owner: string
  readonly sends: HeldSend[] = []
  readonly acks: DeliveryRef[] = []
  readonly nacks: Array<{ ref: DeliveryRef; requeue: boolean }> = []
  #bytes = 0
  #state: TransactionState = 'open'
  readonly #settled = new Set<string>()
  readonly #engine: TransactionEngine

  constructor(id: string, owner: string, engine: TransactionEngine) {
    this.id = id
    this.owner = owner
    this.#engine = engine
  }

  get state(): TransactionState {
    return this.#state
  }

  /** Message bytes held, counted once per destination (what the commit record will hold). */
  get bytes(): number {
    return this.#bytes
  }

  get operations(): number {
    return this.sends.length + this.acks.length + this.nacks.length
  }

  /**
   * Adds a send; returns how many destinations it reaches (0: unroutable, nothing held). Throws
   * LIMIT_EXCEEDED past the transaction's bounds (the transaction stays open, without this send).
   */
  send(target: SendTarget, message: PublishMessage): number {
    this.#assertOpen()
    this.#assertRoom()
    const held = this.#engine.resolve(target, message)
    if (held.destinations.length === 0) return 0
    const bytes = sizeOf(held.message) * held.destinations.length
    const { bytesMax } = this.#engine.limits
    if (this.#bytes + bytes > bytesMax)
      throw new WharfError('LIMIT_EXCEEDED', `transaction larger than ${bytesMax} bytes`, {
        detail: { argument: 'bytesMax', value: bytesMax },
      })
    this.#bytes += bytes
    this.sends.push(held)
    return held.destinations.length
  }

  /** Acks a delivery at commit; until then it stays leased. LEASE_NOT_FOUND for a lease not held. */
  ack(ref: DeliveryRef): void {
    this.#settle(ref)
    this.acks.push(ref)
  }

  /** Returns (requeue) or dead-letters a delivery at commit; until then it stays leased. */
  nack(ref: DeliveryRef, requeue = true): void {
    this.#settle(ref)
    this.nacks.push({ ref, requeue })
  }

  /** Makes every operation durable as one unit; resolves once all of them are applied and durable. */
  commit(): Promise<void> {
    try {
      this.#assertOpen()
    } catch (error) {
      return Promise.reject(error)
    }
    this.#state = 'committing'
    return this.#engine.commit(this).then(
      () => {
        this.#state = 'committed'
      },
      (error) => {
        // Failed: rolled back (the manager undoes nothing once the commit record is durable; recovery applies it).
        if (this.#state === 'committing') this.#rolledBack(true)
        throw error
      },
    )
  }

  /**
   * Drops the sends. `returnAcked` (the default, JMS / ActiveMQ semantics): the acked and nacked deliveries go
   * back to their queues, redelivered with a higher delivery count; false (AMQP 0-9-1 tx.rollback): their
   * leases stay with the owner, unacknowledged.
   */
  rollback(options: { returnAcked?: boolean } = {}): void {
    this.#assertOpen()
    this.#rolledBack(options.returnAcked ?? true)
  }

  #rolledBack(returnAcked: boolean): void {
    this.#state = 'rolled-back'
    this.#engine.rollback(this, returnAcked)
  }

  #settle(ref: DeliveryRef): void {
    this.#assertOpen()
    this.#assertRoom()
    const key = deliveryKey(ref)
    if (this.#settled.has(key) || !this.#engine.leaseHeld(ref))
      throw new WharfError('LEASE_NOT_FOUND', `no delivery ${ref.offset} of queue '${ref.queue}' held to settle`, {
        detail: { queue: ref.queue },
      })
    this.#settled.add(key)
  }

  #assertOpen(): void {
    if (this.#state !== 'open')
      throw new WharfError('PRECONDITION_FAILED', `transaction ${this.id} is ${this.#state}`, {
        detail: { value: this.#state },
      })
  }

  #assertRoom(): void {
    const { operationsMax } = this.#engine.limits
    if (this.operations >= operationsMax)
      throw new WharfError('LIMIT_EXCEEDED', `transaction holds more than ${operationsMax} operations`, {
        detail: { argument: 'operationsMax', value: operationsMax },
      })
  }
}

/** Bytes a message takes in a record (key, value, headers), plus a record's framing. */
export function sizeOf(message: PublishMessage): number {
  let size = 32 + byteLength(message.key) + byteLength(message.value)
  for (const h of message.headers ?? []) size += h.key.length + (h.value?.length ?? 0) + 8
  return size
}

function byteLength(value: PublishMessage['value'] | PublishMessage['key']): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length
}
