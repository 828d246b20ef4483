// Retained messages: one per topic, in a compacted stream keyed by topic (an empty value is the
// tombstone that deletes it) with an in-memory index rebuilt from the stream at start. $SYS topics
// are retained in memory only: they are rewritten every few seconds and mean nothing after a restart.
import type { Broker } from '../../../broker/broker.js'
import type { PublishMessage, StoredMessage } from '../../../broker/message.js'

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

export class RetainedStore {
  readonly #broker: Broker
  readonly #index = new Map<string, StoredMessage>()
  readonly #max: number

  private constructor(broker: Broker, max: number) {
    this.#broker = broker
    this.#max = max
  }

  static async open(broker: Broker, max: number): Promise<RetainedStore> {
    const store = new RetainedStore(broker, max)
    await broker.createStream(retainedStream, { compact: true, partitions: 1 }, { ifNotExists: true })
    const log = broker.stream(retainedStream).partitionLog(0)
    let offset = log.logStartOffset
    while (offset < log.highWatermark) {
      const { messages, nextOffset } = await broker.readMessages(retainedStream, 0, offset, readChunkBytes)
      for (const m of messages) {
        const topic = m.key?.toString()
        if (topic === undefined) continue
        if (m.value === null || m.value.length === 0) store.#index.delete(topic)
        else store.#index.set(topic, m)
      }
      if (nextOffset <= offset) break
      offset = nextOffset
    }
    return store
  }

  get size(): number {
    return this.#index.size
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
      if (!this.#index.delete(topic) || volatile) return Promise.resolve()
    } else {
      if (!this.#index.has(topic) && this.#index.size >= this.#max) return Promise.resolve() // bounded: new topics are not retained past the limit
      this.#index.set(topic, {
        stream: retainedStream,
        partition: 0,
        offset: -1,
        timestamp: message.timestamp ?? now,
        key: null,
        value,
        headers: message.headers ?? [],
      })
      if (volatile) return Promise.resolve()
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
  list(): Array<{ topic: string; bytes: number; timestamp: number }> {
    const out: Array<{ topic: string; bytes: number; timestamp: number }> = []
    for (const [topic, m] of this.#index) out.push({ topic, bytes: m.value?.length ?? 0, timestamp: m.timestamp })
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
