// Retained messages: one per topic, in a compacted stream keyed by topic (an empty value is the
// tombstone that deletes it) with an in-memory index rebuilt from the stream at start. $SYS topics
// are retained in memory only: they are rewritten every few seconds and mean nothing after a restart.
// The index lives in memory, so it is bounded by count, by total bytes and by the size of one message.
// A retained message beyond a bound is not retained (nor persisted) but still delivered to subscribers,
// and the topic's earlier retained message stays, as EMQX's max_retained_messages / max_payload_size
// (Mosquitto and RabbitMQ set no such bound). The same bounds apply when the index is rebuilt at start.
import type { Broker } from '../../../broker/broker.js'
import type { PublishMessage, RecordHeader, StoredMessage } from '../../../broker/message.js'
import type { RetainedMessage } from '../../common/listener.js'

export const retainedStream = 'mqtt.retained'
const readChunkBytes = 1024 * 1024

/** MQTT filter matching (MQTT-4.7): '+' one level, '#' this level and all below, '$' topics hidden from wildcards. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.charCodeAt(0) === 36 /* $ */ && (filter.charCodeAt(0) === 43 || filter.charCodeAt(0) === 35)) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!
    if (level === '#') return true
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}

/** The bounds of the retained index. */
export interface RetainedLimits {
  /** Topics with a retained message. */
  maxRetained: number
  /** Bytes of all retained messages (see retainedBytes). */
  maxRetainedBytes: number
  /** Bytes of one retained message. */
  maxRetainedMessageBytes: number
}

/** What one retained message costs the index: its topic, payload and headers (v5 properties) in bytes. */
export function retainedBytes(topic: string, value: Buffer | null, headers: ReadonlyArray<RecordHeader>): number {
  let bytes = Buffer.byteLength(topic) + (value?.length ?? 0)
  for (const h of headers) bytes += h.key.length + (h.value?.length ?? 0)
  return bytes
}

export class RetainedStore {
  readonly #broker: Broker
  readonly #index = new Map<string, StoredMessage>()
  /** retainedBytes of each entry of the index, and their sum. */
  readonly #sizes = new Map<string, number>()
  #bytes = 0
  readonly #limits: RetainedLimits
  /** Retained messages not kept because a bound was reached (they were still delivered). */
  refused = 0
  /** The stream offset the index has applied records up to. */
  #next = 0
  #reading: Promise<void> = Promise.resolve()

  private constructor(broker: Broker, limits: RetainedLimits) {
    this.#broker = broker
    this.#limits = limits
  }

  static async open(broker: Broker, limits: RetainedLimits): Promise<RetainedStore> {
    const store = new RetainedStore(broker, limits)
    await broker.createStream(retainedStream, { compact: true, partitions: 1 }, { ifNotExists: true })
    store.#next = broker.stream(retainedStream).partitionLog(0).logStartOffset
    await store.#readOn()
    return store
  }

  /**
   * In a cluster other brokers retain messages too (their appends reach the shared stream): before retained
   * messages are sent to a new subscription, the index takes in what the stream gained since this broker last
   * read it. Reads run one at a time. A single broker's index has everything already.
   */
  catchUp(): Promise<void> {
    if (this.#broker.cluster === undefined) return Promise.resolve()
    const run = this.#reading.then(() => this.#readOn())
    this.#reading = run.catch(() => {})
    return run
  }

  /** Applies the stream's records from #next to its end, in order (a tombstone deletes). */
  async #readOn(): Promise<void> {
    const log = this.#broker.stream(retainedStream).partitionLog(0)
    let offset = Math.max(this.#next, log.logStartOffset)
    for (;;) {
      const { messages, nextOffset } = await this.#broker.readMessages(retainedStream, 0, offset, readChunkBytes)
      for (const m of messages) {
        const topic = m.key?.toString()
        if (topic === undefined) continue
        if (m.value === null || m.value.length === 0) this.#delete(topic)
        else this.#admit(topic, m)
      }
      if (nextOffset <= offset) break
      offset = nextOffset
    }
    this.#next = offset
  }

  get size(): number {
    return this.#index.size
  }

  /** Bytes of all retained messages (bounded by maxRetainedBytes). */
  get bytes(): number {
    return this.#bytes
  }

  /** Indexes a retained message if the bounds allow it (a replacement frees its predecessor's bytes). */
  #admit(topic: string, message: StoredMessage): boolean {
    const size = retainedBytes(topic, message.value, message.headers)
    const previous = this.#sizes.get(topic)
    const limits = this.#limits
    if (
      size > limits.maxRetainedMessageBytes ||
      (previous === undefined && this.#index.size >= limits.maxRetained) ||
      this.#bytes - (previous ?? 0) + size > limits.maxRetainedBytes
    ) {
      this.refused++
      return false
    }
    this.#index.set(topic, message)
    this.#sizes.set(topic, size)
    this.#bytes += size - (previous ?? 0)
    return true
  }

  #delete(topic: string): boolean {
    const size = this.#sizes.get(topic)
    if (size === undefined) return false
    this.#index.delete(topic)
    this.#sizes.delete(topic)
    this.#bytes -= size
    return true
  }

  /**
   * Stores (or, with an empty payload, deletes) the retained message of a topic. Memory changes at once,
   * so retained state follows publish order; the promise resolves once the change is durable.
   */
  set(topic: string, message: PublishMessage, now: number): Promise<void> {
    const value =
      message.value === null ? null : Buffer.isBuffer(message.value) ? message.value : Buffer.from(message.value)
    const empty = value === null || value.length === 0
    const volatile = topic.startsWith('$SYS/')
    if (empty) {
      if (!this.#delete(topic) || volatile) return Promise.resolve()
    } else {
      const admitted = this.#admit(topic, {
        stream: retainedStream,
        partition: 0,
        offset: -1,
        timestamp: message.timestamp ?? now,
        key: null,
        value,
        headers: message.headers ?? [],
      })
      if (!admitted || volatile) return Promise.resolve()
    }
    const record: PublishMessage = {
      key: topic,
      value: empty ? null : value,
      headers: empty ? [] : (message.headers ?? []),
    }
    if (message.timestamp !== undefined) record.timestamp = message.timestamp
    return this.#broker.produce(retainedStream, [record]).then(() => {})
  }

  /** Every retained topic with its payload size and timestamp, sorted by topic (the admin lists these). */
  list(): RetainedMessage[] {
    const out: RetainedMessage[] = []
    for (const [topic, m] of this.#index)
      out.push({ topic, bytes: m.value?.length ?? 0, timestamp: m.timestamp, payload: m.value })
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))
  }

  /** Retained messages whose topic matches filter. */
  match(filter: string): Array<[topic: string, message: StoredMessage]> {
    const out: Array<[string, StoredMessage]> = []
    if (!filter.includes('+') && !filter.includes('#')) {
      const one = this.#index.get(filter)
      if (one !== undefined) out.push([filter, one])
      return out
    }
    for (const entry of this.#index) if (topicMatches(filter, entry[0])) out.push(entry)
    return out
  }
}
