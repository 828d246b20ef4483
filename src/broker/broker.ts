// The broker: the protocol-free model every adapter (and the embedded API) calls. A facade: it wires the
// concept folders together, serializes catalog changes and orders the close; storage only through api.ts.
import type { ClusterView, StorageEngine } from '../storage/api.js'
import { WharfError } from '../util/errors.js'
import { AdapterCatalogs, type AdapterKind, type Catalog } from './catalog.js'
import { CatalogLock } from './catalog-lock.js'
import { syncCatalog } from './catalog-sync/catalog-sync.js'
import { ClusterLinkHooks } from './cluster-link.js'
import type { BrokerOptions, QueueConfig, StreamConfig } from './config.js'
import { GroupCoordinator } from './groups/index.js'
import { Jms } from './jms/jms.js'
import type { LogMember, LogMemberOptions } from './log/assigned-group.js'
import type { LogCursor, LogCursorOptions } from './log/cursor.js'
import { LogMode, type LogRead } from './log/mode.js'
import { Maintenance } from './maintenance.js'
import type { PublishMessage, StoredMessage } from './message.js'
import { ProducerTransactions } from './producer-transactions/coordinator.js'
import { type BrowseOptions, type BrowsePage, browse } from './queue/browse.js'
import { type AlterableQueueKey, QueueCatalog, sendToQueueStream } from './queue/catalog.js'
import { Deliveries } from './queue/deliveries.js'
import type { Queue, QueueConsumer } from './queue/queue.js'
import type { ConsumeOptions, Delivery, GetOptions, QueueStats } from './queue/types.js'
import { Quotas } from './quotas/quotas.js'
import { BrokerReports } from './reports.js'
import { deadLetter } from './routing/dead-letters.js'
import { Publisher, type PublishOptions, type PublishResult } from './routing/publisher.js'
import { type BindingDef, type ExchangeDeclare, type ExchangeDef, Router } from './routing/router.js'
import { Scheduler } from './schedule/scheduler.js'
import { SchemaStore } from './schema/index.js'
import { Security } from './security/security.js'
import { Appender } from './stream/appender.js'
import { StreamCatalog } from './stream/catalog.js'
import type { MessagePosition } from './stream/produce.js'
import type { RawAppendResult } from './stream/raw-append.js'
import type { Stream } from './stream/stream.js'
import { TopicSubscriptions } from './topics/topics.js'
import { Transactions } from './transactions/transactions.js'

