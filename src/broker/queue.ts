// A queue-mode subscription: competing consumers over a stream. Each delivery is a lease (deadline or
// until released); ack removes the message (durably, in the cursor store), nack/expiry returns it with a
// delivery count, past maxDeliveries it is dead-lettered. Consumers are pushed to from one synchronous
// drain loop, scheduled at most once per tick; reading the log is asynchronous and bounded (read-ahead).
import type { CursorStore, PartitionLog } from '../storage/api.js'
import { assert } from '../util/assert.js'
import { WharfError } from '../util/errors.js'
import { Heap } from '../util/heap.js'
import type { QueueConfig } from './config.js'
import { QueueConsumer } from './queue-consumer.js'
import { type Lease, QueuePartition } from './queue-partition.js'
import { type ConsumeOptions, type Delivery, type GetOptions, QueueBytes, type QueueStats } from './queue-types.js'

export { QueueConsumer }

import { type DeathReason, headerNumber, headerText, Reserved, type StoredMessage } from './types.js'

const READY_MAX = 2048
const GET_MAX = 10_000

export interface QueueHooks {
  /** Routes a message to the queue's dead-letter target; resolves once durable there. */
  deadLetter(queue: QueueSubscription, message: StoredMessage, reason: DeathReason): Promise<void>
  /** The queue became unused in a way that deletes it (auto-delete, x-expires). */
  deleteQueue(queue: QueueSubscription, why: string): void
  now(): number
  warn?(message: string, details?: Record<string, unknown>): void
}

interface Waiter {
  options: GetOptions
  max: number
  taken: Delivery[]
  resolve(deliveries: Delivery[]): void
  timer: NodeJS.Timeout | null
}

const bodySize = (message: StoredMessage): number => message.value?.length ?? 0

export class QueueSubscription {
  readonly name: string
  #config: QueueConfig
  readonly partitions: QueuePartition[]
  readonly #cursors: CursorStore
  readonly #hooks: QueueHooks
  readonly #consumers: QueueConsumer[] = []
  #rr = 0
  readonly #waiters: Waiter[] = []
  readonly #leases = new Heap<{ deadline: number; lease: Lease }>((a, b) => a.deadline < b.deadline)
  readonly #busyGroups = new Map<string, number>()
  #leaseSeq = 0
  #drainScheduled = false
  #hadConsumer = false
  #lastUsed: number
  #deleted = false
  readonly #unsubscribe: Array<() => void> = []
  readonly #pendingAcks = new Map<QueuePartition, { offsets: number[]; sizes: number[]; promise: Promise<void> }>()
  /** Running body-byte count, kept only while config.maxLengthBytes is set. */
  #bytes: QueueBytes | null = null
  /** Serializes enforceMaxLength runs, so two publishes never pick the same messages to drop. */
  #trimming: Promise<unknown> = Promise.resolve()
  readonly stats = { published: 0, delivered: 0, acked: 0, deadLettered: 0 }

