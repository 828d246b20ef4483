// The broker: the protocol-free model every adapter (and the embedded API) calls. It owns streams, queue
// subscriptions, committed offsets and the catalog; storage is reached only through src/storage/api.ts.
import { type BatchHeader, decodeBatch, validateBatch } from '../record/index.js'
import type { CursorStore, PartitionLog, StorageEngine } from '../storage/api.js'
import { WharfError } from '../util/errors.js'
import { AppendCoalescer } from './append-coalescer.js'
import {
  defaultQueueConfig,
  priorityLevels,
  type QueueConfig,
  type StreamConfig,
  toLogConfig,
  validateQueueConfig,
  validateStreamConfig,
} from './config.js'
import { deadLetterMessage } from './dead-letter.js'
import { DedupManager } from './dedup-manager.js'
import { GroupCoordinator } from './groups/index.js'
import { LogGroup, type LogMember, type LogMemberOptions } from './log-group.js'
import { groupKey, offsetStoreOver, onLogData, waitForLogData } from './log-mode.js'
import { type MessagePosition, produceMany } from './produce.js'
import { ProducerManager } from './producer-manager.js'
import { assertRoom, Publisher, type PublishResult } from './publisher.js'
import type { QueueConsumer } from './queue.js'
import { QueueSubscription } from './queue.js'
import type { ConsumeOptions, Delivery, GetOptions, QueueStats } from './queue-types.js'
import { type BindingDef, type ExchangeDeclare, type ExchangeDef, Router, TopicSubscriptions } from './router.js'
import { SchemaStore } from './schema/index.js'
import { decodeStored } from './stored.js'
import { Stream } from './stream.js'
import { type DeathReason, headerText, type PublishMessage, Reserved, type StoredMessage } from './types.js'

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

interface StreamRecord {
  id: number
  config: StreamConfig
  createdAt: number
}

interface QueueRecord {
  config: QueueConfig
  createdAt: number
}

type AlterableQueueKey =
  | 'leaseMs'
  | 'maxDeliveries'
  | 'deadLetter'
  | 'messageTtlMs'
  | 'maxLength'
  | 'maxLengthBytes'
  | 'overflow'
  | 'deliveryDelayMs'
  | 'expiresMs'
const alterableQueueKeys: readonly AlterableQueueKey[] = [
  'leaseMs',
  'maxDeliveries',
  'deadLetter',
  'messageTtlMs',
  'maxLength',
  'maxLengthBytes',
  'overflow',
  'deliveryDelayMs',
  'expiresMs',
]

const NAME_BYTES_MAX = 255
export function validateName(kind: string, name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    Buffer.byteLength(name) > NAME_BYTES_MAX ||
    name.includes('\u0000')
  ) {
    throw new WharfError(
      'INVALID_ARGUMENT',
      `${kind} name must be 1-${NAME_BYTES_MAX} bytes without NUL, got ${JSON.stringify(name)}`,
    )
  }
  return name
}

