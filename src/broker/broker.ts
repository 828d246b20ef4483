// The broker: the protocol-free model every adapter (and the embedded API) calls. It owns streams, queue
// subscriptions, committed offsets and the catalog; storage is reached only through src/storage/api.ts.
import type { StorageEngine } from '../storage/api.js'
import { WharfError } from '../util/errors.js'
import { type AdapterKind, type Catalog, catalogOver } from './catalog.js'
import type { QueueConfig, StreamConfig } from './config.js'
import { GroupCoordinator, type OffsetStore } from './groups/index.js'
import type { LogMember, LogMemberOptions } from './log/assigned-group.js'
import { groupLag, LogGroups } from './log/groups.js'
import { groupKey, offsetStoreOver, waitForLogData } from './log/offsets.js'
import { Maintenance } from './maintenance.js'
import { type DeathReason, headerText, type PublishMessage, Reserved, type StoredMessage } from './message.js'
import { type AlterableQueueKey, QueueCatalog, sendToQueueStream } from './queue/catalog.js'
import { deadLetterMessage } from './queue/dead-letter.js'
import type { QueueConsumer, QueueSubscription } from './queue/queue.js'
import type { ConsumeOptions, Delivery, GetOptions, QueueStats } from './queue/types.js'
import { Publisher, type PublishResult } from './routing/publisher.js'
import {
  type BindingDef,
  type ExchangeDeclare,
  type ExchangeDef,
  Router,
  TopicSubscriptions,
} from './routing/router.js'
import { SchemaStore } from './schema/index.js'
import { Appender } from './stream/appender.js'
import { StreamCatalog } from './stream/catalog.js'
import type { MessagePosition } from './stream/produce.js'
import type { RawAppendResult } from './stream/raw-append.js'
import { readStored } from './stream/stored.js'
import type { Stream } from './stream/stream.js'

export interface BrokerOptions {
  storage: StorageEngine
  /** Kafka group.initial.rebalance.delay.ms (default 3000). */
  initialRebalanceDelayMs?: number
  /** Durability of streams created without one. */
  defaultDurability?: StreamConfig['durability']
  /** Period of the shared maintenance tick (lease expiry, delays, TTL), ms. */
  tickMs?: number
  now?: () => number
  warn?: (message: string, details?: Record<string, unknown>) => void
}

export { validateName } from './stream/catalog.js'

