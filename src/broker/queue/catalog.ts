// The broker's queue catalog: queues by name, their catalog records and lifecycle (declare, alter, delete,
// the own stream a queue is created with, memory cursors for queues that cannot outlive the process,
// dropping non-durable and exclusive queues at startup) and the direct send to a queue. The broker
// serializes every call that changes the catalog (its catalog lock) and checks it is open.
import { type CursorStore, type StorageEngine, TOMBSTONE_ROOM_BYTES } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import type { ClusterLinkHooks } from '../cluster-link.js'
import {
  defaultQueueConfig,
  priorityLevels,
  QUEUE_MESSAGE_BYTES_DEFAULT,
  type QueueConfig,
  type StreamConfig,
  validateQueueConfig,
  validateStreamConfig,
} from '../config.js'
import type { DeathReason, PublishMessage, StoredMessage } from '../message.js'
import { NamedCatalog } from '../named-catalog.js'
import { assertRoom, dropsNewWhenFull, refusesWhenFull, trimsWhenFull, withQueueDelay } from '../routing/publisher.js'
import { type StreamCatalog, validateName } from '../stream/catalog.js'
import type { MessagePosition } from '../stream/produce.js'
import { deliveredMaxKey } from './partition.js'
import { Queue } from './queue.js'
import { servedHereOnly } from './remote.js'
import type { QueueRef } from './state.js'

export interface QueueRecord {
  config: QueueConfig
  createdAt: number
}

export type AlterableQueueKey =
  | 'leaseMs'
  | 'maxDeliveries'
  | 'deadLetter'
  | 'messageTtlMs'
  | 'maxLength'
  | 'maxLengthBytes'
  | 'overflow'
  | 'deliveryDelayMs'
  | 'expiresMs'
  | 'messageGroupsMax'
  | 'redeliveryDelayMs'
  | 'redeliveryBackoff'
  | 'redeliveryDelayMaxMs'
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
  'messageGroupsMax',
  'redeliveryDelayMs',
  'redeliveryBackoff',
  'redeliveryDelayMaxMs',
]

export interface QueueCatalogHost {
  readonly storage: StorageEngine
  readonly streams: StreamCatalog
  /** Durability of a durable queue's own stream. */
  readonly defaultDurability: StreamConfig['durability']
  now(): number
  warn(message: string, details?: Record<string, unknown>): void
  /** Removes every binding that targets the queue. */
  unbindQueue(name: string): Promise<void>
  /** Routes a message to the queue's dead-letter target; resolves once durable there. */
  deadLetter(queue: QueueRef, message: StoredMessage, reason: DeathReason): Promise<void>
  /** Deletes a queue through the broker (serialized with other catalog changes). */
  deleteQueue(name: string): Promise<number>
  /** Where a durable queue another broker of the cluster serves sends its operations. */
  readonly remote: ClusterLinkHooks
}

export class QueueCatalog extends NamedCatalog<Queue> {
  readonly #host: QueueCatalogHost
  /**
   * Lease ids of every queue of the broker (see deliveries.ts). They start at a random point of 2^52 each
   * boot: an id from before a restart, or from another broker that served the queue before it moved (a
   * client's SQS receipt handle), names no current lease.
   */
  #leaseSeq = Math.floor(Math.random() * 2 ** 52)

  constructor(host: QueueCatalogHost) {
    super('queue', 'SUBSCRIPTION_NOT_FOUND')
    this.#host = host
  }

  /**
   * Opens the catalog's queues at startup (after the streams). Non-durable and exclusive queues did not
   * survive the restart; a queue whose stream is gone is dropped.
   */
  async load(): Promise<void> {
    const meta = this.#host.storage.metadata
    for (const [name, record] of meta.list<QueueRecord>('queue')) {
      if (servedHereOnly(record.config)) {
        await meta.delete('queue', name)
        continue
      }
      if (!this.#host.streams.has(record.config.stream)) {
        this.#host.warn('queue without stream dropped', { queue: name, stream: record.config.stream })
        await meta.delete('queue', name)
        continue
      }
      this.#openQueue(name, record.config)
    }
  }

  queue(name: string): Queue {
    return this.required(name)
  }

