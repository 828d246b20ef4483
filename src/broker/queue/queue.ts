// A queue: competing consumers over a stream. Each delivery is a lease (deadline or
// until released); ack removes the message (durably, in the cursor store), nack/expiry returns it with a
// delivery count, past maxDeliveries it is dead-lettered. Consumers are pushed to from one synchronous
// drain loop, scheduled at most once per tick; reading the log is asynchronous and bounded (read-ahead).
// This class is the public face and the consumer registry; the work is done by plain functions over its
// private QueueState: delivery.ts (drain, pick, lease), settle.ts (settling, held acks, retract),
// read-ahead.ts, housekeeping.ts (tick, length limits, purge).
import type { CursorStore, PartitionLog } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import type { QueueConfig } from '../config.js'
import type { StoredMessage } from '../message.js'
import { addConsumer, QueueConsumer } from './consumer.js'
import { drain, pull } from './delivery.js'
import { handOff, purge, saveDeliveryState, tick, trim } from './housekeeping.js'
import type { QueuePartition } from './partition.js'
import { PublishGate } from './publish-gate.js'
import { appendedByOthers, offerTail } from './read-ahead.js'
import { atServer, QUEUE_MOVED, type RemoteQueue, type RemoteSettle } from './remote.js'
import * as acks from './settle.js'
import {
  ackFloorOf,
  ackKeyOf,
  depthOf,
  newQueueState,
  type QueueHooks,
  type QueueState,
  queueStatsOf,
  trackBytes,
} from './state.js'
import type { ConsumeOptions, Delivery, GetOptions, QueueStats } from './types.js'

export type { QueueHooks }
export { ackKeyOf, QueueConsumer }

export interface QueueOptions {
  name: string
  config: QueueConfig
  /** The partition logs of the queue's stream. */
  logs: PartitionLog[]
  /** Where acks, deliveredMax and delivery counts are kept. */
  cursors: CursorStore
  hooks: QueueHooks
  /** The stream's id, part of the queue's ack keys. */
  streamId: number
}

export class Queue {
  readonly name: string
  readonly stats: QueueState['stats']
  #s: QueueState
  readonly #logs: PartitionLog[]
  readonly #streamId: number
  /** Set while another broker of the cluster serves this queue: every operation goes there (remote.ts). */
  #remote: RemoteQueue | null = null
  #handedOff: Promise<void> = Promise.resolve()
  #drainScheduled = false
  #hadConsumer = false
  readonly #unsubscribe: Array<() => void> = []
  /** Each consumer's credit listener, removed when it goes (a long-lived queue sees many consumers come and go). */
  readonly #creditListeners = new Map<QueueConsumer, () => void>()
  /** Serializes enforceMaxLength runs, so two publishes never pick the same messages to drop. */
  #trimming: Promise<unknown> = Promise.resolve()

