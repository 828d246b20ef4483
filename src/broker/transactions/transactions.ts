// Transactions over the broker (design: README.md here): several open per owner, memory only until commit;
// a commit is prepared (routed, partitioned, checked), written as ONE fsynced commit record to the
// transaction log (the commit point), then applied — appends to every destination partition, acks into the
// queues — and once those are durable the log's applied marker may pass it. At open, commit records past
// the marker are applied again, idempotently, before the queues load.
import { randomUUID } from 'node:crypto'
import type { StorageEngine } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import { type PublishMessage, type RecordHeader, Reserved, type StoredMessage } from '../message.js'
import type { Queue } from '../queue/queue.js'
import type { DeliveryRef } from '../queue/types.js'
import { trimsWhenFull } from '../routing/publisher.js'
import { destinationKey, type LeafDestination, type RouteResult } from '../routing/router.js'
import type { ValidationResult } from '../schema/index.js'
import { type Stream, toBuffer } from '../stream/stream.js'
import { type ApplyHost, applyAppends, leaseHeld, prepare, recoverCommit, targetsOf } from './apply.js'
import { CommitLog } from './commit-log.js'
import { defaultTransactionLimits, type TransactionLimits } from './limits.js'
import { type HeldSend, type SendTarget, Transaction, type TransactionEngine } from './transaction.js'

/** The public side of the broker transactions use (Broker has it); read at call time, never copied. */
export interface TransactionsBroker {
  readonly router: {
    route(exchange: string, routingKey: string, headers?: Record<string, unknown>, out?: RouteResult): RouteResult
  }
  readonly deliveries: { ack(ref: DeliveryRef): Promise<boolean>; nack(ref: DeliveryRef, requeue: boolean): boolean }
  readonly schemas: { validator(subject: string): (value: Buffer | null) => ValidationResult }
  getQueue(name: string): Queue | undefined
  getStream(name: string): Stream | undefined
  now(): number
}

/** What only the broker itself can hand over: its storage, options and in-memory sinks. */
export interface TransactionsInternals {
  storage: StorageEngine
  transactionLimits?: Partial<TransactionLimits> | undefined
  warn?: ((message: string, details?: Record<string, unknown>) => void) | undefined
}

type Sinks = { sink(id: string): ((message: StoredMessage, routingKey: string) => void) | undefined }

interface TransactionsHost extends ApplyHost {
  storage: StorageEngine
  route(
    exchange: string,
    routingKey: string,
    headers: Record<string, unknown> | undefined,
    out: RouteResult,
  ): RouteResult
  ack(ref: DeliveryRef): Promise<boolean>
  nack(ref: DeliveryRef, requeue: boolean): boolean
  warn(message: string, details?: Record<string, unknown>): void
}

function hostOf(broker: TransactionsBroker, internals: TransactionsInternals, sinks: Sinks): TransactionsHost {
  return {
    storage: internals.storage,
    sink: (id) => sinks.sink(id),
    warn: (message, details) => internals.warn?.(message, details),
    route: (exchange, key, headers, out) => broker.router.route(exchange, key, headers, out),
    queue: (name) => broker.getQueue(name),
    stream: (name) => broker.getStream(name),
    validator: (subject) => broker.schemas.validator(subject),
    ack: (ref) => broker.deliveries.ack(ref),
    nack: (ref, requeue) => broker.deliveries.nack(ref, requeue),
    now: () => broker.now(),
  }
}

export class Transactions implements TransactionEngine {
  readonly limits: TransactionLimits
  readonly #host: TransactionsHost
  readonly #log: CommitLog
  readonly #open = new Map<string, Set<Transaction>>()
  readonly #scratch: RouteResult = { destinations: [], unroutable: false }
  /** Commits under way by owner: an owner's release waits for them (their acked leases must stay held). */
  readonly #committing = new Map<string, Set<Promise<unknown>>>()
  /** Transactions whose commit record is durable (committed, whatever their apply does). */
  readonly #recorded = new WeakSet<Transaction>()
  /**
   * Test hook: a commit stops after its commit record, or after its apply without letting the marker pass it,
   * as a crash at that point would (the next open must then apply it exactly once).
   */
  stopAfter: 'commit-record' | 'apply' | null = null