  constructor(
    name: string,
    config: QueueConfig,
    logs: PartitionLog[],
    cursors: CursorStore,
    hooks: QueueHooks,
    streamId: number,
  ) {
    this.name = name
    this.#config = config
    this.#cursors = cursors
    this.#hooks = hooks
    this.#lastUsed = hooks.now()
    this.partitions = logs.map((log, i) => new QueuePartition(i, log, ackKeyOf(name, streamId, i), cursors))
    for (const p of this.partitions) {
      // Appends by others (e.g. Kafka produce) wake the reader; our own publishes use offerTail first.
      this.#unsubscribe.push(
        p.log.onAppend((next) => {
          // Counted before held acks are released: their uncounting needs the records counted first.
          this.#bytes?.appended(p.index)
          if (p.heldAcks.length > 0) this.#releaseHeld(p, (offset) => offset < next)
          setImmediate(() => {
            this.#bytes?.catchUp(p.index)
            this.#fill(p)
          })
        }),
      )
    }
    this.#trackBytes()
  }

  get config(): QueueConfig {
    return this.#config
  }
  /** New settings (alterQueue); byte counting starts or stops with maxLengthBytes. */
  set config(next: QueueConfig) {
    this.#config = next
    this.#trackBytes()
  }

  #trackBytes(): void {
    const on = (this.#config.maxLengthBytes ?? null) !== null
    if (on && this.#bytes === null) {
      this.#bytes = new QueueBytes(this.partitions, this.#cursors, (message, details) =>
        this.#hooks.warn?.(message, { queue: this.name, ...details }),
      )
    } else if (!on && this.#bytes !== null) {
      this.#bytes.close()
      this.#bytes = null
    }
  }

  /** Body bytes of the messages depth() counts; null unless maxLengthBytes is set. */
  messageBytes(): number | null {
    return this.#bytes === null ? null : this.#bytes.total()
  }

  /** Resolves when messageBytes() is complete (after a restart it is read back from the log once). */
  bytesCounted(): Promise<void> | null {
    return this.#bytes?.counting ? this.#bytes.settled() : null
  }

  get streamName(): string {
    return this.config.stream
  }
  get consumerCount(): number {
    return this.#consumers.length
  }
  get deleted(): boolean {
    return this.#deleted
  }

  // ---- consumers ----

  consume(options: ConsumeOptions): QueueConsumer {
    this.#assertLive()
    if (this.#consumers.some((c) => c.exclusive)) {
      throw new WharfError('RESOURCE_LOCKED', `queue '${this.name}' has an exclusive consumer`)
    }
    if (options.exclusive && this.#consumers.length > 0) {
      throw new WharfError(
        'RESOURCE_LOCKED',
        `cannot obtain exclusive access to queue '${this.name}': it has consumers`,
      )
    }
    const consumer = new QueueConsumer(options.tag ?? `wharf.ctag-${++this.#leaseSeq}`, options)
    this.#consumers.push(consumer)
    this.#hadConsumer = true
    this.#lastUsed = this.#hooks.now()
    if (consumer.creditGroup) this.#unsubscribe.push(consumer.creditGroup.onRelease(() => this.#schedule()))
    this.#schedule()
    return consumer
  }

  /** Stops deliveries to a consumer; its unacked deliveries stay ackable until their owner is released. */
  cancel(consumer: QueueConsumer): void {
    const at = this.#consumers.indexOf(consumer)
    if (at < 0) return
    this.#consumers.splice(at, 1)
    consumer.cancelled = true
    this.#lastUsed = this.#hooks.now()
    if (this.#consumers.length === 0 && this.config.autoDelete && this.#hadConsumer) {
      this.#hooks.deleteQueue(this, 'auto-delete')
      return
    }
    this.#schedule()
  }

  /** Pull: takes up to `max` messages, waiting up to waitMs for the first one. */
  async get(options: GetOptions): Promise<Delivery[]> {
    this.#assertLive()
    const max = Math.min(Math.max(options.max ?? 1, 1), GET_MAX)
    this.#lastUsed = this.#hooks.now()
    await Promise.all(this.partitions.map((p) => this.#fill(p)))
    const waiter: Waiter = { options, max, taken: [], resolve: () => {}, timer: null }
    const taken = this.#takeFor(waiter)
    if (taken.length > 0 || !options.waitMs || options.signal?.aborted) return taken
    return new Promise<Delivery[]>((resolve) => {
      waiter.resolve = (deliveries) => {
        if (waiter.timer) clearTimeout(waiter.timer)
        options.signal?.removeEventListener('abort', onAbort)
        const at = this.#waiters.indexOf(waiter)
        if (at >= 0) this.#waiters.splice(at, 1)
        resolve(deliveries)
      }
      const onAbort = () => waiter.resolve([])
      waiter.timer = setTimeout(() => waiter.resolve([]), options.waitMs)
      options.signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.push(waiter)
    })
  }

  // ---- acks ----

  /** Acks one delivery; resolves when the ack is durable. False if the lease is unknown or stale. */
  ack(partition: number, offset: number, leaseId?: number): Promise<boolean> {
    const p = this.partitions[partition]
    const lease = p?.inflight.get(offset)
    if (p === undefined || lease === undefined || (leaseId !== undefined && lease.id !== leaseId)) {
      return Promise.resolve(false)
    }
    this.#endLease(p, lease)
    this.stats.acked++
    return this.#storeAck(p, offset, bodySize(lease.message)).then(() => true)
  }

  /**
   * ack() for callers that do not wait for durability (the client was answered already, e.g. an MQTT
   * PUBACK from a subscriber): no promise per call. A failed ack store is harmless here, as for ack():
   * the message is redelivered. False if the lease is unknown or stale.
   */
  settle(partition: number, offset: number, leaseId?: number): boolean {
    const p = this.partitions[partition]
    const lease = p?.inflight.get(offset)
    if (p === undefined || lease === undefined || (leaseId !== undefined && lease.id !== leaseId)) return false
    this.#endLease(p, lease)
    this.stats.acked++
    this.#storeAck(p, offset, bodySize(lease.message))
    return true
  }

  /** Returns (requeue) or dead-letters/drops a delivery. False if the lease is unknown or stale. */
  nack(partition: number, offset: number, requeue: boolean, leaseId?: number): boolean {
    const p = this.partitions[partition]
    const lease = p?.inflight.get(offset)
    if (p === undefined || lease === undefined || (leaseId !== undefined && lease.id !== leaseId)) return false
    this.#endLease(p, lease)
    if (lease.purged) return true
    if (requeue) this.#requeue(p, lease)
    else this.#deadLetter(p, lease.message, 'rejected')
    this.#schedule()
    return true
  }

  /** Changes a lease's deadline (SQS ChangeMessageVisibility); 0 makes the message available now. */
  extend(partition: number, offset: number, leaseMs: number, leaseId?: number): boolean {
    const p = this.partitions[partition]
    const lease = p?.inflight.get(offset)
    if (p === undefined || lease === undefined || (leaseId !== undefined && lease.id !== leaseId)) return false
    if (leaseMs <= 0) return this.nack(partition, offset, true, leaseId)
    lease.deadline = this.#hooks.now() + leaseMs
    this.#leases.push({ deadline: lease.deadline, lease })
    return true
  }

  /** Returns every lease held by an owner (connection/channel closed): redelivered later. */
  releaseOwner(owner: string): number {
    let released = 0
    for (const p of this.partitions) {
      for (const lease of [...p.inflight.values()]) {
        if (lease.owner !== owner) continue
        this.#endLease(p, lease)
        if (!lease.purged) this.#requeue(p, lease)
        released++
      }
    }
    for (const consumer of [...this.#consumers]) if (consumer.owner === owner) this.cancel(consumer)
    if (released > 0) this.#schedule()
    return released
  }

  // ---- publishing side ----

  /** Our own publish landed: take the messages straight into the read-ahead if we are caught up. */
  offerTail(partition: number, messages: StoredMessage[]): void {
    this.stats.published += messages.length
    const p = this.partitions[partition]
    if (p === undefined || messages.length === 0) return
    this.#bytes?.offered(partition, messages)
    if (p.reading === null && p.readOffset === messages[0]!.offset && p.ready.length + messages.length <= READY_MAX) {
      for (const m of messages) this.#admit(p, m)
      p.readOffset = messages[messages.length - 1]!.offset + 1
    }
    this.#schedule()
  }

  /**
   * An append whose records were offered before they were durable failed: forget every record from
   * fromOffset on (ready, returned, in flight, held acks). They were never stored; the log reuses the offsets.
   */
  retract(partition: number, fromOffset: number): void {
    const p = this.partitions[partition]
    if (p === undefined) return
    this.#bytes?.retract(partition, fromOffset)
    p.ready = p.ready.filter((m) => m.offset < fromOffset)
    p.returned.removeWhere((e) => e.offset >= fromOffset)
    p.cold.removeWhere((e) => e.offset >= fromOffset)
    p.delayed.removeWhere((e) => e.offset >= fromOffset)
    for (const lease of [...p.inflight.values()]) if (lease.offset >= fromOffset) this.#endLease(p, lease)
    this.#releaseHeld(p, (offset) => offset < fromOffset, false)
    if (p.readOffset > fromOffset) p.readOffset = fromOffset
    this.#schedule()
  }

  /** Releases held acks matching test: stored (store) or dropped (their records were retracted). */
  #releaseHeld(p: QueuePartition, test: (offset: number) => boolean, store = true): void {
    const kept: QueuePartition['heldAcks'] = []
    for (const held of p.heldAcks) {
      if (store === test(held.offset)) held.release(store)
      else kept.push(held)
    }
    p.heldAcks = kept
  }

  depth(): number {
    let total = 0
    for (const p of this.partitions) total += p.depth(this.#cursors)
    return total
  }

  /**
   * Drops (or dead-letters) messages from the head until the depth is within maxLength and their body bytes
   * within maxLengthBytes. Runs one at a time per queue, so two publishes never pick the same messages; the
   * promise also waits for the acks to be durable, which the next run does not.
   */
  enforceMaxLength(): Promise<void> {
    const { maxLength, maxLengthBytes } = this.config
    if (maxLength === null && (maxLengthBytes ?? null) === null) return Promise.resolve()
    const run = this.#trimming.then(() => this.#trim())
    this.#trimming = run.catch(() => {})
    return run.then((stored) => Promise.all(stored).then(() => {}))
  }

  async #trim(): Promise<Array<Promise<void>>> {
    await this.#bytes?.settled()
    const { maxLength, maxLengthBytes, deadLetter } = this.config
    const bytes = this.#bytes
    let excess = maxLength === null ? 0 : this.depth() - maxLength
    let excessBytes = bytes === null || maxLengthBytes === null ? 0 : bytes.total() - maxLengthBytes
    const stored: Array<Promise<void>> = []
    for (const p of this.partitions) {
      let offset = this.ackFloor(p.index)
      while ((excess > 0 || excessBytes > 0) && offset < p.log.highWatermark && !this.#deleted) {
        const o = offset++
        if (p.inflight.has(o) || this.#cursors.isAcked(p.ackKey, o)) continue
        // Pinned as in flight while it is read, dead-lettered and acked: no consumer gets it meanwhile.
        const { pin, held } = this.#pinForDrop(p, o)
        let message = held
        try {
          if (message === null && (bytes !== null || deadLetter !== null)) message = await p.readOne(o, this.streamName)
          if (message !== null && deadLetter !== null) {
            await this.#hooks.deadLetter(this, message, 'maxlen')
            this.stats.deadLettered++
          }
        } catch (error) {
          // Kept (redelivered later), never lost; the publish that triggered the trim sees the error.
          unpinToCold(p, pin)
          this.#schedule()
          throw error
        }
        const size = message === null ? 0 : bodySize(message)
        excess--
        excessBytes -= size
        const ack = this.#storeAck(p, o, size).then(
          () => {
            if (p.inflight.get(o) === pin) p.inflight.delete(o)
          },
          (error) => {
            unpinToCold(p, pin)
            this.#schedule()
            throw error
          },
        )
        ack.catch(() => {}) // awaited by the caller, unless a later drop throws first
        stored.push(ack)
      }
    }
    return stored
  }

  /** Pins an offset picked for dropping and takes it out of ready/returned/delayed; its message if held. */
  #pinForDrop(p: QueuePartition, offset: number): { pin: Lease; held: StoredMessage | null } {
    let held: StoredMessage | null = null
    let at = readyIndex(p.ready, offset)
    // The read-ahead is offset-ordered; should that ever not hold, a stale entry must still not survive.
    if (at < 0 && p.ready.length > 0 && offset >= p.ready[0]!.offset && offset <= p.ready.at(-1)!.offset)
      at = p.ready.findIndex((m) => m.offset === offset)
    if (at >= 0) held = p.ready.splice(at, 1)[0]!
    for (const entry of p.returned) {
      if (entry.offset !== offset) continue
      held ??= entry.message
      p.returned.removeWhere((r) => r.offset === offset)
      break
    }
    for (const entry of p.delayed) {
      if (entry.offset !== offset) continue
      p.delayed.removeWhere((d) => d.offset === offset)
      break
    }
    const pin: Lease = {
      id: ++this.#leaseSeq,
      partition: p.index,
      offset,
      owner: '',
      consumer: null,
      deadline: null,
      deliveryCount: 0,
      groupId: undefined,
      message: held ?? {
        stream: this.streamName,
        partition: p.index,
        offset,
        timestamp: 0,
        key: null,
        value: null,
        headers: [],
      },
      purged: false,
    }
    p.inflight.set(offset, pin)
    return { pin, held }
  }

  /** Removes every message that is not in flight. Returns how many were purged. */
  async purge(): Promise<number> {
    const purged = this.depth() - this.#inflightCount()
    for (const p of this.partitions) {
      p.ready = []
      p.returned.clear()
      p.cold.clear()
      p.delayed.clear()
      for (const lease of p.inflight.values()) lease.purged = true
      p.readOffset = p.log.highWatermark
      this.#bytes?.purged(p.index)
      await this.#cursors.advanceFloor(p.ackKey, p.log.highWatermark)
    }
    return Math.max(0, purged)
  }

  queueStats(): QueueStats {
    const depth = this.depth()
    const inflight = this.#inflightCount()
    let delayed = 0
    for (const p of this.partitions) delayed += p.delayed.size
    return {
      name: this.name,
      stream: this.streamName,
      depth,
      ready: Math.max(0, depth - inflight - delayed),
      inflight,
      delayed,
      consumers: this.#consumers.length,
      publishedTotal: this.stats.published,
      deliveredTotal: this.stats.delivered,
      ackedTotal: this.stats.acked,
      deadLetteredTotal: this.stats.deadLettered,
      ...(this.#bytes === null ? {} : { bytes: this.#bytes.total() }),
    }
  }

  /** Lowest unacked offset per partition (for work-queue retention). */
  isAcked(partition: number, offset: number): boolean {
    const p = this.partitions[partition]
    return p !== undefined && this.#cursors.isAcked(p.ackKey, offset)
  }

  ackFloor(partition: number): number {
    const p = this.partitions[partition]!
    return Math.max(this.#cursors.getAcks(p.ackKey)?.floor ?? 0, p.log.logStartOffset)
  }

  /** Periodic work: lease expiry, delayed messages, TTL at the head, unused-queue expiry. */
  tick(now: number): void {
    if (this.#deleted) return
    let changed = false
    while (this.#leases.size > 0 && this.#leases.peek()!.deadline <= now) {
      const { deadline, lease } = this.#leases.pop()!
      const p = this.partitions[lease.partition]!
      if (p.inflight.get(lease.offset) !== lease || lease.deadline !== deadline) continue
      this.#endLease(p, lease)
      if (!lease.purged) this.#requeue(p, lease)
      changed = true
    }
    for (const p of this.partitions) {
      while (p.delayed.size > 0 && p.delayed.peek()!.deliverAt <= now) {
        const { offset } = p.delayed.pop()!
        p.cold.push({ offset, deliveryCount: 0, message: null })
        changed = true
      }
      // TTL at the head even without consumers, as RabbitMQ does.
      while (p.ready.length > 0 && this.#expired(p.ready[0]!, now)) {
        this.#deadLetter(p, p.ready.shift()!, 'expired')
        changed = true
      }
      // Only durable offsets: one past the high watermark may be reused by another record after a crash.
      const durableMax = Math.min(p.deliveredMax, p.log.highWatermark - 1)
      if (durableMax > p.deliveredMaxSaved) {
        p.deliveredMaxSaved = durableMax
        this.#cursors.commitOffset(`${p.ackKey}\u0000d`, durableMax).catch(() => {})
      }
      if (
        p.reading === null &&
        (p.cold.size > 0 || (p.ready.length < READY_MAX / 2 && p.readOffset < p.log.highWatermark))
      ) {
        void this.#fill(p)
      }
    }
    if (
      this.config.expiresMs !== null &&
      this.#consumers.length === 0 &&
      now - this.#lastUsed > this.config.expiresMs
    ) {
      this.#hooks.deleteQueue(this, 'expires')
      return
    }
    if (changed) this.#schedule()
  }

  /** Persists how far deliveries got, so that redeliveries after a restart are flagged (best effort). */
  async saveDeliveredMax(): Promise<void> {
    for (const p of this.partitions) {
      const durableMax = Math.min(p.deliveredMax, p.log.highWatermark - 1)
      if (durableMax > p.deliveredMaxSaved) {
        p.deliveredMaxSaved = durableMax
        await this.#cursors.commitOffset(`${p.ackKey}\u0000d`, durableMax)
      }
    }
  }

  /** Cancels every consumer and waiter (queue deleted). */
  close(reason: string): void {
    this.#deleted = true
    this.#bytes?.close()
    for (const off of this.#unsubscribe) off()
    for (const consumer of this.#consumers.splice(0)) {
      consumer.cancelled = true
      consumer.onCancel?.(reason)
    }
    for (const waiter of [...this.#waiters]) waiter.resolve([])
  }

  // ---- internals ----

  #assertLive(): void {
    if (this.#deleted) throw new WharfError('SUBSCRIPTION_NOT_FOUND', `queue '${this.name}' was deleted`)
  }

  #inflightCount(): number {
    let n = 0
    for (const p of this.partitions) n += p.inflight.size
    return n
  }

  #expired(message: StoredMessage, now: number): boolean {
    const expiresAt = headerNumber(message.headers, Reserved.expiresAt)
    if (expiresAt !== undefined && expiresAt <= now) return true
    const ttl = this.config.messageTtlMs
    return ttl !== null && message.timestamp + ttl <= now
  }

  /** Puts a freshly read message where it belongs: ready, delayed or dead. */
  #admit(p: QueuePartition, message: StoredMessage): void {
    const now = this.#hooks.now()
    const deliverAt = headerNumber(message.headers, Reserved.deliverAt)
    if (deliverAt !== undefined && deliverAt > now) p.delayed.push({ deliverAt, offset: message.offset })
    else if (this.#expired(message, now)) this.#deadLetter(p, message, 'expired')
    else p.ready.push(message)
  }

  #fill(p: QueuePartition): Promise<void> {
    if (p.reading !== null) return p.reading
    if (this.#deleted || (p.cold.size === 0 && (p.ready.length >= READY_MAX || p.readOffset >= p.log.highWatermark))) {
      return Promise.resolve()
    }
    p.reading = (async () => {
      try {
        while (p.cold.size > 0) {
          const entry = p.cold.pop()!
          if (this.#cursors.isAcked(p.ackKey, entry.offset) || p.inflight.has(entry.offset)) continue
          entry.message = await p.readOne(entry.offset, this.streamName)
          if (entry.message !== null) p.returned.push(entry)
        }
        while (p.ready.length < READY_MAX && p.readOffset < p.log.highWatermark && !this.#deleted) {
          const before = p.readOffset
          for (const message of await p.readChunk(this.#cursors, this.streamName)) {
            if (!p.inflight.has(message.offset)) this.#admit(p, message)
          }
          if (p.readOffset === before) break
        }
      } catch (error) {
        // A read error (file gone after delete, I/O error) leaves the cursor where it was: retried on the next
        // tick. It is reported, never thrown: one queue's disk trouble must not take the process down.
        if (!this.#deleted) this.#hooks.warn?.('queue read failed', { queue: this.name, error: String(error) })
      } finally {
        p.reading = null
      }
      this.#schedule()
    })()
    return p.reading
  }

  #schedule(): void {
    if (this.#drainScheduled || this.#deleted) return
    this.#drainScheduled = true
    queueMicrotask(() => this.#drain())
  }

  #drain(): void {
    this.#drainScheduled = false
    if (this.#deleted) return
    const touched: QueueConsumer[] = []
    // Long-poll waiters first: they are requests with a deadline.
    for (const waiter of [...this.#waiters]) {
      const taken = this.#takeFor(waiter)
      if (taken.length > 0) waiter.resolve(taken)
    }
    const active = this.config.singleActiveConsumer ? this.#consumers.slice(0, 1) : this.#consumers
    let idle = 0
    while (active.length > 0 && idle < active.length) {
      this.#rr = (this.#rr + 1) % active.length
      const consumer = active[this.#rr]!
      if (!consumer.hasCredit) {
        idle++
        continue
      }
      const delivery = this.#next(consumer.owner, consumer.leaseMs, consumer, consumer.noAck)
      if (delivery === null) break
      idle = 0
      if (consumer.batch.length === 0) touched.push(consumer)
      consumer.batch.push(delivery)
    }
    for (const consumer of touched) {
      const batch = consumer.batch
      consumer.batch = []
      consumer.onDeliver(batch)
    }
    for (const p of this.partitions) {
      if (
        p.reading === null &&
        (p.cold.size > 0 || (p.ready.length < READY_MAX / 2 && p.readOffset < p.log.highWatermark))
      ) {
        void this.#fill(p)
      }
    }
  }

  #takeFor(waiter: Waiter): Delivery[] {
    const taken: Delivery[] = []
    while (taken.length < waiter.max) {
      const d = this.#next(waiter.options.owner, waiter.options.leaseMs, null, waiter.options.noAck ?? false)
      if (d === null) break
      taken.push(d)
    }
    return taken
  }

  /** Chooses the next deliverable message (highest priority partition first) and leases it. */
  #next(
    owner: string,
    leaseMs: number | null | undefined,
    consumer: QueueConsumer | null,
    noAck: boolean,
  ): Delivery | null {
    const now = this.#hooks.now()
    const parts = this.partitions
    const priority = this.config.maxPriority > 0
    for (let k = 0; k < parts.length; k++) {
      const p = priority ? parts[parts.length - 1 - k]! : parts[(this.#rr + k) % parts.length]!
      const picked = this.#pick(p, now)
      if (picked === null) continue
      return this.#lease(p, picked.message, picked.deliveryCount, owner, leaseMs, consumer, noAck, now)
    }
    return null
  }

  #pick(p: QueuePartition, now: number): { message: StoredMessage; deliveryCount: number } | null {
    while (p.returned.size > 0) {
      const entry = p.returned.peek()!
      if (this.config.fifo && this.#groupBusy(entry.message!)) break
      p.returned.pop()
      if (this.#cursors.isAcked(p.ackKey, entry.offset) || p.inflight.has(entry.offset)) continue
      if (this.#expired(entry.message!, now)) {
        this.#deadLetter(p, entry.message!, 'expired')
        continue
      }
      return { message: entry.message!, deliveryCount: entry.deliveryCount }
    }
    for (let i = 0; i < p.ready.length; i++) {
      const message = p.ready[i]!
      if (this.#expired(message, now)) {
        p.ready.splice(i--, 1)
        this.#deadLetter(p, message, 'expired')
        continue
      }
      if (this.config.fifo && (this.#groupBusy(message) || this.#groupReturned(p, message))) continue
      if (i === 0) p.ready.shift()
      else p.ready.splice(i, 1)
      return { message, deliveryCount: 0 }
    }
    return null
  }

  #groupBusy(message: StoredMessage): boolean {
    const group = headerText(message.headers, Reserved.groupId)
    return group !== undefined && (this.#busyGroups.get(group) ?? 0) > 0
  }

  #groupReturned(p: QueuePartition, message: StoredMessage): boolean {
    if (p.returned.size === 0 && p.cold.size === 0) return false
    const group = headerText(message.headers, Reserved.groupId)
    if (group === undefined) return false
    for (const entry of p.returned)
      if (entry.message && headerText(entry.message.headers, Reserved.groupId) === group) return true
    return p.cold.size > 0 // unknown groups of cold entries: be conservative, wait for them to load
  }

  #lease(
    p: QueuePartition,
    message: StoredMessage,
    previousCount: number,
    owner: string,
    leaseMs: number | null | undefined,
    consumer: QueueConsumer | null,
    noAck: boolean,
    now: number,
  ): Delivery {
    const deliveryCount = previousCount + 1
    const redelivered = deliveryCount > 1 || message.offset <= p.recoveredDeliveredMax
    if (message.offset > p.deliveredMax) p.deliveredMax = message.offset
    this.stats.delivered++
    const id = ++this.#leaseSeq
    if (noAck) {
      this.stats.acked++
      void this.#storeAck(p, message.offset, bodySize(message)).catch(() => {})
      return {
        queue: this.name,
        partition: p.index,
        offset: message.offset,
        deliveryCount,
        redelivered,
        message,
        leaseId: id,
        deadline: null,
      }
    }
    const effectiveLease = leaseMs === undefined ? this.config.leaseMs : leaseMs
    const deadline = effectiveLease === null ? null : now + effectiveLease
    const groupId = this.config.fifo ? headerText(message.headers, Reserved.groupId) : undefined
    const lease: Lease = {
      id,
      partition: p.index,
      offset: message.offset,
      owner,
      consumer,
      deadline,
      deliveryCount,
      groupId,
      message,
      purged: false,
    }
    p.inflight.set(message.offset, lease)
    if (deadline !== null) this.#leases.push({ deadline, lease })
    if (groupId !== undefined) this.#busyGroups.set(groupId, (this.#busyGroups.get(groupId) ?? 0) + 1)
    if (consumer !== null) {
      consumer.unacked++
      if (consumer.creditGroup) consumer.creditGroup.used++
    }
    return {
      queue: this.name,
      partition: p.index,
      offset: message.offset,
      deliveryCount,
      redelivered,
      message,
      leaseId: id,
      deadline,
    }
  }

  #endLease(p: QueuePartition, lease: Lease): void {
    const removed = p.inflight.delete(lease.offset)
    assert(removed, 'ending a lease that is not in flight')
    if (lease.groupId !== undefined) {
      const n = (this.#busyGroups.get(lease.groupId) ?? 1) - 1
      if (n <= 0) this.#busyGroups.delete(lease.groupId)
      else this.#busyGroups.set(lease.groupId, n)
    }
    if (lease.consumer !== null) {
      lease.consumer.unacked--
      lease.consumer.creditGroup?.release()
    }
    this.#schedule()
  }

  #requeue(p: QueuePartition, lease: Lease): void {
    const limit = this.config.maxDeliveries
    if (limit !== null && lease.deliveryCount >= limit) {
      this.#deadLetter(p, lease.message, 'delivery_limit')
      return
    }
    p.returned.push({ offset: lease.offset, deliveryCount: lease.deliveryCount, message: lease.message })
  }

  /** Dead-letters (or drops) a message, then acks it; the offset is pinned meanwhile so it is not redelivered. */
  #deadLetter(p: QueuePartition, message: StoredMessage, reason: DeathReason): void {
    this.stats.deadLettered++
    const pin: Lease = {
      id: ++this.#leaseSeq,
      partition: p.index,
      offset: message.offset,
      owner: '',
      consumer: null,
      deadline: null,
      deliveryCount: 0,
      groupId: undefined,
      message,
      purged: false,
    }
    p.inflight.set(message.offset, pin)
    const target = this.config.deadLetter === null ? Promise.resolve() : this.#hooks.deadLetter(this, message, reason)
    target
      .then(() => this.#storeAck(p, message.offset, bodySize(message)))
      .then(
        () => {
          if (p.inflight.get(message.offset) === pin) p.inflight.delete(message.offset)
        },
        () => {
          // Dead-lettering failed: keep the message (returned), never lose it.
          if (p.inflight.get(message.offset) === pin) p.inflight.delete(message.offset)
          p.returned.push({ offset: message.offset, deliveryCount: 0, message })
          this.#schedule()
        },
      )
  }

  /** Acks are coalesced per partition per tick into one cursor-store write. size: the body bytes. */
  #storeAck(p: QueuePartition, offset: number, size: number): Promise<void> {
    if (offset >= p.log.highWatermark) {
      // Delivered before durable: storing the ack now could, after a crash, ack whatever record reuses the
      // offset. Held until the log is durable past it.
      const held = new Promise<void>((resolve) => {
        p.heldAcks.push({ offset, release: (store) => resolve(store ? this.#storeAck(p, offset, size) : undefined) })
      })
      held.catch(() => {})
      return held
    }
    let pending = this.#pendingAcks.get(p)
    if (pending === undefined) {
      const offsets: number[] = []
      const sizes: number[] = []
      const promise = Promise.resolve().then(() => {
        this.#pendingAcks.delete(p)
        this.#bytes?.acking(p.index, offsets, sizes)
        return this.#cursors.ack(p.ackKey, offsets)
      })
      // settle() callers do not wait: a failure must not become an unhandled rejection (ack() callers
      // still see it through their own then).
      promise.catch(() => {})
      pending = { offsets, sizes, promise }
      this.#pendingAcks.set(p, pending)
    }
    pending.offsets.push(offset)
    pending.sizes.push(size)
    return pending.promise
  }
}

/** Ends a drop pin that did not complete: the message goes back to be re-read and delivered. */
function unpinToCold(p: QueuePartition, pin: Lease): void {
  if (p.inflight.get(pin.offset) !== pin) return
  p.inflight.delete(pin.offset)
  p.cold.push({ offset: pin.offset, deliveryCount: 0, message: null })
}

/** Index of offset in the (offset-ordered) read-ahead, or -1. */
function readyIndex(ready: StoredMessage[], offset: number): number {
  let lo = 0
  let hi = ready.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const at = ready[mid]!.offset
    if (at === offset) return mid
    if (at < offset) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

export function ackKeyOf(queue: string, streamId: number, partition: number): string {
  return `q\u0000${queue}\u0000${streamId}\u0000${partition}`
}
