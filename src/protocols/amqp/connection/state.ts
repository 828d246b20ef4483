// What every AMQP connection shares with its listener (the broker, the publisher-blocking alarm, ids, server
// properties) and the phases of a connection's life; the connection, its output and its channel table read these.
import type { Broker } from '../../../broker/broker.js'
import type { Logger } from '../../../util/logger.js'
import type { ConnectionLifecycle } from '../../common/connections.js'
import type { ProtocolTraffic } from '../../common/metrics.js'
import type { ChannelHost } from '../channel/context.js'
import type { FieldTable } from '../codec/index.js'

/** The listener's per-connection bounds (AmqpListenerOptions, defaults in listener.ts). */
export interface ConnectionLimits {
  /** Deliveries stop while more than this many bytes wait to be taken by the peer. */
  readonly deliveryBufferBytes: number
  /** Body bytes not yet published (being received, or in an uncommitted tx), summed over a connection's channels. */
  readonly pendingBodyBytes: number
  /** Reading pauses while publishes holding more body bytes than this await the broker. */
  readonly publishInflightBytes: number
}

export interface ServerState {
  readonly limits: ConnectionLimits
  readonly broker: Broker
  readonly logger: Logger
  /** The listener's registry: opens, protocol errors and close reasons go to the log through it. */
  readonly connections: ConnectionLifecycle<ChannelHost>
  readonly streamConsumers: Map<string, number>
  /** Published, delivered, acked and requeued messages, confirm latency, refused logins (`/metrics`). */
  readonly traffic: ProtocolTraffic
  /** Memory alarm reason while publishers are blocked, else null. */
  blocked: string | null
  nextConnectionId(): string
  serverProperties(): FieldTable
}

export type Phase = 'header' | 'start-ok' | 'authenticating' | 'tune-ok' | 'open' | 'running' | 'closing' | 'closed'