  constructor(options: QueueOptions) {
    const { name, config, logs, cursors, hooks, streamId } = options
    this.name = name
    this.#logs = logs
    this.#streamId = streamId
    this.stats = { published: 0, delivered: 0, acked: 0, deadLettered: 0, dropped: 0 }
    this.#s = this.#freshState(config, cursors, hooks, [])
    for (const [i, log] of logs.entries()) {
      // Appends by others (e.g. Kafka produce) wake the reader; our own publishes use offerTail first.
      this.#unsubscribe.push(
        log.onAppend((next) => {
          if (this.#remote === null) appendedByOthers(this.#s, i, next, () => this.#s)
        }),
      )
    }
    this.#remote = hooks.remoteFor?.(name, config, streamId) ?? null
    trackBytes(this.#s)
  }

  #freshState(config: QueueConfig, cursors: CursorStore, hooks: QueueHooks, consumers: QueueConsumer[]): QueueState {
    const parts = { config, cursors, hooks, consumers, stats: this.stats }
    return newQueueState(this, this.#logs, this.#streamId, parts, this.#s?.tagSeq ?? 0, () => this.#schedule())
  }

  get partitions(): readonly QueuePartition[] {
    return this.#s.partitions
  }

  /** The node serving this queue when another broker of the cluster does; undefined when served here. */
  get servedBy(): number | undefined {
    return this.#remote?.node
  }

  /**
   * Moves where this queue is served (the cluster link calls it when the owner of the queue's first partition
   * log changes). Consumers stay attached: to another broker they are subscribed there; served here again,
   * the state is read back from the cursor store (what the previous owner acked) and delivery resumes. Leases
   * handed out by the previous server are forgotten: their messages are redelivered.
   */
  async serveFrom(remote: RemoteQueue | null): Promise<void> {
    const previous = this.#remote
    if (previous === remote || this.#s.deleted) return
    const s = this.#s
    for (const consumer of s.consumers) previous?.unsubscribe(consumer)
    if (remote !== null) {
      this.#remote = remote
      for (const waiter of [...s.waiters]) waiter.resolve([])
      for (const consumer of [...s.consumers]) {
        if (consumer.forwarded) {
          // Attached by another broker for its client: told to go, to attach where the queue went.
          this.cancel(consumer)
          consumer.onCancel?.(QUEUE_MOVED)
        } else {
          consumer.unacked = 0
          remote.subscribe(consumer)
        }
      }
      if (previous === null) {
        this.#s = this.#freshState(s.config, s.cursors, s.hooks, s.consumers)
        this.#handedOff = handOff(s)
      }
      return
    }
    await previous?.handover()
    await s.cursors.refresh?.(ackKeyOf(this.name, this.#streamId, 0).slice(0, -1))
    if (this.#remote !== previous || s.deleted) return
    for (const consumer of s.consumers) consumer.unacked = 0
    this.#s = this.#freshState(s.config, s.cursors, s.hooks, s.consumers)
    this.#remote = null
    trackBytes(this.#s)
    this.#schedule()
  }

  get config(): QueueConfig {
    return this.#s.config
  }
  /** New settings (alterQueue); byte counting starts or stops with maxLengthBytes. */
  set config(next: QueueConfig) {
    this.#s.config = next
    this.#s.groups.resize(next.messageGroupsMax)
    trackBytes(this.#s)
  }

  /** What publishes in progress hold against the queue's limits, and what it drops while idle. */
  readonly publishing = new PublishGate(() => this.#s.consumers.length)

  /** Body bytes of the messages depth() counts; null unless maxLengthBytes is set. */
  messageBytes(): number | null {
    return this.#s.bytes === null ? null : this.#s.bytes.total()
  }

  /** Resolves when messageBytes() is complete (after a restart it is read back from the log once). */
  bytesCounted(): Promise<void> | null {
    return this.#s.bytes?.counting ? this.#s.bytes.settled() : null
  }

  get streamName(): string {
    return this.config.stream
  }
  get consumerCount(): number {
    return this.#s.consumers.length
  }

  get deleted(): boolean {
    return this.#s.deleted
  }

  // ---- consumers ----

  consume(options: ConsumeOptions): QueueConsumer {
    this.#assertLive()
    const s = this.#s
    if (s.consumers.some((c) => c.exclusive)) {
      throw new WharfError('RESOURCE_LOCKED', `queue '${this.name}' has an exclusive consumer`)
    }
    if (options.exclusive && s.consumers.length > 0) {
      throw new WharfError(
        'RESOURCE_LOCKED',
        `cannot obtain exclusive access to queue '${this.name}': it has consumers`,
      )
    }
    const consumer = new QueueConsumer(options.tag ?? `wharf.ctag-${++s.tagSeq}`, options)
    addConsumer(s.consumers, consumer, s.config.singleActiveConsumer)
    if (consumer.singleActive) s.singleActives++
    this.#hadConsumer = true
    s.lastUsed = s.hooks.now()
    if (consumer.creditGroup)
      this.#creditListeners.set(
        consumer,
        consumer.creditGroup.onRelease(() => this.#schedule()),
      )
    this.#remote?.subscribe(consumer)
    this.#schedule()
    return consumer
  }

  /** Stops deliveries to a consumer; its unacked deliveries stay ackable until their owner is released. */
  cancel(consumer: QueueConsumer): void {
    const s = this.#s
    const at = s.consumers.indexOf(consumer)
    if (at < 0) return
    this.#remote?.unsubscribe(consumer)
    s.consumers.splice(at, 1)
    if (consumer.singleActive) s.singleActives--
    consumer.cancelled = true
    s.groups.release(consumer)
    this.#creditListeners.get(consumer)?.()
    this.#creditListeners.delete(consumer)
    s.lastUsed = s.hooks.now()
    if (s.consumers.length === 0 && this.config.autoDelete && this.#hadConsumer) {
      s.hooks.deleteQueue(this, 'auto-delete')
      return
    }
    this.#schedule()
  }

  /** JMS message groups pinned to consumers now (bounded by config.messageGroupsMax plus those in flight). */
  messageGroupCount(): number {
    return this.#s.groups.size
  }

  /** Pull: takes up to `max` messages, waiting up to waitMs for the first one. */
  async get(options: GetOptions): Promise<Delivery[]> {
    this.#assertLive()
    if (this.#remote === null) return pull(this.#s, options)
    return atServer(this.server, (remote) => (remote === null ? pull(this.#s, options) : remote.get(options)))
  }

  // ---- acks ----

  /** Acks one delivery; resolves when the ack is durable. False if the lease is unknown or stale. */
  ack(partition: number, offset: number, leaseId?: number): Promise<boolean> {
    const here = () => acks.ack(this.#s, partition, offset, leaseId)
    if (this.#remote === null) return here()
    return atServer(this.server, (remote) =>
      remote === null ? here() : remote.settle('ack', partition, offset, leaseId),
    )
  }

  /**
   * ack() for callers that do not wait for durability (the client was answered already, e.g. an MQTT
   * PUBACK from a subscriber): no promise per call. A failed ack store is harmless here, as for ack():
   * the message is redelivered. False if the lease is unknown or stale.
   */
  settle(partition: number, offset: number, leaseId?: number): boolean {
    if (this.#remote !== null) return this.#forward('settle', partition, offset, leaseId)
    return acks.settle(this.#s, partition, offset, leaseId)
  }

  /** Returns (requeue) or dead-letters/drops a delivery. False if the lease is unknown or stale. */
  nack(partition: number, offset: number, requeue: boolean, leaseId?: number): boolean {
    if (this.#remote !== null) return this.#forward(requeue ? 'requeue' : 'nack', partition, offset, leaseId)
    return acks.nack(this.#s, partition, offset, requeue, leaseId)
  }

  /** Returns a delivery uncounted, as if it had not been delivered (AMQP 1.0 released). */
  release(partition: number, offset: number, leaseId?: number): boolean {
    if (this.#remote !== null) return this.#forward('release', partition, offset, leaseId)
    return acks.release(this.#s, partition, offset, leaseId)
  }

  /** Changes a lease's deadline (SQS ChangeMessageVisibility); 0 makes the message available now. */
  extend(partition: number, offset: number, leaseMs: number, leaseId?: number): boolean {
    if (this.#remote !== null) return this.#forward('extend', partition, offset, leaseId, leaseMs)
    return acks.extend(this.#s, partition, offset, leaseMs, leaseId)
  }

  /** Returns every lease held by an owner (connection/channel closed): redelivered later. */
  releaseOwner(owner: string): number {
    const released = this.#remote === null ? acks.releaseLeases(this.#s, owner) : 0
    this.#remote?.releaseOwner(owner)
    for (const consumer of [...this.#s.consumers]) if (consumer.owner === owner) this.cancel(consumer)
    if (released > 0) this.#schedule()
    return released
  }

  // ---- publishing side ----

  /** Our own publish landed: take the messages straight into the read-ahead if we are caught up. */
  offerTail(partition: number, messages: StoredMessage[]): void {
    if (this.#remote === null) offerTail(this.#s, partition, messages)
  }

  /**
   * An append whose records were offered before they were durable failed: forget every record from
   * fromOffset on (ready, returned, in flight, held acks). They were never stored; the log reuses the offsets.
   */
  retract(partition: number, fromOffset: number): void {
    if (this.#remote === null) acks.retract(this.#s, partition, fromOffset)
  }

  depth(): number {
    return depthOf(this.#s)
  }

  /**
   * Drops (or dead-letters) messages from the head until the depth is within maxLength and their body bytes
   * within maxLengthBytes. Runs one at a time per queue, so two publishes never pick the same messages; the
   * promise also waits for the acks to be durable, which the next run does not.
   */
  enforceMaxLength(): Promise<void> {
    const { maxLength, maxLengthBytes } = this.config
    if (this.#remote !== null || (maxLength === null && (maxLengthBytes ?? null) === null)) return Promise.resolve()
    const run = this.#trimming.then(() => trim(this.#s))
    this.#trimming = run.catch(() => {})
    return run.then((stored) => Promise.all(stored).then(() => {}))
  }

  /** Removes every message that is not in flight, on a full disk too. Returns how many were purged. */
  purge(): Promise<number> {
    return atServer(this.server, (remote) => {
      const s = this.#s
      return remote === null ? s.hooks.freeingSpace(() => purge(s)) : remote.purge()
    })
  }

  /** The numbers as this broker has them: for a queue another broker serves, only its local counters are current. */
  queueStats(): QueueStats {
    return queueStatsOf(this.#s, this.streamName)
  }

  /** The numbers as the broker serving the queue has them (this one, or another of the cluster). */
  currentStats(): Promise<QueueStats> {
    return atServer(this.server, async (remote) => (remote === null ? this.queueStats() : remote.stats()))
  }

  isAcked(partition: number, offset: number): boolean {
    const p = this.partitions[partition]
    return p !== undefined && this.#s.cursors.isAcked(p.ackKey, offset)
  }

  /** Lowest unacked offset per partition (for work-queue retention). */
  ackFloor(partition: number): number {
    return ackFloorOf(this.#s, partition)
  }

  /** Periodic work: lease expiry, delayed messages, TTL at the head, unused-queue expiry. */
  tick(now: number): void {
    if (this.#remote === null) tick(this.#s, now)
  }

  /**
   * Persists what the maintenance tick has not saved yet: how far deliveries got, so that redeliveries after
   * a restart are flagged (best effort), and the delivery counts of a queue with a delivery limit.
   */
  saveDeliveryState(): Promise<void> {
    return this.#remote === null ? saveDeliveryState(this.#s) : Promise.resolve()
  }

  /** Cancels every consumer and waiter (queue deleted). */
  close(reason: string): void {
    const s = this.#s
    s.deleted = true
    s.bytes?.close()
    for (const off of this.#unsubscribe) off()
    for (const off of this.#creditListeners.values()) off()
    this.#creditListeners.clear()
    s.singleActives = 0
    for (const consumer of s.consumers) this.#remote?.unsubscribe(consumer)
    for (const consumer of s.consumers.splice(0)) {
      consumer.cancelled = true
      consumer.onCancel?.(reason)
    }
    for (const waiter of [...s.waiters]) waiter.resolve([])
  }

  // ---- internals ----

  /** Resolves once what this broker acked while it served the queue is durable (it is served elsewhere now). */
  handedOff(): Promise<void> {
    return this.#handedOff
  }

  /** A settle the caller does not wait for, sent to the serving broker; true: its outcome is the server's. */
  #forward(op: RemoteSettle, partition: number, offset: number, leaseId?: number, leaseMs?: number): boolean {
    this.#remote!.settleLater(op, partition, offset, leaseId, leaseMs)
    return true
  }

  /** Where the queue is served: null here, else the other broker of the cluster (for ./remote.ts atServer). */
  readonly server = (): RemoteQueue | null => this.#remote

  #assertLive(): void {
    if (this.#s.deleted) throw new WharfError('SUBSCRIPTION_NOT_FOUND', `queue '${this.name}' was deleted`)
  }

  /** The drain loop (delivery.ts) runs at most once per tick. */
  #schedule(): void {
    if (this.#drainScheduled || this.#s.deleted || this.#remote !== null) return
    this.#drainScheduled = true
    queueMicrotask(() => {
      this.#drainScheduled = false
      drain(this.#s)
    })
  }
}