  #openQueue(name: string, stored: QueueConfig): Queue {
    // Catalog records written before a setting existed get its default (e.g. maxLengthBytes).
    const config: QueueConfig = { ...defaultQueueConfig, ...stored }
    const stream = this.#host.streams.stream(config.stream)
    const host = this.#host
    const queue = new Queue({
      name,
      config,
      logs: stream.partitions,
      cursors: this.#queueCursors(config),
      hooks: {
        leaseId: () => ++this.#leaseSeq,
        now: host.now,
        warn: (message, details) => host.warn(message, details),
        freeingSpace: (work) => host.storage.freeingSpace(work, TOMBSTONE_ROOM_BYTES),
        remoteFor: (queueName, queueConfig, streamId) =>
          servedHereOnly(queueConfig) ? null : host.remote.find(queueName, queueConfig, streamId),
        deadLetter: (q, message, reason) => host.deadLetter(q, message, reason),
        deleteQueue: (q, why) => {
          void host
            .deleteQueue(q.name)
            .catch((error) => host.warn('queue delete failed', { queue: q.name, why, error: String(error) }))
        },
      },
      streamId: stream.id,
    })
    if (config.maxPriority > 0) stream.maxPriority = config.maxPriority
    stream.queues.add(queue)
    this.byName.set(name, queue)
    return queue
  }

  /**
   * Declares a queue over a stream (its own, created with it, unless config.stream names an existing one). Redeclaring with the same settings returns the existing queue.
   */
  async create(name: string, config: Partial<QueueConfig>, options: { ifNotExists?: boolean }): Promise<Queue> {
    validateName('queue', name)
    const full = validateQueueConfig(name, config)
    const existing = this.byName.get(name)
    if (existing) {
      if (options.ifNotExists) return existing
      throw new WharfError('SUBSCRIPTION_EXISTS', `queue '${name}' already exists`)
    }
    const streams = this.#host.streams
    if (full.stream === name && !streams.has(name)) {
      const streamConfig = validateStreamConfig({
        partitions: priorityLevels(full.maxPriority),
        workQueue: true,
        retentionMs: -1,
        durability: full.durable ? this.#host.defaultDurability : 'never',
        transient: servedHereOnly(full),
        maxMessageBytes: QUEUE_MESSAGE_BYTES_DEFAULT,
      })
      await streams.newStream(name, streamConfig)
    } else if (!streams.has(full.stream)) {
      throw new WharfError('STREAM_NOT_FOUND', `stream '${full.stream}' does not exist`)
    }
    const queue = this.#openQueue(name, full)
    if (!servedHereOnly(full))
      await this.#host.storage.metadata.put('queue', name, { config: full, createdAt: this.#host.now() })
    return queue
  }

  /**
   * Changes settings of an existing queue (SQS SetQueueAttributes): lease, delivery limit, dead-letter
   * target, TTL, length limit, delay. The stream, durability and ownership cannot change. New settings apply
   * to deliveries from now on; persisted with the queue's catalog record.
   */
  async alter(name: string, changes: Partial<Pick<QueueConfig, AlterableQueueKey>>): Promise<Queue> {
    const queue = this.queue(name)
    for (const key of Object.keys(changes)) {
      if (!alterableQueueKeys.includes(key as AlterableQueueKey))
        throw new WharfError('INVALID_CONFIG', `queue setting '${key}' cannot be changed`)
    }
    const next = validateQueueConfig(name, { ...queue.config, ...changes })
    const dl = next.deadLetter
    if (dl !== null && 'queue' in dl && dl.create !== true && !this.byName.has(dl.queue)) {
      throw new WharfError('SUBSCRIPTION_NOT_FOUND', `dead-letter queue '${dl.queue}' does not exist`)
    }
    if (!servedHereOnly(next)) {
      const metadata = this.#host.storage.metadata
      const createdAt = metadata.get<QueueRecord>('queue', name)?.createdAt ?? this.#host.now()
      await metadata.put('queue', name, { config: next, createdAt })
    }
    queue.config = next
    return queue
  }

  /** Deletes a queue (AMQP queue.delete semantics); resolves with the messages it held, 0 when absent. */
  delete(name: string, options: { ifUnused?: boolean; ifEmpty?: boolean }): Promise<number> {
    // A missing queue, or one kept in memory, writes nothing to delete: it must not spend the disk's reserve
    // (which a durable delete may need next) nor be refused for want of room.
    const queue = this.byName.get(name)
    if (queue === undefined || this.#queueCursors(queue.config) === this.#host.storage.memoryCursors)
      return this.#delete(name, options)
    // On a full disk too: refused whole (DISK_FULL, nothing changed) when even the reserve leaves no room.
    return this.#host.storage.freeingSpace(() => this.#delete(name, options), TOMBSTONE_ROOM_BYTES)
  }

  async #delete(name: string, options: { ifUnused?: boolean; ifEmpty?: boolean }): Promise<number> {
    const queue = this.byName.get(name)
    if (queue === undefined) return 0
    if (options.ifUnused && queue.consumerCount > 0) {
      throw new WharfError('PRECONDITION_FAILED', `queue '${name}' has consumers`, {
        detail: { reason: 'in-use', queue: name },
      })
    }
    const depth = queue.depth()
    if (options.ifEmpty && depth > 0)
      throw new WharfError('PRECONDITION_FAILED', `queue '${name}' holds messages`, {
        detail: { reason: 'not-empty', queue: name },
      })
    await this.remove(queue, 'queue deleted')
    return depth
  }

  /**
   * Makes the open queue `name` match its catalog record after another broker sharing the storage changed it:
   * opens one declared there (once its stream is open here), applies settings altered there, and closes one
   * deleted there (memory only: its cursors, record and bindings went there). Queues that live in this
   * broker's memory only (non-durable, exclusive) are left alone. Writes nothing.
   */
  syncFromCatalog(name: string): 'opened' | 'altered' | 'closed' | undefined {
    const record = this.#host.storage.metadata.get<QueueRecord>('queue', name)
    const open = this.byName.get(name)
    if (open !== undefined && this.#queueCursors(open.config) === this.#host.storage.memoryCursors) return undefined
    if (open !== undefined && record === undefined) {
      this.detach(open, 'queue deleted')
      return 'closed'
    }
    if (record === undefined) return undefined
    if (open === undefined) {
      if (!this.#host.streams.has(record.config.stream)) return undefined
      this.#openQueue(name, record.config)
      return 'opened'
    }
    const config: QueueConfig = { ...defaultQueueConfig, ...record.config }
    if (JSON.stringify(config) === JSON.stringify(open.config)) return undefined
    open.config = config
    return 'altered'
  }

  /** A connection closed: its exclusive queues are deleted, its leases on the others returned. */
  async releaseOwner(owner: string): Promise<void> {
    for (const queue of [...this.values()]) {
      if (queue.config.exclusiveOwner === owner) await this.#host.deleteQueue(queue.name)
      else queue.releaseOwner(owner)
    }
  }

  /** Closes a queue and forgets it, in memory only (its consumers are cancelled with reason). */
  detach(queue: Queue, reason: string): void {
    queue.close(reason)
    this.byName.delete(queue.name)
    this.#host.streams.get(queue.streamName)?.queues.delete(queue)
  }

  /** A queue that cannot outlive the process keeps its acks in memory: nothing to fsync per ack. */
  #queueCursors(config: QueueConfig): CursorStore {
    const storage = this.#host.storage
    return servedHereOnly(config) ? storage.memoryCursors : storage.cursors
  }

  async remove(queue: Queue, reason: string): Promise<void> {
    queue.close(reason)
    this.byName.delete(queue.name)
    const stream = this.#host.streams.get(queue.streamName)
    stream?.queues.delete(queue)
    const cursors = this.#queueCursors(queue.config)
    for (const p of queue.partitions) {
      await cursors.delete(p.ackKey)
      await cursors.delete(deliveredMaxKey(p.ackKey))
    }
    await this.#host.storage.metadata.delete('queue', queue.name)
    await this.#host.unbindQueue(queue.name)
    // A queue's own stream goes with it.
    if (stream && stream.name === queue.name && stream.queues.size === 0) await this.#host.streams.deleteNow(stream)
  }
}

