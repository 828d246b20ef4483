// The AMQP 0-9-1 listener: accepts TCP connections (and AMQPS on the TLS port when TLS is configured), runs one
// shared tick for heartbeats and handshake deadlines, blocks publishers (connection.blocked) while a server alarm
// is on, and closes every connection on shutdown.

import type net from 'node:net'
import type { TcpListener } from '../../util/net.js'
import { wharfVersion } from '../../util/version.js'
import { type CloseReason, type ConnectionInfo, ConnectionRegistry, connectionInfo } from '../common/connections.js'
import { acceptTcp, acceptTls, type Listener, type ListenerContext, listenerPort } from '../common/listener.js'
import { trafficOf } from '../common/metrics.js'
import { countBlockedPublishers, followAlarms } from '../common/publisher-alarms.js'
import { sniff } from '../common/sniff.js'
import { BODY_BYTES_MAX } from './channel/channel.js'
import type { FieldTable } from './codec/index.js'
import { AmqpConnection } from './connection/connection.js'
import type { ServerState } from './connection/state.js'
import { propertiesByName, publishWithProperties } from './message.js'

/** While any of the context's resource alarms is active, publishers are blocked. */
export interface AmqpListenerContext extends ListenerContext {
  /** The server config's AMQP bounds (amqpDeliveryBufferBytes, ...); options given to startAmqpListener win. */
  amqpLimits?: AmqpListenerOptions
}

/** Per-connection bounds; each defaults to the value below and is set by the server config (src/server/config.ts). */
export interface AmqpListenerOptions {
  /**
   * Deliveries to a connection stop while more than this many bytes wait for the peer to read them, and
   * resume once its socket drains (config amqpDeliveryBufferBytes; default 1 MiB).
   */
  deliveryBufferBytes?: number
  /**
   * Body bytes a connection holds before they are published, over all its channels: messages still being
   * received (their declared size) and publishes held by uncommitted transactions. A content header or a tx
   * publish that would pass it closes the connection with 506 RESOURCE_ERROR (config amqpPendingBodyBytes;
   * default 64 MiB, one largest message).
   */
  pendingBodyBytes?: number
  /**
   * Body bytes of a connection's publishes awaiting the broker (unconfirmed) above which it is no longer
   * read until some settle (config amqpPublishInflightBytes; default 16 MiB).
   */
  publishInflightBytes?: number
}

export const amqpLimitDefaults: Required<AmqpListenerOptions> = {
  deliveryBufferBytes: 1024 * 1024,
  pendingBodyBytes: BODY_BYTES_MAX,
  publishInflightBytes: 16 * 1024 * 1024,
}

/** A positive byte count from the options or the context, else the default. */
function bytesSetting(name: keyof AmqpListenerOptions, values: AmqpListenerOptions[], fallback: number): number {
  const raw = values.find((v) => v[name] !== undefined)?.[name]
  if (raw === undefined) return fallback
  if (!Number.isSafeInteger(raw) || raw < 1) throw new Error(`${name}: expected a positive number of bytes, got ${raw}`)
  return raw
}

export interface AmqpListener extends Listener {
  /** Closed by id with connection.close 320 CONNECTION_FORCED. */
  readonly connections: ConnectionRegistry<AmqpConnection>
  /** The AMQPS port, when TLS is configured. */
  readonly tlsPort: number | undefined
  /** Number of open connections. */
  readonly connectionCount: number
  /** Open connections held back by an alarm because they publish. */
  readonly blockedPublisherCount: number
  /** Blocks publishers with `reason`, or lifts that (null), beside the server's alarms (tests, admin). */
  setBlocked(reason: string | null): void
}

/** A client-properties value as text (longstr arrives as a Buffer), or undefined. */
function propertyText(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  return undefined
}

function describeConnection(c: AmqpConnection): ConnectionInfo {
  const props = c.clientProperties
  const channels = c.describeChannels()
  return connectionInfo(
    {
      id: c.id,
      protocol: 'amqp',
      remoteAddress: c.remoteAddress,
      connectedAt: c.connectedAt,
      tls: c.tls,
      blockedByAlarm: c.blockedPublisher,
      details: {
        connectionName: propertyText(props.connection_name) ?? null,
        platform: propertyText(props.platform) ?? null,
        heartbeatSeconds: c.heartbeatSeconds,
        frameMax: c.frameMax,
        channelCount: channels.length,
        channels,
      },
    },
    { clientName: propertyText(props.product), clientVersion: propertyText(props.version), user: c.user },
  )
}

/** RabbitMQ's texts for the same actions, which client code and operators already recognise. */
const closeText: Record<CloseReason, string> = {
  admin: 'CONNECTION_FORCED - Closed via management plugin',
  shutdown: "broker forced connection closure with reason 'shutdown'",
}

const TICK_MS = 1000
/** How long a new connection may stay silent before it is taken for AMQP 0-9-1 (its own timeouts apply then). */
const HEADER_WAIT_MS = 10_000

