// The AMQP 0-9-1 listener: accepts TCP connections, runs one shared tick for heartbeats, handshake
// deadlines and the memory alarm (connection.blocked), and closes every connection on shutdown.
import type { Broker } from '../../broker/broker.js'
import type { Logger } from '../../util/logger.js'
import { listenTcp } from '../../util/net.js'
import type { FieldTable } from './codec/index.js'
import { AmqpConnection, type ServerState } from './connection/connection.js'

/** What the listener uses of the server's context (structurally compatible with server.ts's). */
export interface AmqpListenerContext {
  broker: Broker
  host: string
  port: number
  logger: Logger
  /** The server's resource alarms (disk, memory): while any is active, publishers are blocked. */
  alarms?: {
    current(): Array<{ message: string }>
    onChange(callback: (alarms: Array<{ message: string }>) => void): () => void
  }
}

export interface AmqpListenerOptions {
  /** Resident memory above which publishers are blocked (connection.blocked); 0 disables the alarm. */
  memoryHighWatermarkBytes?: number
}

/** One open connection as the admin API lists it (the same shape in every protocol; declared per folder). */
export interface ConnectionInfo {
  id: string
  protocol: 'amqp'
  remoteAddress: string
  connectedAt: number
  clientName?: string
  clientVersion?: string
  user?: string
  details?: Record<string, unknown>
}

export interface AmqpListener {
  readonly name: string
  readonly port: number
  readonly urls: string[]
  /** Number of open connections. */
  readonly connectionCount: number
  /** Open connections, oldest first. */
  connections(): ConnectionInfo[]
  /** Closes one connection with connection.close 320 CONNECTION_FORCED; false if no such id. */
  closeConnection(id: string): boolean
  /** Open connections held back by an alarm because they publish. */
  readonly blockedPublisherCount: number
  /** Raises (reason) or clears (null) the memory alarm by hand (tests, admin). */
  setBlocked(reason: string | null): void
  close(): Promise<void>
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
  const info: ConnectionInfo = {
    id: c.id,
    protocol: 'amqp',
    remoteAddress: c.remoteAddress,
    connectedAt: c.connectedAt,
    details: {
      connectionName: propertyText(props.connection_name) ?? null,
      platform: propertyText(props.platform) ?? null,
      heartbeatSeconds: c.heartbeatSeconds,
      frameMax: c.frameMax,
      channelCount: channels.length,
      channels,
    },
  }
  const product = propertyText(props.product)
  const version = propertyText(props.version)
  if (product !== undefined) info.clientName = product
  if (version !== undefined) info.clientVersion = version
  if (c.user !== undefined) info.user = c.user
  return info
}

const TICK_MS = 1000
const VERSION = '0.1.0'

export async function startAmqpListener(
  context: AmqpListenerContext,
  options: AmqpListenerOptions = {},
): Promise<AmqpListener> {
  const { broker, logger } = context
  const connections = new Set<AmqpConnection>()
  let sequence = 0
  const memoryMax = options.memoryHighWatermarkBytes ?? Number(process.env.WHARF_AMQP_MEMORY_HIGH_WATERMARK ?? 0)
  let manualBlock: string | null = null
  let alarm: string | null = null
  const sharedReason = (list: Array<{ message: string }>) =>
    list.length === 0 ? null : list.map((a) => a.message).join('; ')
  let sharedAlarm: string | null = context.alarms ? sharedReason(context.alarms.current()) : null
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
    broker,
    logger,
    streamConsumers: new Map(),
    blocked: null,
    nextConnectionId: () => `amqp-${process.pid}-${++sequence}`,
    serverProperties: () => ({
      product: 'Wharf',
      version: VERSION,
      platform: `Node.js ${process.version}`,
      cluster_name: 'wharf',
      copyright: 'Wharf',
      information: 'https://github.com/wharf',
      capabilities,
    }),
    onClosed: (connection) => connections.delete(connection),
  }
  const applyBlocked = () => {
    const next = manualBlock ?? alarm ?? sharedAlarm
    if (next === state.blocked) return
    state.blocked = next
    logger.warn({ reason: next }, next === null ? 'amqp publishers unblocked' : 'amqp publishers blocked')
    for (const c of connections) c.setBlocked(next)
  }
  const tcp = await listenTcp(context.host, context.port, (socket) => {
    const connection = new AmqpConnection(socket, state)
    connections.add(connection)
  })
  const unsubscribe = context.alarms?.onChange((list) => {
    sharedAlarm = sharedReason(list)
    applyBlocked()
  })
  applyBlocked()
  const ticker = setInterval(() => {
    const now = Date.now()
    for (const c of connections) c.tick(now)
    if (memoryMax > 0) {
      const rss = process.memoryUsage.rss()
      // Hysteresis: clear only well below the mark, so the alarm does not flap.
      if (alarm === null && rss > memoryMax) alarm = 'low on memory'
      else if (alarm !== null && rss < memoryMax * 0.9) alarm = null
      applyBlocked()
    }
  }, TICK_MS)
  ticker.unref()
  const url = `amqp://${context.host.includes(':') ? `[${context.host}]` : context.host}:${tcp.port}`
  logger.info({ port: tcp.port }, 'amqp listening')
  return {
    name: 'amqp',
    port: tcp.port,
    urls: [url],
    get connectionCount() {
      return connections.size
    },
    get blockedPublisherCount() {
      let n = 0
      for (const c of connections) if (c.blockedPublisher) n++
      return n
    },
    connections() {
      const out: ConnectionInfo[] = []
      for (const c of connections) if (c.isOpen) out.push(describeConnection(c))
      return out
    },
    closeConnection(id) {
      for (const c of connections)
        if (c.id === id && c.isOpen) {
          logger.info({ connection: id }, 'amqp connection closed by an administrator')
          // RabbitMQ's text for the same action, which client code and operators already recognise.
          c.forceClose('CONNECTION_FORCED - Closed via management plugin')
          return true
        }
      return false
    },
    setBlocked(reason) {
      manualBlock = reason
      applyBlocked()
    },
    async close() {
      unsubscribe?.()
      clearInterval(ticker)
      const closing = tcp.close()
      for (const c of connections) c.forceClose("broker forced connection closure with reason 'shutdown'")
      await closing
    },
  }
}
