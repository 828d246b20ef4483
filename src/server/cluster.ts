// A broker of a cluster tells the others where clients reach it (its membership row's endpoints), once its
// listeners are up and their real ports known; and says in its start log which node it is and who else is live.
import type { Broker } from '../broker/broker.js'
import type { Listener } from '../protocols/common/listener.js'
import { KAFKA_ENDPOINT, KAFKA_TLS_ENDPOINT } from '../protocols/kafka/cluster.js'
import type { KafkaListener } from '../protocols/kafka/index.js'
import type { ClusterMember } from '../storage/api.js'

type Endpoints = ClusterMember['endpoints']

/**
 * What this broker advertises, by listener name: the Kafka listener's advertised host with its plaintext and
 * TLS ports (what Metadata names), every other listener at the same host on its own port.
 */
export function clusterEndpoints(listeners: ReadonlyMap<string, Listener>, host: string): Endpoints {
  const kafka = listeners.get('kafka') as KafkaListener | undefined
  const advertised = kafka?.advertisedHost ?? host
  const endpoints: Endpoints = {}
  for (const [name, listener] of listeners) {
    if (name === 'kafka' || name === 'amqp10') continue
    endpoints[name] = { host: advertised, port: listener.port }
  }
  if (kafka !== undefined) {
    if (kafka.plainPort !== undefined) endpoints[KAFKA_ENDPOINT] = { host: advertised, port: kafka.plainPort }
    if (kafka.tlsPort !== undefined) endpoints[KAFKA_TLS_ENDPOINT] = { host: advertised, port: kafka.tlsPort }
  }
  return endpoints
}

/** This broker's node id and the live members, for the start banner; undefined on a single broker. */
export function clusterBanner(broker: Broker): { nodeId: number; members: number[] } | undefined {
  const cluster = broker.cluster
  if (cluster === undefined) return undefined
  return { nodeId: cluster.nodeId, members: cluster.members().map((m) => m.id) }
}
