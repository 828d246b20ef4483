// The Kafka listener's context and its own settings (defaults < WHARF_KAFKA_* environment < context).
import type { ListenerContext } from '../common/listener.js'

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
}

export const defaultKafkaOptions: KafkaOptions = {
  autoCreateTopics: true,
  defaultPartitions: 1,
  advertisedHost: null,
  frameBytesMax: 100 * 1024 * 1024,
  fetchBytesMax: 32 * 1024 * 1024,
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
