// A stream: a named, partitioned log. Turns PublishMessages into RecordBatches (one batch per partition
// per produce call, so one storage append) and picks partitions the way Kafka clients do.
import { randomUUID } from 'node:crypto'
import { encodeBatch, type RecordInput } from '../../record/index.js'
import type { PartitionLog } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import { priorityPartition, type StreamConfig } from '../config.js'
import { type PublishMessage, type RecordHeader, Reserved, type StoredMessage } from '../message.js'
import type { Queue } from '../queue/queue.js'
import { partitionForKey } from './partitioner.js'

export interface PartitionAppend {
  partition: number
  baseOffset: number
  lastOffset: number
  count: number
}

export class Stream {
  readonly name: string
  readonly id: number
  /** A UUID that names this stream for its whole life (Kafka's topic id): a stream recreated under the same
   *  name gets another, so a client holding the old one learns the stream it knew is gone. */
  readonly uuid: string
  config: StreamConfig
  readonly partitions: PartitionLog[]
  /** Queue subscriptions reading this stream. */
  readonly queues = new Set<Queue>()
  /** Set when a priority queue owns the stream: partitions are priority levels. */
  maxPriority = 0
  readonly createdAt: number
  #roundRobin = 0
  /** Per-partition tail of pending appends, so a produce never waits on another partition. */
  stats = { messagesIn: 0, bytesIn: 0 }

  constructor(
    name: string,
    id: number,
    config: StreamConfig,
    partitions: PartitionLog[],
    createdAt: number,
    uuid: string = newStreamUuid(),
  ) {
    this.name = name
    this.id = id
    this.uuid = uuid
    this.config = config
    this.partitions = partitions
    this.createdAt = createdAt
  }

  static logName(id: number, partition: number): string {
    return `s${id}-${partition}`
  }

  partitionLog(partition: number): PartitionLog {
    const log = this.partitions[partition]
    if (log === undefined || !Number.isInteger(partition)) {
      throw new WharfError('PARTITION_NOT_FOUND', `stream '${this.name}' has no partition ${partition}`)
    }
    return log
  }

  /** Kafka's rule for keyed records (murmur2), priority levels for priority queues, else round robin. */
  choosePartition(message: PublishMessage, key: Buffer | null): number {
    const count = this.partitions.length
    if (count === 1) return 0
    if (this.maxPriority > 0) return priorityPartition(message.priority, this.maxPriority)
    if (key !== null) return partitionForKey(key, count)
    this.#roundRobin = (this.#roundRobin + 1) % count
    return this.#roundRobin
  }

  /** Converts a message into a record; reserved headers carry the queue semantics. */
  toRecord(message: PublishMessage, now: number): StreamRecord {
    return this.checkSize(recordOf(message, now))
  }

  /** Throws MESSAGE_TOO_LARGE for a record over this stream's maxMessageBytes. */
  checkSize(record: StreamRecord): StreamRecord {
    let size = (record.key?.length ?? 0) + (record.value?.length ?? 0)
    for (const h of record.headers) size += h.key.length + (h.value?.length ?? 0)
    if (size > this.config.maxMessageBytes) {
      throw new WharfError(
        'MESSAGE_TOO_LARGE',
        `message of ${size} bytes exceeds ${this.config.maxMessageBytes} for stream '${this.name}'`,
      )
    }
    return record
  }

  /** Encodes one partition's records into a batch. */
  static encode(records: RecordInput[]): Buffer {
    return encodeBatch(records)
  }

  /** StoredMessages for records appended at baseOffset (for the tail fast path). */
  stored(
    partition: number,
    baseOffset: number,
    records: Array<{ key: Buffer | null; value: Buffer | null; headers: RecordHeader[]; timestamp?: number }>,
  ): StoredMessage[] {
    return records.map((r, i) => ({
      stream: this.name,
      partition,
      offset: baseOffset + i,
      timestamp: r.timestamp ?? Date.now(),
      key: r.key,
      value: r.value,
      headers: r.headers,
    }))
  }
}

export type StreamRecord = RecordInput & { key: Buffer | null; value: Buffer | null; headers: RecordHeader[] }

/** Frozen: a record's headers are never mutated (a push here would throw, not leak into other records). */
const NO_HEADERS = Object.freeze([]) as unknown as RecordHeader[]

/**
 * A message as a record, the same for every stream (fan-out shares one). Records are never mutated after
 * this, so the message's own headers array is shared when no reserved header is added.
 */
export function recordOf(message: PublishMessage, now: number): StreamRecord {
  const key = toBuffer(message.key)
  const value = toBuffer(message.value)
  const timestamp = message.timestamp ?? now
  const { priority, ttlMs, delayMs, groupId, dedupId } = message
  const reserved =
    (priority !== undefined && priority > 0) ||
    ttlMs !== undefined ||
    (delayMs !== undefined && delayMs > 0) ||
    groupId !== undefined ||
    dedupId !== undefined
  if (!reserved) return { key, value, headers: message.headers ?? NO_HEADERS, timestamp }
  const headers: RecordHeader[] = message.headers ? [...message.headers] : []
  const add = (name: string, text: string) => headers.push({ key: name, value: Buffer.from(text) })
  if (priority !== undefined && priority > 0) add(Reserved.priority, String(priority))
  if (ttlMs !== undefined) add(Reserved.expiresAt, String(now + ttlMs))
  if (delayMs !== undefined && delayMs > 0) add(Reserved.deliverAt, String(now + delayMs))
  if (groupId !== undefined) add(Reserved.groupId, groupId)
  if (dedupId !== undefined) add(Reserved.dedupId, dedupId)
  return { key, value, headers, timestamp }
}

/** A message key or value as bytes (strings are UTF-8). */
export function toBuffer(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null
  return typeof value === 'string' ? Buffer.from(value) : value
}

/**
 * A random UUID for a new stream. Never one whose base64url text starts with '-' (Kafka's rule for topic ids,
 * because command-line tools would read it as an option), and never the all-zero UUID (Kafka's "no id").
 */
export function newStreamUuid(): string {
  for (;;) {
    const uuid = randomUUID()
    // '-' is base64url digit 62: the first six bits 111110.
    if (Number.parseInt(uuid.slice(0, 2), 16) >> 2 !== 62) return uuid
  }
}