export class Broker {
  readonly #storage: StorageEngine
  readonly #catalogs = new Map<AdapterKind, Catalog<unknown>>()
  readonly #offsets: OffsetStore
  readonly #streams: StreamCatalog
  readonly #queues: QueueCatalog
  readonly #appender: Appender
  readonly #maintenance: Maintenance
  readonly #logGroups = new LogGroups({
    stream: (name) => this.stream(name),
    committed: (g, s, p) => this.committedOffset(g, s, p)?.offset,
    commit: (g, s, p, offset) => this.commitOffset(g, s, p, offset),
    read: (s, p, offset, maxBytes) => this.readMessages(s, p, offset, maxBytes),
    warn: (message, details) => this.#warn(message, details),
  })
  schemas!: SchemaStore
  router!: Router
  /** Consumer-group coordinator (Kafka classic group protocol semantics); offsets live in the cursor store. */
  groups!: GroupCoordinator
  /** SNS-style topics and their filtered subscriptions. */
  topics!: TopicSubscriptions
  /** In-memory subscribers bound as router sinks (e.g. MQTT QoS 0 sessions). */
  readonly #publisher = new Publisher({
    route: (exchange, routingKey, headers, out) => this.router.route(exchange, routingKey, headers, out),
    queue: (name) => this.#queues.get(name),
    stream: (name) => this.stream(name),
    append: (stream, message, now) => this.#appender.publish(stream, message, now),
    deadLetter: (queue, message, reason) => this.#deadLetter(queue, message, reason),
    now: () => this.now(),
  })
  readonly #options: Required<Omit<BrokerOptions, 'warn' | 'storage' | 'initialRebalanceDelayMs'>> &
    Pick<BrokerOptions, 'warn' | 'initialRebalanceDelayMs'>
  #closed = false
  /** Serializes catalog changes (create/delete) so concurrent declares stay consistent. */
  #catalogLock: Promise<unknown> = Promise.resolve()

  protected constructor(options: BrokerOptions) {
    this.#storage = options.storage
    this.#appender = new Appender(options.storage.metadata, () => this.schemas)
    this.#options = {
      defaultDurability: options.defaultDurability ?? 'always',
      tickMs: options.tickMs ?? 100,
      now: options.now ?? Date.now,
      warn: options.warn,
      initialRebalanceDelayMs: options.initialRebalanceDelayMs,
    }
    this.#streams = new StreamCatalog({
      storage: this.#storage,
      defaultDurability: this.#options.defaultDurability,
      now: () => this.now(),
      forget: (stream) => this.#forgetStream(stream),
    })
    this.#queues = new QueueCatalog({
      storage: this.#storage,
      streams: this.#streams,
      defaultDurability: this.#options.defaultDurability,
      now: this.#options.now,
      warn: (message, details) => this.#warn(message, details),
      unbindQueue: (name) => this.router.unbindDestination({ kind: 'queue', name }),
      deadLetter: (queue, message, reason) => this.#deadLetter(queue, message, reason),
      deleteQueue: (name) => this.deleteQueue(name),
    })
    this.#offsets = offsetStoreOver(this.#storage.cursors, (topic) => this.#streams.get(topic)?.partitions.length)
    this.#maintenance = new Maintenance({
      now: () => this.now(),
      warn: (message, details) => this.#warn(message, details),
      queues: () => this.#queues.values(),
      streams: () => this.#streams.values(),
      producers: this.#appender.producers,
      dedup: this.#appender.dedup,
    })
  }

  static async open(options: BrokerOptions): Promise<Broker> {
    const broker = new Broker(options)
    await broker.#load()
    return broker
  }

  get now(): () => number {
    return this.#options.now
  }

  async #load(): Promise<void> {
    const meta = this.#storage.metadata
    this.schemas = await SchemaStore.open(meta)
    await this.#streams.load()
    this.router = await Router.open(meta, { queueExists: (name) => this.#queues.has(name) })
    this.topics = await TopicSubscriptions.open(meta)
    this.groups = new GroupCoordinator({
      offsets: this.#offsets,
      now: this.now,
      initialRebalanceDelayMs: this.#options.initialRebalanceDelayMs,
    })
    await this.#queues.load()
    // Bindings whose queue or stream did not survive (transient, deleted while down) go too.
    await this.router.unbindMissing((d) => (d.kind === 'queue' ? this.#queues.has(d.name) : this.#streams.has(d.name)))
    this.#maintenance.start(this.#options.tickMs)
  }

  /**
   * The catalog of one kind of adapter state (MQTT sessions, SQS queue attributes, listener secrets):
   * durable, typed by the caller, never read by the broker. Storage itself is not public.
   */
  catalog<T>(kind: AdapterKind): Catalog<T> {
    let catalog = this.#catalogs.get(kind)
    if (catalog === undefined) {
      catalog = catalogOver(this.#storage.metadata, kind)
      this.#catalogs.set(kind, catalog)
    }
    return catalog as Catalog<T>
  }

  #warn(message: string, details?: Record<string, unknown>): void {
    this.#options.warn?.(message, details)
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#catalogLock.then(work)
    this.#catalogLock = run.catch(() => {})
    return run
  }

  #assertOpen(): void {
    if (this.#closed) throw new WharfError('BROKER_CLOSED')
  }

  // ---- streams (catalog in stream/catalog.ts) ----

  /** Creates a stream; with `ifNotExists` an existing one is returned when its config is compatible. */
  createStream(
    name: string,
    config: Partial<StreamConfig> = {},
    options: { ifNotExists?: boolean } = {},
  ): Promise<Stream> {
    return this.#serial(async () => {
      this.#assertOpen()
      return this.#streams.create(name, config, options)
    })
  }

  getStream(name: string): Stream | undefined {
    return this.#streams.get(name)
  }

  stream(name: string): Stream {
    return this.#streams.stream(name)
  }

  listStreams(): Stream[] {
    return this.#streams.list()
  }

  /** Changes stream settings; partitions can only grow (Kafka CreatePartitions). */
  alterStream(name: string, changes: Partial<StreamConfig>): Promise<Stream> {
    return this.#serial(() => this.#streams.alter(name, changes))
  }

  deleteStream(name: string, options: { force?: boolean } = {}): Promise<void> {
    return this.#serial(async () => {
      const stream = this.stream(name)
      if (stream.queues.size > 0 && !options.force) {
        const names = [...stream.queues].map((q) => q.name).join(', ')
        throw new WharfError('PRECONDITION_FAILED', `stream '${name}' is read by queues: ${names}`)
      }
      for (const queue of [...stream.queues]) await this.#queues.remove(queue, 'stream deleted')
      await this.#streams.deleteNow(stream)
    })
  }

  /** What refers to a stream besides its logs: bindings to it, its dedup window, its producers' state. */
  async #forgetStream(stream: Stream): Promise<void> {
    await this.router.unbindDestination({ kind: 'stream', name: stream.name })
    await this.#appender.forget(stream)
  }

  // ---- producing ----

  /**
   * Appends messages to a stream (see Appender.produce): one storage append per partition, resolved when
   * durable per the stream's policy with each message's position.
   */
  produce(
    streamName: string,
    messages: PublishMessage[],
    options: { partition?: number } = {},
  ): Promise<MessagePosition[]> {
    try {
      this.#assertOpen()
      return this.#appender.produce(this.stream(streamName), messages, options.partition, this.now())
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Appends one client-built RecordBatch (Kafka produce) as received: validated (structure + CRC), checked
   * against idempotent-producer state, schema-validated when the stream has a subject. A retried batch is
   * answered with its original offsets and not written again.
   */
  async appendRawBatch(streamName: string, partition: number, batch: Buffer): Promise<RawAppendResult> {
    this.#assertOpen()
    return this.#appender.appendRaw(this.stream(streamName), partition, batch)
  }

  /** A fresh producer id (Kafka InitProducerId for non-transactional producers). */
  initProducerId(): Promise<{ producerId: number; producerEpoch: number }> {
    return this.#appender.producers.allocator.next()
  }

  /** Decoded messages of a partition from an offset (REST peek/browse, AMQP stream consumers). */
  async readMessages(
    streamName: string,
    partition: number,
    offset: number,
    maxBytes = 1024 * 1024,
  ): Promise<{ messages: StoredMessage[]; nextOffset: number }> {
    return readStored(streamName, partition, this.stream(streamName).partitionLog(partition), offset, maxBytes)
  }

  // ---- queues (catalog in queue/catalog.ts) ----

  /**
   * Declares a queue: a queue-mode subscription over a stream (its own, created with it, unless
   * config.stream names an existing one). Redeclaring with the same settings returns the existing queue.
   */
  createQueue(
    name: string,
    config: Partial<QueueConfig> = {},
    options: { ifNotExists?: boolean } = {},
  ): Promise<QueueSubscription> {
    return this.#serial(async () => {
      this.#assertOpen()
      return this.#queues.create(name, config, options)
    })
  }

  /**
   * Changes settings of an existing queue (SQS SetQueueAttributes): lease, delivery limit, dead-letter
   * target, TTL, length limit, delay. The stream, durability and ownership cannot change. New settings apply
   * to deliveries from now on; persisted with the queue's catalog record.
   */
  alterQueue(name: string, changes: Partial<Pick<QueueConfig, AlterableQueueKey>>): Promise<QueueSubscription> {
    return this.#serial(async () => {
      this.#assertOpen()
      return this.#queues.alter(name, changes)
    })
  }

  getQueue(name: string): QueueSubscription | undefined {
    return this.#queues.get(name)
  }

  queue(name: string): QueueSubscription {
    return this.#queues.queue(name)
  }

  listQueues(): QueueSubscription[] {
    return this.#queues.list()
  }

  /** Publishes straight to a queue's stream, applying the queue's delay default and overflow policy. */
  async sendToQueue(name: string, messages: PublishMessage[]): Promise<MessagePosition[]> {
    return sendToQueueStream(this.queue(name), messages, (stream, withDelay) => this.produce(stream, withDelay))
  }

  consume(queueName: string, options: ConsumeOptions): QueueConsumer {
    this.#assertOpen()
    return this.queue(queueName).consume(options)
  }

  get(queueName: string, options: GetOptions): Promise<Delivery[]> {
    this.#assertOpen()
    return this.queue(queueName).get(options)
  }

  /** Returns all leases held by an owner and deletes its exclusive queues (connection closed). */
  async releaseOwner(owner: string): Promise<void> {
    for (const queue of [...this.#queues.values()]) {
      if (queue.config.exclusiveOwner === owner) await this.deleteQueue(queue.name)
      else queue.releaseOwner(owner)
    }
  }

  deleteQueue(name: string, options: { ifUnused?: boolean; ifEmpty?: boolean } = {}): Promise<number> {
    return this.#serial(() => this.#queues.delete(name, options))
  }

  queueStats(name: string): QueueStats {
    return this.queue(name).queueStats()
  }

  async #deadLetter(queue: QueueSubscription, message: StoredMessage, reason: DeathReason): Promise<void> {
    const target = queue.config.deadLetter
    if (target === null) return
    const dead = deadLetterMessage(queue.name, message, reason, this.now())
    if ('queue' in target) {
      await this.produce(this.queue(target.queue).streamName, [dead])
      return
    }
    await this.deadLetterToExchange(
      target.exchange,
      target.routingKey ?? headerText(message.headers, Reserved.routingKey) ?? queue.name,
      dead,
    )
  }

  async deadLetterToExchange(exchange: string, routingKey: string, message: PublishMessage): Promise<void> {
    await this.publish(exchange, routingKey, message)
  }

  // ---- exchanges and routing ----

  declareExchange(def: ExchangeDeclare, options: { passive?: boolean } = {}): Promise<ExchangeDef> {
    this.#assertOpen()
    return this.router.declareExchange(def, options)
  }

  deleteExchange(name: string, options: { ifUnused?: boolean } = {}): Promise<void> {
    return this.router.deleteExchange(name, options)
  }

  /** Binds an exchange to a queue, stream or exchange; the destination must exist. */
  async bind(binding: BindingDef): Promise<void> {
    this.#assertOpen()
    const d = binding.destination
    if (d.kind === 'queue' && !this.#queues.has(d.name))
      throw new WharfError('SUBSCRIPTION_NOT_FOUND', `no queue '${d.name}'`, { detail: { queue: d.name } })
    if (d.kind === 'stream' && !this.#streams.has(d.name))
      throw new WharfError('STREAM_NOT_FOUND', `no stream '${d.name}'`, { detail: { stream: d.name } })
    if (d.kind === 'sink' && !this.#publisher.hasSink(d.id))
      throw new WharfError('INVALID_ARGUMENT', `no sink '${d.id}'`)
    await this.router.bind(binding)
  }

  unbind(binding: BindingDef): Promise<boolean> {
    return this.router.unbind(binding)
  }

  /** Registers an in-memory subscriber that bindings can target as { kind: 'sink', id }. */
  registerSink(id: string, deliver: (message: StoredMessage, routingKey: string) => void): void {
    this.#publisher.registerSink(id, deliver)
  }

  async removeSink(id: string): Promise<void> {
    this.#publisher.removeSink(id)
    await this.router.unbindDestination({ kind: 'sink', id })
  }

  /**
   * Publishes through an exchange: the router picks the destinations, the message is appended to every
   * destination stream (in parallel) and handed to every sink. `routed` is 0 for an unroutable message
   * (the caller implements mandatory/basic.return). A reject-publish queue that is full fails the whole
   * publish before anything is appended. `extraRoutingKeys` routes the message by more keys through the
   * same exchange (AMQP CC/BCC): every destination any key reaches gets it once.
   */
  publish(
    exchange: string,
    routingKey: string,
    message: PublishMessage,
    options: { routingHeaders?: Record<string, unknown>; extraRoutingKeys?: readonly string[] } = {},
  ): Promise<PublishResult> {
    this.#assertOpen()
    return this.#publisher.publish(exchange, routingKey, message, options.routingHeaders, options.extraRoutingKeys)
  }

  // ---- log mode ----

  /** Committed offset of a consumer group on a stream partition. */
  committedOffset(group: string, stream: string, partition: number): { offset: number; metadata: string } | undefined {
    return this.#storage.cursors.getOffset(groupKey(group, stream, partition))
  }

  async commitOffset(group: string, stream: string, partition: number, offset: number, metadata = ''): Promise<void> {
    this.stream(stream).partitionLog(partition)
    await this.#storage.cursors.commitOffset(groupKey(group, stream, partition), offset, metadata)
  }

  /** Groups with committed offsets, whether or not they have members. */
  committedGroups(): string[] {
    return this.#offsets.listGroups()
  }

  /** The stream partitions a group has committed offsets for. */
  committedPartitions(group: string): Array<{ stream: string; partition: number }> {
    return this.#offsets.listPartitions(group).map(({ topic, partition }) => ({ stream: topic, partition }))
  }

  /**
   * Joins a broker-assigned log-mode group: the stream's partitions are shared among the group's members
   * (range or round robin), each member is pushed its partitions' messages from the committed offset
   * (or `from`), and `member.ack(message)` commits. For consumers without a client-side assignor.
   */
  subscribeLog(streamName: string, group: string, options: LogMemberOptions): LogMember {
    this.#assertOpen()
    this.stream(streamName)
    return this.#logGroups.join(streamName, group, options)
  }

  /** Per-partition lag of a group: high watermark minus committed offset (or log start when none). */
  lag(
    group: string,
    streamName: string,
  ): Array<{ partition: number; committed: number | null; highWatermark: number; lag: number }> {
    return groupLag(this.stream(streamName), (p) => this.committedOffset(group, streamName, p)?.offset)
  }

  /** Waits until a partition has data at or beyond `offset`, or the timeout passes. */
  waitForData(
    streamName: string,
    partition: number,
    offset: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    return waitForLogData(this.stream(streamName).partitionLog(partition), offset, timeoutMs, signal)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#maintenance.stop()
    this.groups?.close()
    await this.#catalogLock
    await this.#appender.producers.saveAll(this.now()).catch(() => {})
    for (const queue of this.#queues.values()) {
      await queue.saveDeliveredMax().catch(() => {})
      queue.close('broker closed')
    }
    await this.#storage.close()
  }
}

export type { PublishResult } from './routing/publisher.js'
export type { MessagePosition } from './stream/produce.js'
export type { RawAppendResult } from './stream/raw-append.js'