export class Broker {
  readonly storage: StorageEngine
  readonly #streams = new Map<string, Stream>()
  readonly #queues = new Map<string, QueueSubscription>()
  readonly #producers: ProducerManager
  /** Single-message publishes of one tick share one batch per partition log. */
  readonly #coalescer = new AppendCoalescer()
  readonly #dedup = new DedupManager()
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
    appendOne: (stream, message, now) =>
      stream.config.dedupWindowMs === 0 && stream.config.schemaSubject === null
        ? this.#produceOne(stream, message, now, undefined)
        : this.produce(stream.name, [message]).then((p) => p[0]!),
    now: () => this.now(),
  })
  readonly #options: Required<Omit<BrokerOptions, 'warn' | 'storage' | 'initialRebalanceDelayMs'>> &
    Pick<BrokerOptions, 'warn' | 'initialRebalanceDelayMs'>
  #ticker: NodeJS.Timeout | null = null
  #closed = false
  /** Serializes catalog changes (create/delete) so concurrent declares stay consistent. */
  #catalogLock: Promise<unknown> = Promise.resolve()

  protected constructor(options: BrokerOptions) {
    this.storage = options.storage
    this.#producers = new ProducerManager(options.storage.metadata)
    this.#options = {
      defaultDurability: options.defaultDurability ?? 'always',
      tickMs: options.tickMs ?? 100,
      now: options.now ?? Date.now,
      warn: options.warn,
      initialRebalanceDelayMs: options.initialRebalanceDelayMs,
    }
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
    const meta = this.storage.metadata
    this.schemas = await SchemaStore.open(meta)
    for (const [name, record] of meta.list<StreamRecord>('stream')) {
      if (record.config.transient) {
        await this.#destroyStream(name, record)
        continue
      }
      await this.#openStream(name, record)
    }
    this.router = await Router.open(meta, { queueExists: (name) => this.#queues.has(name) })
    this.topics = await TopicSubscriptions.open(meta)
    this.groups = new GroupCoordinator({
      offsets: offsetStoreOver(this.storage.cursors, (topic) => this.#streams.get(topic)?.partitions.length),
      now: this.now,
      initialRebalanceDelayMs: this.#options.initialRebalanceDelayMs,
    })
    for (const [name, record] of meta.list<QueueRecord>('queue')) {
      if (!record.config.durable || record.config.exclusiveOwner !== null) {
        await meta.delete('queue', name)
        continue
      }
      if (!this.#streams.has(record.config.stream)) {
        this.#warn('queue without stream dropped', { queue: name, stream: record.config.stream })
        await meta.delete('queue', name)
        continue
      }
      this.#openQueue(name, record.config)
    }
    // Bindings whose queue or stream did not survive (transient, deleted while down) go too.
    for (const binding of this.router.listBindings()) {
      const d = binding.destination
      const gone =
        (d.kind === 'queue' && !this.#queues.has(d.name)) || (d.kind === 'stream' && !this.#streams.has(d.name))
      if (gone) await this.router.unbindDestination(d)
    }
    this.#ticker = setInterval(() => this.#tick(), this.#options.tickMs)
    this.#ticker.unref()
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

  // ---- streams ----

  async #openStream(name: string, record: StreamRecord): Promise<Stream> {
    const logs = []
    for (let p = 0; p < record.config.partitions; p++) logs.push(await this.#openLog(record.id, p, record.config))
    const stream = new Stream(name, record.id, record.config, logs, record.createdAt)
    this.#streams.set(name, stream)
    return stream
  }

  /** Transient streams (which a restart deletes anyway) live in memory: no files, no fsync. */
  #openLog(streamId: number, partition: number, config: StreamConfig): Promise<PartitionLog> | PartitionLog {
    const name = Stream.logName(streamId, partition)
    return config.transient
      ? this.storage.openMemoryLog(name, toLogConfig(config))
      : this.storage.openLog(name, toLogConfig(config))
  }

  /** Transient streams get negative ids from a process-local counter, so they never touch the catalog. */
  #transientStreamIds = 0

  async #newStream(name: string, config: StreamConfig): Promise<Stream> {
    if (config.transient) {
      return this.#openStream(name, { id: -++this.#transientStreamIds, config, createdAt: this.now() })
    }
    const id = this.#nextStreamId()
    await this.storage.metadata.put('counter', 'stream-id', id + 1)
    const record: StreamRecord = { id, config, createdAt: this.now() }
    const stream = await this.#openStream(name, record)
    await this.storage.metadata.put('stream', name, record)
    return stream
  }

  async #destroyStream(name: string, record: StreamRecord): Promise<void> {
    for (let p = 0; p < record.config.partitions; p++) await this.storage.deleteLog(Stream.logName(record.id, p))
    await this.storage.metadata.delete('stream', name)
  }

  #nextStreamId(): number {
    const next = this.storage.metadata.get<number>('counter', 'stream-id') ?? 1
    return next
  }

  /** Creates a stream; with `ifNotExists` an existing one is returned when its config is compatible. */
  createStream(
    name: string,
    config: Partial<StreamConfig> = {},
    options: { ifNotExists?: boolean } = {},
  ): Promise<Stream> {
    return this.#serial(async () => {
      this.#assertOpen()
      validateName('stream', name)
      const existing = this.#streams.get(name)
      if (existing) {
        if (options.ifNotExists) return existing
        throw new WharfError('STREAM_EXISTS', `stream '${name}' already exists`)
      }
      const full = validateStreamConfig({ durability: this.#options.defaultDurability, ...config })
      return this.#newStream(name, full)
    })
  }

  getStream(name: string): Stream | undefined {
    return this.#streams.get(name)
  }

  stream(name: string): Stream {
    const stream = this.#streams.get(name)
    if (stream === undefined) throw new WharfError('STREAM_NOT_FOUND', `stream '${name}' does not exist`)
    return stream
  }

  listStreams(): Stream[] {
    return [...this.#streams.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** Changes stream settings; partitions can only grow (Kafka CreatePartitions). */
  alterStream(name: string, changes: Partial<StreamConfig>): Promise<Stream> {
    return this.#serial(async () => {
      const stream = this.stream(name)
      const next = validateStreamConfig(changes, stream.config)
      if (next.partitions < stream.config.partitions) {
        throw new WharfError(
          'INVALID_CONFIG',
          `partitions can only grow (${stream.config.partitions} → ${next.partitions})`,
        )
      }
      for (let p = stream.config.partitions; p < next.partitions; p++) {
        stream.partitions.push(await this.#openLog(stream.id, p, next))
      }
      for (const log of stream.partitions) log.updateConfig(toLogConfig(next))
      stream.config = next
      if (!next.transient)
        await this.storage.metadata.put('stream', name, { id: stream.id, config: next, createdAt: stream.createdAt })
      return stream
    })
  }

  deleteStream(name: string, options: { force?: boolean } = {}): Promise<void> {
    return this.#serial(async () => {
      const stream = this.stream(name)
      if (stream.queues.size > 0 && !options.force) {
        const names = [...stream.queues].map((q) => q.name).join(', ')
        throw new WharfError('PRECONDITION_FAILED', `stream '${name}' is read by queues: ${names}`)
      }
      for (const queue of [...stream.queues]) await this.#removeQueue(queue, 'stream deleted')
      await this.#deleteStreamNow(stream)
    })
  }

  async #deleteStreamNow(stream: Stream): Promise<void> {
    this.#streams.delete(stream.name)
    await this.router.unbindDestination({ kind: 'stream', name: stream.name })
    this.#dedup.forget(stream)
    await this.#producers.drop(stream.id, stream.partitions.length)
    await this.#destroyStream(stream.name, { id: stream.id, config: stream.config, createdAt: stream.createdAt })
    const prefix = `g\u0000`
    for (const key of this.storage.cursors.keys(prefix)) {
      if (key.split('\u0000')[2] === stream.name) await this.storage.cursors.delete(key)
    }
  }

  // ---- producing ----

  /**
   * Appends messages to a stream. Messages are grouped per partition (explicit, by key, priority or round
   * robin) and each group is one storage append; a schema-bound stream validates every value first and
   * rejects the whole call on a violation. Resolves, when durable per the stream's policy, with each
   * message's position (duplicates by dedup id get the original position).
   */
  async produce(
    streamName: string,
    messages: PublishMessage[],
    options: { partition?: number } = {},
  ): Promise<MessagePosition[]> {
    this.#assertOpen()
    const stream = this.stream(streamName)
    const now = this.now()
    if (messages.length === 1 && stream.config.dedupWindowMs === 0 && stream.config.schemaSubject === null) {
      return [await this.#produceOne(stream, messages[0]!, now, options.partition)]
    }
    const window = stream.config.dedupWindowMs > 0 ? await this.#dedup.windowFor(stream, now) : null
    const validate = stream.config.schemaSubject === null ? null : this.schemas.validator(stream.config.schemaSubject)
    return produceMany(stream, messages, options.partition, now, window, validate)
  }

  /**
   * The common single-message publish. Single-message publishes to one partition issued in the same tick
   * (one socket read burst of AMQP/MQTT publishes, many concurrent SQS sends) are coalesced into one
   * RecordBatch and one storage append: per-message encode, promise and syscall costs become per-batch.
   */
  #produceOne(
    stream: Stream,
    message: PublishMessage,
    now: number,
    explicit: number | undefined,
  ): Promise<MessagePosition> {
    const record = stream.toRecord(message, now)
    const partition = explicit ?? stream.choosePartition(message, record.key)
    return this.#coalescer.append(stream, partition, stream.partitionLog(partition), record)
  }

  /**
   * Appends one client-built RecordBatch (Kafka produce) as received: validated (structure + CRC), checked
   * against idempotent-producer state, schema-validated when the stream has a subject. A retried batch is
   * answered with its original offsets and not written again.
   */
  async appendRawBatch(streamName: string, partition: number, batch: Buffer): Promise<RawAppendResult> {
    this.#assertOpen()
    const stream = this.stream(streamName)
    const log = stream.partitionLog(partition)
    const limits = { maxBatchBytes: Math.max(stream.config.maxMessageBytes, 64) + 1024 }
    if (batch.length > stream.config.maxMessageBytes + 64) {
      throw new WharfError(
        'MESSAGE_TOO_LARGE',
        `batch of ${batch.length} bytes exceeds ${stream.config.maxMessageBytes} for stream '${streamName}'`,
      )
    }
    const header: BatchHeader = validateBatch(batch, limits)
    if (header.isControl) throw new WharfError('CORRUPT_RECORD', 'clients may not produce control batches')
    if (stream.config.schemaSubject !== null) {
      const validate = this.schemas.validator(stream.config.schemaSubject)
      for (const record of decodeBatch(batch, limits).records) {
        const verdict = validate(record.value)
        if (!verdict.ok)
          throw new WharfError(
            'SCHEMA_VIOLATION',
            `offset delta ${record.offset - header.baseOffset}: ${verdict.reason}`,
          )
      }
    }
    const identity = {
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      recordCount: header.lastOffsetDelta + 1,
    }
    const state = identity.producerId >= 0 ? await this.#producers.stateFor(stream.id, partition, log) : null
    if (state !== null) {
      const check = state.check(identity)
      if (check.kind === 'duplicate') {
        return {
          baseOffset: check.baseOffset,
          lastOffset: check.lastOffset,
          duplicate: true,
          logStartOffset: log.logStartOffset,
        }
      }
      if (check.kind === 'error') throw new WharfError(check.code, check.message)
    }
    // Offsets are assigned synchronously by append(): record the producer state in the same tick.
    const baseOffset = log.nextOffset
    const appended = log.append([batch])
    state?.recordAppend(identity, baseOffset, baseOffset + header.lastOffsetDelta, header.maxTimestamp)
    try {
      const result = await appended
      stream.stats.messagesIn += identity.recordCount
      return {
        baseOffset: result.baseOffset,
        lastOffset: result.lastOffset,
        duplicate: false,
        logStartOffset: log.logStartOffset,
      }
    } catch (error) {
      if (state !== null) this.#producers.invalidate(stream.id, partition)
      throw error
    }
  }

  /** A fresh producer id (Kafka InitProducerId for non-transactional producers). */
  initProducerId(): Promise<{ producerId: number; producerEpoch: number }> {
    return this.#producers.allocator.next()
  }

  /** Decoded messages of a partition from an offset (REST peek/browse, AMQP stream consumers). */
  async readMessages(
    streamName: string,
    partition: number,
    offset: number,
    maxBytes = 1024 * 1024,
  ): Promise<{ messages: StoredMessage[]; nextOffset: number }> {
    const log = this.stream(streamName).partitionLog(partition)
    const result = await log.read(Math.max(offset, log.logStartOffset), maxBytes)
    const messages = decodeStored(streamName, partition, result.chunks, offset)
    return { messages, nextOffset: result.nextOffset }
  }

  // ---- queues ----

  #openQueue(name: string, stored: QueueConfig): QueueSubscription {
    // Catalog records written before a setting existed get its default (e.g. maxLengthBytes).
    const config: QueueConfig = { ...defaultQueueConfig, ...stored }
    const stream = this.stream(config.stream)
    const queue = new QueueSubscription(
      name,
      config,
      stream.partitions,
      this.#queueCursors(config),
      {
        now: this.now,
        warn: (message, details) => this.#warn(message, details),
        deadLetter: (q, message, reason) => this.#deadLetter(q, message, reason),
        deleteQueue: (q, why) => {
          void this.deleteQueue(q.name).catch((error) =>
            this.#warn('queue delete failed', { queue: q.name, why, error: String(error) }),
          )
        },
      },
      stream.id,
    )
    if (config.maxPriority > 0) stream.maxPriority = config.maxPriority
    stream.queues.add(queue)
    this.#queues.set(name, queue)
    return queue
  }

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
      validateName('queue', name)
      const full = validateQueueConfig(name, config)
      const existing = this.#queues.get(name)
      if (existing) {
        if (options.ifNotExists) return existing
        throw new WharfError('SUBSCRIPTION_EXISTS', `queue '${name}' already exists`)
      }
      if (full.stream === name && !this.#streams.has(name)) {
        const streamConfig = validateStreamConfig({
          partitions: priorityLevels(full.maxPriority),
          workQueue: true,
          retentionMs: -1,
          durability: full.durable ? this.#options.defaultDurability : 'never',
          transient: !full.durable || full.exclusiveOwner !== null,
        })
        await this.#newStream(name, streamConfig)
      } else if (!this.#streams.has(full.stream)) {
        throw new WharfError('STREAM_NOT_FOUND', `stream '${full.stream}' does not exist`)
      }
      const queue = this.#openQueue(name, full)
      if (full.durable && full.exclusiveOwner === null)
        await this.storage.metadata.put('queue', name, { config: full, createdAt: this.now() })
      return queue
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
      const queue = this.queue(name)
      for (const key of Object.keys(changes)) {
        if (!alterableQueueKeys.includes(key as AlterableQueueKey))
          throw new WharfError('INVALID_CONFIG', `queue setting '${key}' cannot be changed`)
      }
      const next = validateQueueConfig(name, { ...queue.config, ...changes })
      if (next.deadLetter !== null && 'queue' in next.deadLetter && !this.#queues.has(next.deadLetter.queue)) {
        throw new WharfError('SUBSCRIPTION_NOT_FOUND', `dead-letter queue '${next.deadLetter.queue}' does not exist`)
      }
      if (next.durable && next.exclusiveOwner === null) {
        const createdAt = this.storage.metadata.get<QueueRecord>('queue', name)?.createdAt ?? this.now()
        await this.storage.metadata.put('queue', name, { config: next, createdAt })
      }
      queue.config = next
      return queue
    })
  }

  getQueue(name: string): QueueSubscription | undefined {
    return this.#queues.get(name)
  }

  queue(name: string): QueueSubscription {
    const queue = this.#queues.get(name)
    if (queue === undefined) throw new WharfError('SUBSCRIPTION_NOT_FOUND', `queue '${name}' does not exist`)
    return queue
  }

  listQueues(): QueueSubscription[] {
    return [...this.#queues.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** Publishes straight to a queue's stream, applying the queue's delay default and overflow policy. */
  async sendToQueue(name: string, messages: PublishMessage[]): Promise<MessagePosition[]> {
    const queue = this.queue(name)
    const { maxLength, maxLengthBytes, overflow, deliveryDelayMs } = queue.config
    if (overflow !== 'drop-head' && (maxLength !== null || maxLengthBytes !== null)) {
      const counting = queue.bytesCounted()
      if (counting !== null) await counting
      let bytes = 0
      for (const m of messages)
        bytes += typeof m.value === 'string' ? Buffer.byteLength(m.value) : (m.value?.length ?? 0)
      assertRoom(queue, messages.length, bytes)
    }
    const withDelay =
      deliveryDelayMs > 0
        ? messages.map((m) => (m.delayMs === undefined ? { ...m, delayMs: deliveryDelayMs } : m))
        : messages
    const result = await this.produce(queue.streamName, withDelay)
    if (overflow === 'drop-head' && (maxLength !== null || maxLengthBytes !== null)) await queue.enforceMaxLength()
    return result
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
    return this.#serial(async () => {
      const queue = this.#queues.get(name)
      if (queue === undefined) return 0
      if (options.ifUnused && queue.consumerCount > 0) {
        throw new WharfError('PRECONDITION_FAILED', `queue '${name}' in vhost '/' in use`)
      }
      const depth = queue.depth()
      if (options.ifEmpty && depth > 0)
        throw new WharfError('PRECONDITION_FAILED', `queue '${name}' in vhost '/' not empty`)
      await this.#removeQueue(queue, 'queue deleted')
      return depth
    })
  }

  /** A queue that cannot outlive the process keeps its acks in memory: nothing to fsync per ack. */
  #queueCursors(config: QueueConfig): CursorStore {
    return config.durable && config.exclusiveOwner === null ? this.storage.cursors : this.storage.memoryCursors
  }

  async #removeQueue(queue: QueueSubscription, reason: string): Promise<void> {
    queue.close(reason)
    this.#queues.delete(queue.name)
    const stream = this.#streams.get(queue.streamName)
    stream?.queues.delete(queue)
    const cursors = this.#queueCursors(queue.config)
    for (const p of queue.partitions) {
      await cursors.delete(p.ackKey)
      await cursors.delete(`${p.ackKey}\u0000d`)
    }
    await this.storage.metadata.delete('queue', queue.name)
    await this.router.unbindDestination({ kind: 'queue', name: queue.name })
    // A queue's own stream goes with it.
    if (stream && stream.name === queue.name && stream.queues.size === 0) await this.#deleteStreamNow(stream)
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
      throw new WharfError('SUBSCRIPTION_NOT_FOUND', `NOT_FOUND - no queue '${d.name}' in vhost '/'`)
    if (d.kind === 'stream' && !this.#streams.has(d.name))
      throw new WharfError('STREAM_NOT_FOUND', `NOT_FOUND - no stream '${d.name}'`)
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
   * publish before anything is appended.
   */
  publish(
    exchange: string,
    routingKey: string,
    message: PublishMessage,
    options: { routingHeaders?: Record<string, unknown> } = {},
  ): Promise<PublishResult> {
    this.#assertOpen()
    return this.#publisher.publish(exchange, routingKey, message, options.routingHeaders)
  }

  // ---- log mode ----

  /** Committed offset of a consumer group on a stream partition. */
  committedOffset(group: string, stream: string, partition: number): { offset: number; metadata: string } | undefined {
    return this.storage.cursors.getOffset(groupKey(group, stream, partition))
  }

  async commitOffset(group: string, stream: string, partition: number, offset: number, metadata = ''): Promise<void> {
    this.stream(stream).partitionLog(partition)
    await this.storage.cursors.commitOffset(groupKey(group, stream, partition), offset, metadata)
  }

  readonly #logGroups = new Map<string, LogGroup>()

  /**
   * Joins a broker-assigned log-mode group: the stream's partitions are shared among the group's members
   * (range or round robin), each member is pushed its partitions' messages from the committed offset
   * (or `from`), and `member.ack(message)` commits. For consumers without a client-side assignor.
   */
  subscribeLog(streamName: string, group: string, options: LogMemberOptions): LogMember {
    this.#assertOpen()
    this.stream(streamName)
    const key = `${group}\u0000${streamName}`
    let logGroup = this.#logGroups.get(key)
    if (logGroup === undefined) {
      logGroup = new LogGroup(group, streamName, {
        partitionCount: (s) => this.stream(s).partitions.length,
        committed: (g, s, p) => this.committedOffset(g, s, p)?.offset,
        commit: (g, s, p, offset) => this.commitOffset(g, s, p, offset),
        startOffset: (s, p, from) => {
          const log = this.stream(s).partitionLog(p)
          return from === 'earliest' ? log.logStartOffset : log.highWatermark
        },
        read: (s, p, offset, maxBytes) => this.readMessages(s, p, offset, maxBytes),
        onData: (s, p, offset, wake) => onLogData(this.stream(s).partitionLog(p), offset, wake),
        warn: (message, details) => this.#warn(message, details),
      })
      this.#logGroups.set(key, logGroup)
    }
    return logGroup.join(options)
  }

  /** Per-partition lag of a group: high watermark minus committed offset (or log start when none). */
  lag(
    group: string,
    streamName: string,
  ): Array<{ partition: number; committed: number | null; highWatermark: number; lag: number }> {
    const stream = this.stream(streamName)
    return stream.partitions.map((log, partition) => {
      const committed = this.committedOffset(group, streamName, partition)?.offset ?? null
      return {
        partition,
        committed,
        highWatermark: log.highWatermark,
        lag: log.highWatermark - (committed ?? log.logStartOffset),
      }
    })
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

  // ---- maintenance ----

  #tick(): void {
    const now = this.now()
    for (const queue of this.#queues.values()) queue.tick(now)
    this.#workQueueRetention()
    if (now - this.#lastSnapshot > 30_000) {
      this.#lastSnapshot = now
      void this.#producers
        .saveAll(now)
        .catch((error) => this.#warn('producer snapshot failed', { error: String(error) }))
      void this.#dedup.expireAll(now)
    }
  }

  #lastSnapshot = 0

  #retentionRunning = false
  #workQueueRetention(): void {
    if (this.#retentionRunning) return
    this.#retentionRunning = true
    const work: Array<Promise<unknown>> = []
    for (const stream of this.#streams.values()) {
      if (!stream.config.workQueue || stream.queues.size === 0) continue
      stream.partitions.forEach((log, partition) => {
        let floor = Number.POSITIVE_INFINITY
        for (const queue of stream.queues) floor = Math.min(floor, queue.ackFloor(partition))
        const target = Math.min(floor, log.highWatermark)
        // Only worth a call once a whole segment might be freed.
        if (target - log.logStartOffset > 0 && log.segmentCount > 1)
          work.push(log.deleteRecordsBefore(target).catch(() => {}))
      })
    }
    Promise.all(work).finally(() => {
      this.#retentionRunning = false
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#ticker) clearInterval(this.#ticker)
    this.groups?.close()
    await this.#catalogLock
    await this.#producers.saveAll(this.now()).catch(() => {})
    for (const queue of this.#queues.values()) {
      await queue.saveDeliveredMax().catch(() => {})
      queue.close('broker closed')
    }
    await this.storage.close()
  }
}

export type { MessagePosition } from './produce.js'
export type { PublishResult } from './publisher.js'

export interface RawAppendResult {
  baseOffset: number
  lastOffset: number
  duplicate: boolean
  logStartOffset: number
}
