// Every way a message gets into a stream, behind one object: single appends coalesced per tick, the general
// produce path (dedup windows, schema validation), Kafka's raw batches with idempotent-producer checks, and
// the duplicate-suppression state those keep (dedup windows, producer sequences), which the tick expires.
import type { MetadataStore } from '../../storage/api.js'
import { DedupManager } from '../dedup/manager.js'
import { ProducerManager } from '../idempotence/manager.js'
import type { PublishMessage } from '../message.js'
import { TransactionIndexes } from '../producer-transactions/indexes.js'
import type { SchemaStore } from '../schema/index.js'
import { AppendCoalescer } from './coalescer.js'
import { type MessagePosition, produceMany } from './produce.js'
import { appendRawBatch, type RawAppendResult } from './raw-append.js'
import type { Stream } from './stream.js'

export class Appender {
  /** Single-message publishes of one tick share one batch per partition log. */
  readonly #coalescer = new AppendCoalescer()
  readonly dedup: DedupManager
  readonly producers: ProducerManager
  /** Open and aborted producer transactions per partition (the last stable offset). */
  readonly transactionIndexes: TransactionIndexes
  /** The schema store opens after the appender exists. */
  readonly #schemas: () => SchemaStore

  constructor(metadata: MetadataStore, schemas: () => SchemaStore) {
    // A catalog other brokers write (one that can be watched) means logs other brokers append to.
    this.dedup = new DedupManager(metadata.watch !== undefined)
    this.producers = new ProducerManager(metadata)
    this.transactionIndexes = new TransactionIndexes(metadata)
    this.#schemas = schemas
  }

  /**
   * Appends messages, grouped per partition (explicit, by key, priority or round robin), one storage append
   * per group; a schema-bound stream validates every value first and rejects the whole call on a violation.
   * Resolves, when durable per the stream's policy, with each message's position (duplicates by dedup id
   * get the original position).
   */
  async produce(
    stream: Stream,
    messages: PublishMessage[],
    partition: number | undefined,
    now: number,
  ): Promise<MessagePosition[]> {
    if (messages.length === 1 && stream.config.dedupWindowMs === 0 && stream.config.schemaSubject === null) {
      return [await this.#appendOne(stream, messages[0]!, now, partition)]
    }
    const window = stream.config.dedupWindowMs > 0 ? await this.dedup.windowFor(stream, now) : null
    const subject = stream.config.schemaSubject
    const validate = subject === null ? null : this.#schemas().validator(subject)
    return produceMany(stream, messages, partition, now, window, validate)
  }

  /** One message from an exchange publish: coalesced unless the stream dedups or validates. */
  publish(stream: Stream, message: PublishMessage, now: number): Promise<unknown> {
    return stream.config.dedupWindowMs === 0 && stream.config.schemaSubject === null
      ? this.#coalescer.publish(stream, message, now)
      : this.produce(stream, [message], undefined, now)
  }

  /**
   * The common single-message produce. Single-message appends to one partition issued in the same tick
   * (one socket read burst of AMQP/MQTT publishes, many concurrent SQS sends) are coalesced into one
   * RecordBatch and one storage append: per-message encode, promise and syscall costs become per-batch.
   */
  #appendOne(stream: Stream, message: PublishMessage, now: number, explicit: number | undefined) {
    const record = stream.toRecord(message, now)
    const partition = explicit ?? stream.choosePartition(message, record.key)
    return this.#coalescer.append(stream, partition, stream.partitionLog(partition), record)
  }

  /** A client-built RecordBatch (Kafka produce), stored as received once validated and sequence-checked. */
  appendRaw(stream: Stream, partition: number, batch: Buffer): Promise<RawAppendResult> {
    return appendRawBatch(stream, partition, batch, this.producers, this.#schemas(), this.transactionIndexes)
  }

  /** Drops what the appender keeps about a deleted stream. */
  async forget(stream: Stream): Promise<void> {
    this.dedup.forget(stream)
    await this.producers.drop(stream.id, stream.partitions.length)
    await this.transactionIndexes.drop(stream)
  }
}