  private constructor(host: TransactionsHost, log: CommitLog, limits: TransactionLimits) {
    this.#host = host
    this.#log = log
    this.limits = limits
  }

  /**
   * Opens the transaction log and applies every commit record past the applied marker. Call after the streams
   * load and before the queues do (recovered acks are then read with the queues' other acks).
   */
  static async open(broker: TransactionsBroker, internals: TransactionsInternals, sinks: Sinks): Promise<Transactions> {
    const host = hostOf(broker, internals, sinks)
    const merged = { ...defaultTransactionLimits, ...internals.transactionLimits }
    for (const [name, value] of Object.entries(merged))
      if (!Number.isInteger(value) || value < 1)
        throw new WharfError('INVALID_CONFIG', `transaction limit ${name} must be a positive integer`, {
          detail: { argument: name, value },
        })
    const log = await CommitLog.open(host.storage, merged.bytesMax + 1024 * 1024)
    const pending = await log.unappliedRecords()
    let appended = 0
    for (const commit of pending) {
      const done = await recoverCommit(commit, host.stream, host.storage.cursors)
      appended += done.appended
    }
    if (pending.length > 0) {
      await log.recovered()
      host.warn('transactions recovered', { commits: pending.length, appended })
    }
    return new Transactions(host, log, merged)
  }

  /** Starts a transaction for an owner (connection, channel, session); LIMIT_EXCEEDED past openPerOwnerMax. */
  begin(owner: string): Transaction {
    let open = this.#open.get(owner)
    if (open === undefined) {
      open = new Set()
      this.#open.set(owner, open)
    }
    if (open.size >= this.limits.openPerOwnerMax)
      throw new WharfError('LIMIT_EXCEEDED', `more than ${this.limits.openPerOwnerMax} open transactions`, {
        detail: { argument: 'openPerOwnerMax', value: this.limits.openPerOwnerMax },
      })
    const tx = new Transaction(randomUUID(), owner, this)
    open.add(tx)
    return tx
  }

  /** Open transactions of an owner. */
  openOf(owner: string): number {
    return this.#open.get(owner)?.size ?? 0
  }

  /**
   * The owner is gone: its open transactions roll back (acked deliveries go back, redelivered); resolves once
   * its commits under way are applied, so the caller may then return the owner's other leases.
   */
  async releaseOwner(owner: string): Promise<void> {
    const open = this.#open.get(owner)
    if (open !== undefined) for (const tx of [...open]) if (tx.state === 'open') tx.rollback()
    this.#open.delete(owner)
    const committing = this.#committing.get(owner)
    if (committing !== undefined) await Promise.allSettled([...committing])
  }

  // ---- TransactionEngine ----

  resolve(target: SendTarget, message: PublishMessage): HeldSend {
    let exchange: string
    let routingKey: string
    let destinations: LeafDestination[]
    if ('queue' in target) {
      exchange = ''
      routingKey = target.queue
      destinations = this.#host.queue(target.queue) === undefined ? [] : [{ kind: 'queue', name: target.queue }]
    } else if ('stream' in target) {
      exchange = ''
      routingKey = target.stream
      destinations = this.#host.stream(target.stream) === undefined ? [] : [{ kind: 'stream', name: target.stream }]
    } else {
      exchange = target.exchange
      routingKey = target.routingKey
      destinations = this.#route(target)
    }
    const stamped: PublishMessage = {
      ...message,
      value: toBuffer(message.value),
      headers: [...(message.headers ?? []), stamp(Reserved.exchange, exchange), stamp(Reserved.routingKey, routingKey)],
    }
    return { message: stamped, routingKey, destinations }
  }

