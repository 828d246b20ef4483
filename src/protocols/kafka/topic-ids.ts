// Topic ids (KIP-516): a topic's id is its stream's UUID (`Stream.uuid`, stored with the stream), as the 16
// bytes Kafka sends. Metadata v10+ and CreateTopics v7+ return it, Fetch v13+ and DeleteTopics v6+ name
// topics by it.
import type { Broker } from '../../broker/broker.js'
import type { Stream } from '../../broker/stream/stream.js'

/** Kafka's "no topic id" (Uuid.ZERO_UUID). */
export const ZERO_TOPIC_ID: Buffer = Buffer.alloc(16)

export function isZeroTopicId(id: Buffer | undefined): boolean {
  return id === undefined || id.equals(ZERO_TOPIC_ID)
}

const ids = new WeakMap<Stream, Buffer>()

/** The stream's topic id (the same Buffer every call: responses never mutate it). */
export function topicIdOf(stream: Stream): Buffer {
  let id = ids.get(stream)
  if (id === undefined) {
    id = Buffer.from(stream.uuid.replaceAll('-', ''), 'hex')
    ids.set(stream, id)
  }
  return id
}

/** Kafka's text for a topic id (base64url without padding, as `Uuid.toString`), for error messages. */
export function topicIdText(id: Buffer): string {
  return id.toString('base64url')
}

/**
 * Topic id → stream, for one listener. A map from id to stream, checked against the broker on every hit (a
 * deleted stream is not found, even under a recreated name) and rebuilt from the stream list on a miss, at most
 * once per request (`resolver`): a request naming many unknown ids costs one pass over the streams, as a
 * Metadata request for all topics does.
 */
export class TopicIds {
  readonly #broker: Broker
  #byId = new Map<string, Stream>()

  constructor(broker: Broker) {
    this.#broker = broker
  }

  /** A lookup for one request. */
  resolver(): (id: Buffer) => Stream | undefined {
    let rebuilt = false
    return (id) => {
      if (isZeroTopicId(id)) return undefined
      const key = id.toString('hex')
      const cached = this.#byId.get(key)
      if (cached !== undefined && this.#broker.getStream(cached.name) === cached) return cached
      if (rebuilt) return undefined
      rebuilt = true
      this.#byId = new Map(this.#broker.listStreams().map((s) => [s.uuid.replaceAll('-', ''), s]))
      return this.#byId.get(key)
    }
  }
}
