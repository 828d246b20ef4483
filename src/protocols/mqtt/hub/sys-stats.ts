// $SYS statistics (Mosquitto's topic names): published periodically as retained QoS 0 messages on amq.topic,
// so a `$SYS/#` subscriber gets the latest values at once. `#`/`+` at the first level never match them.
import type { Broker } from '../../../broker/broker.js'
import type { ProtocolTraffic } from '../../common/metrics.js'
import type { RetainedStore } from '../session/retained.js'
import { exchange } from '../session/session.js'
import { toBrokerMessage } from '../wire/message.js'

/** What the statistics are read from (the hub). */
export interface SysSource {
  readonly broker: Broker
  readonly retained: RetainedStore
  readonly stats: { received: number; dropped: number }
  /** PUBLISH packets sent are the listener's delivered count (the one /metrics and the rates read). */
  readonly traffic: ProtocolTraffic
  readonly startedAt: number
  readonly clientsConnected: number
  readonly sessions: { readonly size: number }
}

export function publishSysStats(hub: SysSource): void {
  const uptime = Math.floor((Date.now() - hub.startedAt) / 1000)
  const values: Array<[string, string]> = [
    ['$SYS/broker/version', 'wharf'],
    ['$SYS/broker/uptime', `${uptime} seconds`],
    ['$SYS/broker/clients/connected', String(hub.clientsConnected)],
    ['$SYS/broker/clients/total', String(hub.sessions.size + hub.clientsConnected)],
    ['$SYS/broker/messages/received', String(hub.stats.received)],
    ['$SYS/broker/messages/sent', String(hub.traffic.messagesDelivered)],
    ['$SYS/broker/messages/dropped', String(hub.stats.dropped)],
    ['$SYS/broker/retained messages/count', String(hub.retained.size)],
  ]
  for (const [topic, value] of values) {
    const now = hub.broker.now()
    const { routingKey, message } = toBrokerMessage(
      { topic, qos: 0, retain: true, payload: Buffer.from(value), properties: undefined, clientId: '' },
      now,
    )
    void hub.retained.set(topic, message, now)
    hub.broker.publish(exchange, routingKey, message).catch(() => {})
  }
}