export async function startAmqpListener(
  context: AmqpListenerContext,
  options: AmqpListenerOptions = {},
): Promise<AmqpListener> {
  const { broker, logger } = context
  const connections = new ConnectionRegistry<AmqpConnection>(
    {
      protocol: 'amqp',
      id: (c) => c.id,
      isOpen: (c) => c.isOpen,
      describe: describeConnection,
      close: (c, reason) => c.forceClose(closeText[reason]),
    },
    logger,
  )
  let sequence = 0
  const sources = [options, context.amqpLimits ?? {}]
  let manualBlock: string | null = null
  let sharedAlarm: string | null = null
  const capabilities: FieldTable = {
    publisher_confirms: true,
    exchange_exchange_bindings: true,
    'basic.nack': true,
    consumer_cancel_notify: true,
    'connection.blocked': true,
    consumer_priorities: false,
    authentication_failure_close: true,
    per_consumer_qos: true,
    direct_reply_to: false,
  }
  const state: ServerState = {
    limits: {
      deliveryBufferBytes: bytesSetting('deliveryBufferBytes', sources, amqpLimitDefaults.deliveryBufferBytes),
      pendingBodyBytes: bytesSetting('pendingBodyBytes', sources, amqpLimitDefaults.pendingBodyBytes),
      publishInflightBytes: bytesSetting('publishInflightBytes', sources, amqpLimitDefaults.publishInflightBytes),
    },
    broker,
    logger,
    connections,
    streamConsumers: new Map(),
    traffic: trafficOf(context, 'amqp'),
    blocked: null,
    nextConnectionId: () => `amqp-${process.pid}-${++sequence}`,
    serverProperties: () => ({
      product: 'Wharf',
      version: wharfVersion,
      platform: `Node.js ${process.version}`,
      cluster_name: 'wharf',
      copyright: 'Wharf',
      information: 'https://github.com/wharf',
      capabilities,
    }),
  }
  const applyBlocked = () => {
    const next = manualBlock ?? sharedAlarm
    if (next === state.blocked) return
    state.blocked = next
    logger.warn({ reason: next }, next === null ? 'amqp publishers unblocked' : 'amqp publishers blocked')
    for (const c of connections) c.setBlocked(next)
  }
  const open = (socket: net.Socket) => {
    const connection = new AmqpConnection(socket, state)
    // After the connection's own close handler, which releases its channels.
    connections.track(connection, socket)
  }
  // AMQP 1.0 shares the port: its protocol header differs from 0-9-1's in the sixth byte (major version 1).
  let sniffing = 0
  const accept = (socket: net.Socket) => {
    const amqp10 = context.started?.get('amqp10')
    if (amqp10?.adopt === undefined) return open(socket)
    sniffing++
    sniff(socket, 8, HEADER_WAIT_MS, (head) => {
      sniffing--
      if (head.length >= 6 && head.subarray(0, 4).toString('latin1') === 'AMQP' && head[5] === 1) amqp10.adopt!(socket)
      else open(socket)
    })
  }
  // The port's bounds, as RabbitMQ applies them: every socket of the port counts against connectionsMax,
  // whichever AMQP it speaks (and while its header is still unread); each protocol's registry reports its own.
  const port = {
    protocol: 'amqp',
    get size() {
      return connections.size + sniffing + (context.started?.get('amqp10')?.connections?.size ?? 0)
    },
  }
  const tcp = await acceptTcp(context, port, accept)
  let tls: TcpListener | undefined
  try {
    tls = await acceptTls(context, port, accept)
  } catch (error) {
    await tcp?.close()
    throw error
  }
  const unsubscribe = followAlarms(context.alarms, (reason) => {
    sharedAlarm = reason
    applyBlocked()
  })
  const ticker = setInterval(() => {
    const now = Date.now()
    for (const c of connections) c.tick(now)
  }, TICK_MS)
  ticker.unref()
  const host = context.host.includes(':') ? `[${context.host}]` : context.host
  const urls: string[] = []
  if (tcp !== undefined) urls.push(`amqp://${host}:${tcp.port}`)
  if (tls !== undefined) urls.push(`amqps://${host}:${tls.port}`)
  logger.info({ port: tcp?.port, tlsPort: tls?.port }, 'amqp listening')
  return {
    name: 'amqp',
    port: listenerPort(tcp, tls),
    urls,
    tlsPort: tls?.port,
    connections,
    get connectionCount() {
      return connections.size
    },
    get blockedPublisherCount() {
      return countBlockedPublishers(connections)
    },
    get channelCount() {
      let n = 0
      for (const c of connections) n += c.channelCount
      return n
    },
    messageProperties: propertiesByName,
    messageWithProperties: publishWithProperties,
    setBlocked(reason) {
      manualBlock = reason
      applyBlocked()
    },
    async close() {
      unsubscribe()
      clearInterval(ticker)
      const closing = Promise.all([tcp?.close(), tls?.close()])
      connections.closeAll('shutdown')
      await closing
    },
  }
}
