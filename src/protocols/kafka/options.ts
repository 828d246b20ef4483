// The Kafka listener's context and its own settings (defaults < WHARF_KAFKA_* environment < context).
import type { ListenerContext } from '../common/listener.js'

/** Requests accepted but not yet answered before reading pauses (librdkafka pipelines up to max.in.flight). */
export const inflightRequestsMax = 512
/** Unwritten response bytes queued on the socket before reading pauses. */
export const writableBytesHigh = 8 * 1024 * 1024

export interface KafkaListenerContext extends ListenerContext {
  /** Kafka settings from the server config (defaults < file < WHARF_* < flags). */
  kafka?: Partial<KafkaOptions>
}

export interface KafkaOptions {
  /** Kafka auto.create.topics.enable: Metadata for an unknown topic creates it (when the request allows). */
  autoCreateTopics: boolean
  /** Kafka num.partitions: partitions of auto-created topics and of CreateTopics with numPartitions -1. */
  defaultPartitions: number
  /**
   * Host advertised in Metadata/FindCoordinator; default: the listen host, 127.0.0.1 for localhost, and for a
   * wildcard bind the first non-internal IPv4 address.
   */
  advertisedHost: string | null
  /** Largest request frame accepted (Kafka socket.request.max.bytes). */
  frameBytesMax: number
  /** Largest Fetch response body built for one request, whatever the client asks (bounds memory per fetch). */
  fetchBytesMax: number
  /**
   * Largest frame accepted before the connection has a principal when anonymous access is off (Kafka
   * sasl.server.max.receive.size): an unauthenticated peer cannot make the broker buffer a full frame.
   */
  saslFrameBytesMax: number
  /**
   * Response bytes one connection may hold that its client has not taken (queued on the socket, or finished
   * behind an unfinished earlier request); beyond it reading pauses and no further Fetch response is built.
   */
  responseBytesInFlightMax: number
  /** Kafka connections.max.idle.ms: a connection with no I/O and no request under way for this long is closed; 0 = never. */
  connectionsMaxIdleMs: number
  /**
   * Longest a Produce waits under a resource alarm (bounded further by the request's own timeout) before it is
   * answered REQUEST_TIMED_OUT; it is appended if the alarm clears first.
   */
  alarmProduceWaitMsMax: number
  /** Fetch sessions the listener holds (KIP-227; Kafka max.incremental.fetch.session.cache.slots); 0 = none. */
  fetchSessionCacheSlots: number
  /** Partitions one fetch session may hold (bounds the cache's memory with the slot count). */
  fetchSessionPartitionsMax: number
  /** A fetch session unused this long may be evicted for a new one (Kafka min.incremental.fetch.session.eviction.ms). */
  fetchSessionEvictionMs: number
}

export const defaultKafkaOptions: KafkaOptions = {
  autoCreateTopics: true,
  defaultPartitions: 1,
  advertisedHost: null,
  frameBytesMax: 100 * 1024 * 1024,
  fetchBytesMax: 32 * 1024 * 1024,
  saslFrameBytesMax: 512 * 1024,
  responseBytesInFlightMax: 16 * 1024 * 1024,
  connectionsMaxIdleMs: 10 * 60 * 1000,
  alarmProduceWaitMsMax: 10_000,
  fetchSessionCacheSlots: 1000,
  fetchSessionPartitionsMax: 1000,
  fetchSessionEvictionMs: 120_000,
}

/** Defaults < WHARF_KAFKA_* environment < context options. */
export function resolveKafkaOptions(
  given: Partial<KafkaOptions> | undefined,
  env: NodeJS.ProcessEnv = process.env,
): KafkaOptions {
  const options: KafkaOptions = { ...defaultKafkaOptions }
  if (env.WHARF_KAFKA_AUTO_CREATE_TOPICS !== undefined)
    options.autoCreateTopics = env.WHARF_KAFKA_AUTO_CREATE_TOPICS !== 'false'
  const partitions = Number(env.WHARF_KAFKA_DEFAULT_PARTITIONS)
  if (Number.isInteger(partitions) && partitions > 0) options.defaultPartitions = partitions
  if (env.WHARF_KAFKA_ADVERTISED_HOST) options.advertisedHost = env.WHARF_KAFKA_ADVERTISED_HOST
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value !== undefined) (options as unknown as Record<string, unknown>)[key] = value
  }
  return options
}
