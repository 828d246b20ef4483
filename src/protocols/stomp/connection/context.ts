// What the parts of one STOMP connection share: the listener-wide host (broker, logger, limits, alarms) and
// the connection's own core (version, principal, output, error path). The parts (connect.ts, send.ts,
// subscriptions.ts) take this type; StompConnection builds them and owns their lifetime.
import type { Broker } from '../../../broker/broker.js'
import type { CreditGroup } from '../../../broker/credit.js'
import type { Access, Principal } from '../../../broker/security/authorizer.js'
import type { Logger } from '../../../util/logger.js'
import type { ProtocolTraffic } from '../../common/metrics.js'
import type { SocketOutput } from '../../common/socket-output.js'
import type { HeaderList } from '../wire/encode.js'
import { defaultFrameLimits, type FrameLimits, type StompVersion } from '../wire/frame.js'

/** Every bound of the STOMP listener; the server's config sets some, tests and embedders may set all. */
export interface StompLimits extends FrameLimits {
  /** A connection that has not sent CONNECT within this long is closed. */
  connectTimeoutMs: number
  /** The shortest heart-beat interval the server agrees to, either way (a client asking less gets this). */
  heartbeatMinMs: number
  /** A client silent for its negotiated interval times this factor is closed. */
  heartbeatGrace: number
  /** Messages a subscription may hold unacknowledged when SUBSCRIBE sets no `activemq.prefetchSize`. */
  prefetchDefault: number
  /** Body bytes of one connection's unacknowledged deliveries beyond which no more are sent until acks come. */
  unackedBytesMax: number
  /** Body bytes one connection's open transactions may hold; a SEND beyond is refused with ERROR. */
  transactionBytesMax: number
  /** Open transactions per connection. */
  transactionsMax: number
  /** Subscriptions per connection. */
  subscriptionsMax: number
  /** SENDs awaiting the broker per connection beyond which the socket is not read. */
  publishesInflightMax: number
  /** Socket write-buffer bytes beyond which deliveries stop until it drains. */
  writeBufferBytesMax: number
}

export const defaultStompLimits: StompLimits = {
  ...defaultFrameLimits,
  connectTimeoutMs: 10_000,
  heartbeatMinMs: 100,
  // RabbitMQ and stompjs allow twice the interval before calling a peer dead.
  heartbeatGrace: 2,
  // ActiveMQ's default prefetch for queue consumers.
  prefetchDefault: 1000,
  unackedBytesMax: 32 * 1024 * 1024,
  transactionBytesMax: 64 * 1024 * 1024,
  transactionsMax: 100,
  subscriptionsMax: 1000,
  publishesInflightMax: 1000,
  writeBufferBytesMax: 1024 * 1024,
}

/** What the listener gives every connection. */
export interface StompHost {
  readonly broker: Broker
  readonly logger: Logger
  readonly limits: StompLimits
  /** The active resource alarms' reason, null when none: publishers are not read meanwhile. */
  readonly alarm: string | null
  /** The listener's counters for /metrics. */
  readonly traffic: ProtocolTraffic
  /** Server name and version for CONNECTED `server`. */
  readonly serverName: string
}

export interface ConnectionCore {
  readonly id: string
  readonly host: StompHost
  readonly broker: Broker
  readonly output: SocketOutput
  version: StompVersion
  principal: Principal | undefined
  access: Access | undefined
  /** JMS client id from CONNECT `client-id` (claimed in the broker while the connection lives); durable subscriptions need one. */
  clientId: string | undefined
  /** The parent of every subscription's credit: held while unacked bytes or the socket are over their bound. */
  readonly deliveryCredit: CreditGroup
  isOpen(): boolean
  send(command: string, headers: HeaderList, body?: Buffer): void
  /** ERROR with `message` (and the frame's receipt as `receipt-id`), then close. */
  fail(message: string, receipt?: string, detail?: string): void
  /** Runs `then` once every SEND and receipt before it has been answered (receipts keep their order). */
  after(work: Promise<unknown> | undefined, then: () => void): void
}
