// What every connection of one Kafka listener shares: the broker, options, ports, alarms, metrics, the
// connection registry, topic ids and fetch sessions. Generic over the connection so this file needs no import of it.
import type { Broker } from '../../broker/broker.js'
import type { Logger } from '../../util/logger.js'
import type { ConnectionLifecycle } from '../common/connections.js'
import type { ProtocolTraffic } from '../common/metrics.js'
import type { AlarmThrottle } from './alarm-throttle.js'
import type { FetchSessionCache } from './fetch-session.js'
import type { GroupLoads } from './group-loads.js'
import type { KafkaOptions } from './options.js'
import type { TopicIds } from './topic-ids.js'

export interface ListenerState<C> {
  readonly broker: Broker
  readonly options: KafkaOptions
  readonly logger: Logger
  readonly advertisedHost: string
  /** The plaintext port (unless the listener is TLS-only) and the TLS port (when it serves one). */
  readonly plainPort: number | undefined
  readonly tlsPort: number | undefined
  /** Holds produces while a resource alarm is active. */
  readonly throttle: AlarmThrottle
  /** Produced and fetched records, produce latency, refused logins (`/metrics`). */
  readonly traffic: ProtocolTraffic
  /** The listener's registry: opens, protocol errors and close reasons go to the log through it. */
  readonly connections: ConnectionLifecycle<C>
  /** Topic id → stream (KIP-516), and the listener's fetch sessions (KIP-227). */
  readonly topicIds: TopicIds
  readonly fetchSessions: FetchSessionCache
  /** On a cluster: the consumer groups this broker took over and has loaded (group-loads.ts). */
  readonly groupLoads: GroupLoads | null
}
