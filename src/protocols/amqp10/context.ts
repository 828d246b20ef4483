// What the parts of one AMQP 1.0 connection share: the listener-wide host (broker, logger, limits) and what a
// session needs of its connection. connection.ts builds both; session.ts takes only these types.
import type { Broker } from '../../broker/broker.js'
import type { Access } from '../../broker/security/authorizer.js'
import type { Logger } from '../../util/logger.js'
import type { ProtocolTraffic } from '../common/metrics.js'
import type { SocketOutput } from '../common/socket-output.js'
import type { AnyInit } from './codec/generated/types.js'

export interface Amqp10Limits {
  /** The max-frame-size offered in open (the client's smaller one wins). */
  maxFrameSize: number
  channelMax: number
  /** Our idle time-out, offered in open: a peer silent for twice this long is closed. */
  idleTimeoutMs: number
  /** Largest message (all transfer frames of one delivery), refused beyond with message-size-exceeded. */
  maxMessageSize: number
  /** Credit granted to a client's sender link, topped up as messages are stored. */
  linkCredit: number
  /** Links per session. */
  linksMax: number
  /** A connection that has not finished SASL and open within this long is closed. */
  handshakeTimeoutMs: number
  /** Socket write-buffer bytes beyond which deliveries stop until it drains. */
  writeBufferBytesMax: number
  /** A transaction open longer is rolled back; its discharge then fails with amqp:transaction:timeout. */
  transactionTimeoutMs: number
}

export const defaultAmqp10Limits: Amqp10Limits = {
  maxFrameSize: 256 * 1024,
  channelMax: 255,
  idleTimeoutMs: 60_000,
  maxMessageSize: 16 * 1024 * 1024,
  linkCredit: 500,
  linksMax: 1000,
  handshakeTimeoutMs: 10_000,
  writeBufferBytesMax: 1024 * 1024,
  transactionTimeoutMs: 300_000,
}

export interface Amqp10Host {
  readonly broker: Broker
  readonly logger: Logger
  readonly limits: Amqp10Limits
  readonly traffic: ProtocolTraffic
  /** Queues a client attaches to that do not exist are created (ActiveMQ's and Artemis's default). */
  readonly autoCreateQueues: boolean
}

/** The connection as its sessions see it. */
export interface SessionHost {
  readonly id: string
  readonly host: Amqp10Host
  readonly broker: Broker
  readonly access: Access | undefined
  /** The client's container-id (from open): with a link name, it names a durable subscription. */
  readonly containerId: string | undefined
  readonly output: SocketOutput
  /** The client's max-frame-size: transfers to it are split to fit. */
  readonly remoteMaxFrameSize: number
  /** Whether the socket's write buffer is over its bound (deliveries wait). */
  readonly backedUp: boolean
  send(channel: number, performative: AnyInit, payload?: Buffer): void
  /** A frame encoded by the caller (codec/per-message.ts), and the payload its size counts. */
  sendFrame(frame: Buffer, payload?: Buffer): void
}