  #route(target: Extract<SendTarget, { exchange: string }>): LeafDestination[] {
    const keys = [target.routingKey, ...(target.extraRoutingKeys ?? [])]
    const out: LeafDestination[] = []
    const seen = new Set<string>()
    for (const key of keys) {
      for (const d of this.#host.route(target.exchange, key, target.routingHeaders, this.#scratch).destinations) {
        const k = destinationKey(d)
        if (seen.has(k)) continue
        seen.add(k)
        out.push(d)
      }
    }
    return out
  }

  leaseHeld(ref: DeliveryRef): boolean {
    const queue = this.#host.queue(ref.queue)
    return queue !== undefined && leaseHeld(queue, ref)
  }

  commit(tx: Transaction): Promise<void> {
    this.#forget(tx)
    const committing = this.#commit(tx)
    let set = this.#committing.get(tx.owner)
    if (set === undefined) {
      set = new Set()
      this.#committing.set(tx.owner, set)
    }
    set.add(committing)
    const forget = () => {
      set.delete(committing)
      if (set.size === 0 && this.#committing.get(tx.owner) === set) this.#committing.delete(tx.owner)
    }
    committing.then(forget, forget)
    return committing
  }

  async #commit(tx: Transaction): Promise<void> {
    const prepared = await prepare(this.#host, tx)
    const { targets, records } = targetsOf(prepared.work)
    let applied!: () => void
    const done = new Promise<void>((resolve) => {
      applied = resolve
    })
    // Reject-publish room is held from the check until the records are appended.
    for (const [queue, r] of prepared.room) queue.publishing.reserve(r.count, r.bytes, done)
    let offset: number
    try {
      offset = await this.#log.append({ id: tx.id, targets, acks: prepared.durableAcks }, records)
    } catch (error) {
      applied()
      throw error
    }
    this.#recorded.add(tx)
    if (this.stopAfter === 'commit-record') {
      applied()
      return
    }
    // A failed apply leaves the marker below this commit: the next open applies it again.
    await this.#apply(tx, prepared.work).finally(applied)
    if (this.stopAfter !== 'apply') this.#log.done(offset)
  }

  async #apply(tx: Transaction, work: Awaited<ReturnType<typeof prepare>>['work']): Promise<void> {
    const host = this.#host
    const waits: Array<Promise<unknown>> = work.map((w) => applyAppends(w.stream, w.partition, w.records))
    for (const ref of tx.acks) waits.push(host.ack(ref))
    await Promise.all(waits)
    const now = host.now()
    for (const send of tx.sends)
      for (const d of send.destinations)
        if (d.kind === 'sink') host.sink(d.id)?.(sinkMessage(send.message, now), send.routingKey)
    for (const { ref, requeue } of tx.nacks) host.nack(ref, requeue)
    const trimmed = new Set<Queue>()
    for (const w of work)
      for (const queue of w.stream.queues) if (trimsWhenFull(queue) && !trimmed.has(queue)) trimmed.add(queue)
    for (const queue of trimmed) await queue.enforceMaxLength()
  }

  rollback(tx: Transaction, returnAcked: boolean): void {
    this.#forget(tx)
    // A commit whose record is durable but whose apply failed is not undone: the next open applies it.
    if (!returnAcked || this.#recorded.has(tx)) return
    for (const ref of tx.acks) this.#host.nack(ref, true)
    for (const { ref } of tx.nacks) this.#host.nack(ref, true)
  }

  #forget(tx: Transaction): void {
    const open = this.#open.get(tx.owner)
    if (open === undefined) return
    open.delete(tx)
    if (open.size === 0) this.#open.delete(tx.owner)
  }

  /** Waits for commits being applied and the marker write (broker close). */
  async close(): Promise<void> {
    for (const owner of [...this.#open.keys()]) this.releaseOwner(owner)
    await Promise.allSettled([...this.#committing.values()].flatMap((set) => [...set]))
    await this.#log.settle()
  }
}

function stamp(key: string, value: string): RecordHeader {
  return { key, value: Buffer.from(value) }
}

function sinkMessage(message: PublishMessage, now: number): StoredMessage {
  return {
    stream: '',
    partition: 0,
    offset: -1,
    timestamp: message.timestamp ?? now,
    key: toBuffer(message.key),
    value: toBuffer(message.value),
    headers: message.headers ?? [],
  }
}
