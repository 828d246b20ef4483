// The broker's stream catalog: the streams by name, their catalog records, and their partition logs
// (opened, grown, destroyed). The broker serializes every call that changes the catalog (its catalog
// lock) and checks it is open; this class does neither.
import { type PartitionLog, type StorageEngine, TOMBSTONE_ROOM_BYTES } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import { type StreamConfig, toLogConfig, validateStreamConfig } from '../config.js'
import { NamedCatalog } from '../named-catalog.js'
import type { Queue } from '../queue/queue.js'
import { newStreamUuid, Stream } from './stream.js'

export interface StreamRecord {
  id: number
  config: StreamConfig
  createdAt: number
  /** The stream's UUID (`Stream.uuid`); records written before streams had one get one when loaded. */
  uuid?: string
}

export interface StreamCatalogHost {
  readonly storage: StorageEngine
  /** Durability of streams created without one. */
  readonly defaultDurability: StreamConfig['durability']
  now(): number
  /** Drops what else refers to a deleted stream (bindings, dedup window, producer state). */
  forget(stream: Stream): Promise<void>
  /** Deletes one of the queues that read a stream being deleted. */
  removeQueue(queue: Queue): Promise<void>
}

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

export class StreamCatalog extends NamedCatalog<Stream> {
  readonly #host: StreamCatalogHost
  /** Transient streams get negative ids from a process-local counter, so they never touch the catalog. */
  #transientStreamIds = 0

  constructor(host: StreamCatalogHost) {
    super('stream', 'STREAM_NOT_FOUND')
    this.#host = host
  }

  /** Opens the catalog's streams at startup; transient ones (left by a previous run) are destroyed. */
  async load(): Promise<void> {
    for (const [name, stored] of this.#host.storage.metadata.list<StreamRecord>('stream')) {
      let record = stored
      if (record.config.transient) {
        await this.#destroyStream(name, record)
        continue
      }
      if (record.uuid === undefined) {
        // Given once and stored, so it stays the same across restarts from here on.
        record = { ...record, uuid: newStreamUuid() }
        await this.#host.storage.metadata.put('stream', name, record)
      }
      await this.#openStream(name, record)
    }
  }

  stream(name: string): Stream {
    return this.required(name)
  }

  async #openStream(name: string, record: StreamRecord): Promise<Stream> {
    const logs = []
    for (let p = 0; p < record.config.partitions; p++) logs.push(await this.#openLog(record.id, p, record.config))
    const stream = new Stream(name, record.id, record.config, logs, record.createdAt, record.uuid)
    this.byName.set(name, stream)
    return stream
  }