export class Broker {
  readonly #storage: StorageEngine
  /** The members and log owners when several brokers share the storage; undefined on a single broker. */
  readonly cluster: ClusterView | undefined
  readonly #catalogs: AdapterCatalogs
  /** Committed offsets, log groups and cursors of streams (log/mode.ts). */
  readonly log: LogMode
  readonly #streams: StreamCatalog
  readonly #queues: QueueCatalog
  readonly #appender: Appender
  readonly #maintenance: Maintenance
  /** Settles deliveries by reference; clusterLink: queues another cluster member serves, publish relays. */
  readonly deliveries = new Deliveries((name) => this.#queues.get(name))
  readonly clusterLink = new ClusterLinkHooks()
  /** Users, ACLs and the anonymous policy: the one authenticator and authorizer of every listener. */
  readonly security: Security
  schemas!: SchemaStore
  scheduler!: Scheduler
  router!: Router
  /** Consumer-group coordinator (Kafka classic group protocol semantics); offsets live in the cursor store. */
  groups!: GroupCoordinator
  /** SNS-style topics and their filtered subscriptions. */
  topics!: TopicSubscriptions
  /** JMS destinations (jms/): client ids, durable and shared subscriptions, temporaries, virtual topics. */
  jms!: Jms
  /** Client quotas (quotas/): byte rates and request time per user and client id, durable. */
  quotas!: Quotas
  /** Crash-atomic transactions of sends and acks (transactions/): one fsynced commit record each. */
  transactions!: Transactions
  /** Kafka-style producer transactions: transactional ids, markers, the last stable offset (producer-transactions/). */
  producerTransactions!: ProducerTransactions
  /** Publishes through exchanges; holds the in-memory sinks bindings can target (e.g. MQTT QoS 0 sessions). */
  readonly #publisher = new Publisher({
    route: (exchange, key, headers, out, message) => this.router.route(exchange, key, headers, out, message),
    queue: (name) => this.#queues.get(name),
    stream: (name) => this.stream(name),
    append: (stream, message, now) => this.#appender.publish(stream, message, now),
    deadLetter: (queue, message, reason) => deadLetter(this, queue, message, reason),
    now: () => this.now(),
    relay: (exchange, key, message, options) => this.clusterLink.relay?.(exchange, key, message, options),
  })
  readonly #options: BrokerOptions
  readonly now: () => number
  readonly #report = new BrokerReports(this, () => this.#options)
  #closed = false
  readonly #lock: CatalogLock

  protected constructor(options: BrokerOptions) {
    this.#storage = options.storage
    this.cluster = options.storage.cluster
    this.#lock = new CatalogLock(options.storage.metadata, this.clusterLink)
    this.#catalogs = new AdapterCatalogs(options.storage.metadata)
    this.security = new Security(options.storage.metadata, undefined, () => this.clusterLink.settle())
    this.#appender = new Appender(options.storage.metadata, () => this.schemas)
    this.#options = options
    this.now = options.now ?? Date.now
    const defaultDurability = options.defaultDurability ?? 'always'
    this.#streams = new StreamCatalog({
      storage: this.#storage,
      defaultDurability,
      now: () => this.now(),
      forget: async (stream) => {
        await this.router.unbindDestination({ kind: 'stream', name: stream.name })
        await this.#appender.forget(stream)
      },
      removeQueue: (queue) => this.#queues.remove(queue, 'stream deleted'),
    })
    this.#queues = new QueueCatalog({
      storage: this.#storage,
      streams: this.#streams,
      defaultDurability,
      now: this.now,
      warn: this.#report.warn,
      unbindQueue: (name) => this.router.unbindDestination({ kind: 'queue', name }),
      deadLetter: (queue, message, reason) => deadLetter(this, queue, message, reason),
      deleteQueue: (name) => this.deleteQueue(name),
      remote: this.clusterLink,
    })
    this.log = new LogMode(this.#storage.cursors, this.#streams, this.#report.warn)
    this.#maintenance = new Maintenance({
      now: () => this.now(),
      warn: this.#report.warn,
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
  async #load(): Promise<void> {
    const meta = this.#storage.metadata
    await this.security.bootstrap(this.#options.security?.users ?? [], this.#options.security?.acls ?? [])
    this.schemas = await SchemaStore.open(meta, this.#options.schemaLimits)
    await this.#streams.load()
    this.transactions = await Transactions.open(this, this.#options, this.#publisher)
    this.producerTransactions = await ProducerTransactions.open(
      {
        metadata: meta,
        nextProducerId: () => this.initProducerId(),
        indexes: this.#appender.transactionIndexes,
        stream: (name) => this.#streams.get(name),
        streams: () => this.#streams.values(),
        producerState: (stream, p) => this.#appender.producers.stateFor(stream.id, p, stream.partitionLog(p)),
        commitOffset: (group, stream, p, offset, metadata) => this.commitOffset(group, stream, p, offset, metadata),
        ...{ now: this.now, warn: this.#report.warn, cluster: this.cluster },
        ask: (node, op, body) => this.clusterLink.ask(node, op, body),
      },
      this.#options.producerTransactions,
    )
    const routing = { topicWildcardsMax: this.#options.topicWildcardsMax, warn: this.#report.warn }
    this.router = await Router.open(meta, { ...routing, queueExists: (name) => this.#queues.has(name) })
    this.topics = await TopicSubscriptions.open(meta)
    this.quotas = new Quotas(meta, this.#options.quotaWindow)
    this.groups = new GroupCoordinator({
      offsets: this.log.store,
      now: this.now,
      initialRebalanceDelayMs: this.#options.initialRebalanceDelayMs,
      info: this.#report.info,
    })
    await this.#queues.load()
    this.jms = new Jms(this, this.#options.jms)
    // Bindings whose queue or stream did not survive (transient, deleted while down) go too.
    await this.router.unbindMissing((d) => (d.kind === 'queue' ? this.#queues.has(d.name) : this.#streams.has(d.name)))
    this.#maintenance.start(this.#options.tickMs ?? 100)
    this.scheduler = Scheduler.start(meta, this, this.#report.warn, this.#options)
    syncCatalog(this, meta, this.#streams, this.#queues, this.#appender, this.#lock, this.#report)
  }

  /** Adapter state of one kind (catalog.ts): durable, typed by the caller, never read by the broker. */
  catalog<T>(kind: AdapterKind): Catalog<T> {
    return this.#catalogs.of<T>(kind)
  }

  /** Every catalog change other members committed before the call is applied here (link op catch-up). */
  catalogCaughtUp = (): Promise<void> => this.#lock.caughtUp()

  /** A catalog change on an open broker, in turn with the others. */
  #change<T>(work: () => Promise<T>): Promise<T> {
    return this.#lock.change(async () => {
      this.#assertOpen()
      return work()
    })
  }

  #assertOpen(): void {
    if (this.#closed) throw new WharfError('BROKER_CLOSED')
  }

  /** Creates a stream; with `ifNotExists` an existing one is returned when its config is compatible. */
  createStream(
    name: string,
    config: Partial<StreamConfig> = {},
    options: { ifNotExists?: boolean } = {},
  ): Promise<Stream> {
    return this.#change(() => this.#report.change('stream', name, () => this.#streams.create(name, config, options)))
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
    return this.#lock.change(() => this.#streams.alter(name, changes))
  }

  /** Deletes a stream; one that queues read is refused unless `force`, which deletes those queues too. */
  deleteStream(name: string, options: { force?: boolean } = {}): Promise<void> {
    const work = () => this.#report.change('stream', name, () => this.#streams.delete(name, !!options.force))
    return this.#lock.change(work)
  }

  /** Appends messages to a stream (Appender.produce); resolves with their positions once durable. */
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

  /** A Kafka RecordBatch stored as received (Appender.appendRaw); a retried batch gets its original offsets. */
  async appendRawBatch(streamName: string, partition: number, batch: Buffer): Promise<RawAppendResult> {
    this.#assertOpen()
    return this.#appender.appendRaw(this.stream(streamName), partition, batch)
  }

  /** A fresh producer id (Kafka InitProducerId for non-transactional producers). */
  initProducerId(): Promise<{ producerId: number; producerEpoch: number }> {
    return this.#appender.producers.allocator.next()
  }

  /** Decoded messages of a partition from an offset (REST peek/browse, AMQP stream consumers). */
  async readMessages(streamName: string, partition: number, offset: number, maxBytes = 1024 * 1024): Promise<LogRead> {
    return this.log.read(streamName, partition, offset, maxBytes)
  }

  /** Declares a queue over its own stream or `config.stream`; an equal redeclare returns the existing one. */
  createQueue(
    name: string,
    config: Partial<QueueConfig> = {},
    options: { ifNotExists?: boolean } = {},
  ): Promise<Queue> {
    return this.#change(() => this.#report.change('queue', name, () => this.#queues.create(name, config, options)))
  }

  /** Changes settings of a queue (QueueCatalog.alter); they apply to deliveries from now on. */
  alterQueue(name: string, changes: Partial<Pick<QueueConfig, AlterableQueueKey>>): Promise<Queue> {
    return this.#change(() => this.#queues.alter(name, changes))
  }

  getQueue(name: string): Queue | undefined {
    return this.#queues.get(name)
  }

  queue(name: string): Queue {
    return this.#queues.queue(name)
  }

  listQueues(): Queue[] {
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
    await this.transactions.releaseOwner(owner)
    this.jms?.releaseOwner(owner)
    await this.#queues.releaseOwner(owner)
  }

  /** A page of a queue's messages, read without leasing them (queue/browse.ts). */
  browse = async (queue: string, options?: BrowseOptions): Promise<BrowsePage> => browse(this.queue(queue), options)

  deleteQueue(name: string, options: { ifUnused?: boolean; ifEmpty?: boolean } = {}): Promise<number> {
    return this.#lock.change(() => this.#report.change('queue', name, () => this.#queues.delete(name, options)))
  }

  /** The numbers as this broker has them (Queue.currentStats asks the serving broker of a cluster). */
  queueStats = (name: string): QueueStats => this.queue(name).queueStats()

  declareExchange(def: ExchangeDeclare, options: { passive?: boolean } = {}): Promise<ExchangeDef> {
    this.#assertOpen()
    const declared = this.#report.change('exchange', def.name, () => this.router.declareExchange(def, options))
    return options.passive ? declared : this.clusterLink.settled(declared)
  }

  deleteExchange(name: string, options: { ifUnused?: boolean } = {}): Promise<void> {
    const deleted = this.#report.change('exchange', name, () => this.router.deleteExchange(name, options))
    return this.clusterLink.settled(deleted)
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
    this.#report.binding(binding, 'created', await this.clusterLink.settled(this.router.bind(binding)))
  }

  async unbind(binding: BindingDef): Promise<boolean> {
    const removed = await this.clusterLink.settled(this.router.unbind(binding))
    return this.#report.binding(binding, 'deleted', removed)
  }

  /** Registers an in-memory subscriber that bindings can target as { kind: 'sink', id }. */
  registerSink(id: string, deliver: (message: StoredMessage, routingKey: string) => void): void {
    this.#publisher.registerSink(id, deliver)
  }

  async removeSink(id: string): Promise<void> {
    this.#publisher.removeSink(id)
    await this.router.unbindDestination({ kind: 'sink', id })
  }

  /** Publishes through an exchange (Publisher.publish; routed 0 = unroutable); extraRoutingKeys: CC/BCC. */
  publish(
    exchange: string,
    routingKey: string,
    message: PublishMessage,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    this.#assertOpen()
    if (message.delayMs !== undefined) this.scheduler.checkDelay(message.delayMs)
    return this.#publisher.publish(exchange, routingKey, message, options)
  }

  /** Committed offset of a consumer group on a stream partition. */
  committedOffset(group: string, stream: string, partition: number): { offset: number; metadata: string } | undefined {
    return this.log.get(group, stream, partition)
  }

  commitOffset(group: string, stream: string, partition: number, offset: number, metadata = ''): Promise<void> {
    return this.log.commit(group, stream, partition, offset, metadata)
  }

  /** Joins a broker-assigned log group (members share partitions, pushed from the committed offset); ack commits. */
  subscribeLog(streamName: string, group: string, options: LogMemberOptions): LogMember {
    this.#assertOpen()
    return this.log.join(streamName, group, options)
  }

  /** A credit-bounded reader of one partition from options.offset (log/cursor.ts; AMQP stream consumers). */
  logCursor(streamName: string, partition: number, options: LogCursorOptions): LogCursor {
    this.#assertOpen()
    return this.log.cursor(streamName, partition, options)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#maintenance.stop()
    await this.scheduler?.close()
    this.groups?.close()
    await this.#lock.idle()
    const saves = [this.producerTransactions?.close(), this.#appender.producers.saveAll(this.now())]
    await Promise.all([this.transactions?.close(), ...saves.map((save) => save?.catch(() => {}))])
    for (const queue of this.#queues.values()) {
      await queue.saveDeliveryState().catch(() => {})
      queue.close('broker closed')
    }
    await this.#storage.close()
  }
}