/** Publishes straight to a queue's stream, applying the queue's delay default and overflow policy. */
export async function sendToQueueStream(
  queue: Queue,
  messages: PublishMessage[],
  produce: (stream: string, messages: PublishMessage[]) => Promise<MessagePosition[]>,
): Promise<MessagePosition[]> {
  if (dropsNewWhenFull(queue)) return sendDroppingNew(queue, messages, produce)
  const limited = refusesWhenFull(queue)
  let bytes = 0
  if (limited) {
    const counting = queue.bytesCounted()
    if (counting !== null) await counting
    for (const m of messages) bytes += bodyBytes(m)
    assertRoom(queue, messages.length, bytes)
  }
  const appended = produce(
    queue.streamName,
    messages.map((m) => withQueueDelay(queue, m)),
  )
  if (limited) queue.publishing.reserve(messages.length, bytes, appended)
  const result = await appended
  if (trimsWhenFull(queue)) await queue.enforceMaxLength()
  return result
}

function bodyBytes(m: PublishMessage): number {
  return typeof m.value === 'string' ? Buffer.byteLength(m.value) : (m.value?.length ?? 0)
}

/** A full drop-new queue takes the messages that fit, in order; the others are dropped (position offset -1). */
async function sendDroppingNew(
  queue: Queue,
  messages: PublishMessage[],
  produce: (stream: string, messages: PublishMessage[]) => Promise<MessagePosition[]>,
): Promise<MessagePosition[]> {
  const counting = queue.bytesCounted()
  if (counting !== null) await counting
  const kept: PublishMessage[] = []
  const taken: boolean[] = []
  let bytes = 0
  for (const m of messages) {
    try {
      assertRoom(queue, kept.length + 1, bytes + bodyBytes(m))
      kept.push(withQueueDelay(queue, m))
      bytes += bodyBytes(m)
      taken.push(true)
    } catch {
      queue.stats.dropped++
      taken.push(false)
    }
  }
  if (kept.length === 0) return messages.map(() => ({ ...DROPPED }))
  const appended = produce(queue.streamName, kept)
  queue.publishing.reserve(kept.length, bytes, appended)
  const positions = await appended
  let next = 0
  return taken.map((t) => (t ? positions[next++]! : { ...DROPPED }))
}

const DROPPED: MessagePosition = { partition: -1, offset: -1, duplicate: false }