  /** Transient streams (which a restart deletes anyway) live in memory: no files, no fsync. */
  #openLog(streamId: number, partition: number, config: StreamConfig): Promise<PartitionLog> | PartitionLog {
    const name = Stream.logName(streamId, partition)
    const storage = this.#host.storage
    return config.transient
      ? storage.openMemoryLog(name, toLogConfig(config))
      : storage.openLog(name, toLogConfig(config))
  }

  /** Adds a stream with a validated config: persisted in the catalog unless transient. */
  async newStream(name: string, config: StreamConfig): Promise<Stream> {
    if (config.transient) {
      const id = -++this.#transientStreamIds
      return this.#openStream(name, { id, config, createdAt: this.#host.now(), uuid: newStreamUuid() })
    }
    const metadata = this.#host.storage.metadata
    // Taken in the storage, atomically where several brokers share it: two of them creating streams at once
    // must not both take the same id, since the id names the stream's partition logs.
    const id = await metadata.nextId('stream-id')
    const record: StreamRecord = { id, config, createdAt: this.#host.now(), uuid: newStreamUuid() }
    const stream = await this.#openStream(name, record)
    await metadata.put('stream', name, record)
    return stream
  }

  async #destroyStream(name: string, record: StreamRecord): Promise<void> {
    const storage = this.#host.storage
    for (let p = 0; p < record.config.partitions; p++) await storage.deleteLog(Stream.logName(record.id, p))
    await storage.metadata.delete('stream', name)
  }

  /** Creates a stream; with `ifNotExists` an existing one is returned when its config is compatible. */
  async create(name: string, config: Partial<StreamConfig>, options: { ifNotExists?: boolean }): Promise<Stream> {
    validateName('stream', name)
    const existing = this.byName.get(name)
    if (existing) {
      if (options.ifNotExists) return existing
      throw new WharfError('STREAM_EXISTS', `stream '${name}' already exists`)
    }
    const full = validateStreamConfig({ durability: this.#host.defaultDurability, ...config })
    return this.newStream(name, full)
  }

  /** Changes stream settings; partitions can only grow (Kafka CreatePartitions). */
  async alter(name: string, changes: Partial<StreamConfig>): Promise<Stream> {
    const stream = this.stream(name)
    const next = validateStreamConfig(changes, stream.config)
    if (next.partitions < stream.config.partitions) {
      throw new WharfError(
        'INVALID_CONFIG',
        `partitions can only grow (${stream.config.partitions} → ${next.partitions})`,
      )
    }
    await this.#apply(stream, next)
    if (!next.transient)
      await this.#host.storage.metadata.put('stream', name, {
        id: stream.id,
        config: next,
        createdAt: stream.createdAt,
        uuid: stream.uuid,
      })
    return stream
  }

  /** Grows the stream's partitions to the config's and hands every log its settings. */
  async #apply(stream: Stream, next: StreamConfig): Promise<void> {
    for (let p = stream.config.partitions; p < next.partitions; p++) {
      stream.partitions.push(await this.#openLog(stream.id, p, next))
    }
    for (const log of stream.partitions) log.updateConfig(toLogConfig(next))
    stream.config = next
  }

  /**
   * Makes the open stream `name` match its catalog record after another broker sharing the storage changed
   * it: opens one created there, grows partitions and applies settings altered there. A stream deleted there
   * (no record, or one with another id) is returned for the caller to detach. Writes nothing.
   */
  async syncFromCatalog(name: string): Promise<{ opened?: Stream; altered?: Stream; gone?: Stream }> {
    const record = this.#host.storage.metadata.get<StreamRecord>('stream', name)
    const open = this.byName.get(name)
    if (open !== undefined && !open.config.transient && (record === undefined || record.id !== open.id))
      return { gone: open }
    if (record === undefined || record.config.transient || open?.config.transient) return {}
    if (open === undefined) return { opened: await this.#openStream(name, record) }
    if (JSON.stringify(open.config) === JSON.stringify(record.config)) return {}
    await this.#apply(open, record.config)
    return { altered: open }
  }

  /** Forgets a stream another broker deleted (its logs and records are gone already): memory only. */
  async detach(stream: Stream): Promise<void> {
    this.byName.delete(stream.name)
    for (let p = 0; p < stream.partitions.length; p++) await this.#host.storage.deleteLog(Stream.logName(stream.id, p))
  }

  /** Deletes a stream; one that queues read is refused unless `force`, which removes those queues first. */
  delete(name: string, force: boolean): Promise<void> {
    // Works on a full disk: the storage's reserve gives the tombstones room. With no reserve and too little
    // room it is refused whole (DISK_FULL, nothing changed), as queue deletes are, never left half-applied.
    return this.#host.storage.freeingSpace(() => this.#delete(name, force), TOMBSTONE_ROOM_BYTES)
  }

  async #delete(name: string, force: boolean): Promise<void> {
    const stream = this.stream(name)
    if (stream.queues.size > 0 && !force) {
      const names = [...stream.queues].map((q) => q.name).join(', ')
      throw new WharfError('PRECONDITION_FAILED', `stream '${name}' is read by queues: ${names}`)
    }
    for (const queue of [...stream.queues]) await this.#host.removeQueue(queue)
    await this.deleteNow(stream)
  }

  /** Deletes a stream whose queues are already gone: its logs, catalog record and group offsets. */
  async deleteNow(stream: Stream): Promise<void> {
    // What refers to the stream goes first: if that fails, the stream is still whole and listed.
    await this.#host.forget(stream)
    this.byName.delete(stream.name)
    await this.#destroyStream(stream.name, { id: stream.id, config: stream.config, createdAt: stream.createdAt })
    const cursors = this.#host.storage.cursors
    const prefix = `g\u0000`
    for (const key of cursors.keys(prefix)) {
      if (key.split('\u0000')[2] === stream.name) await cursors.delete(key)
    }
  }
}
