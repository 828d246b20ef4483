// The contract between the server and a protocol listener: what every listener is given (ListenerContext),
// what it hands back (Listener), and the one accept loop TCP listeners share (connection limit, no-delay).
// Sockets are accepted only here, so TLS and per-connection authentication plug in at acceptTcp.
import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type net from 'node:net'
import type { Broker } from '../../broker/broker.js'
import type { PublishMessage, RecordHeader } from '../../broker/message.js'
import type { Logger } from '../../util/logger.js'
import { listenTcp, type TcpListener } from '../../util/net.js'
import type { ConnectionDirectory } from './connections.js'
import type { TrafficMetrics } from './metrics.js'
import type { TlsCredentials } from './tls.js'

/** One active resource alarm (disk, memory), as the server's monitor reports it. */
export interface Alarm {
  kind: string
  /** Human-readable reason, also what a blocked client is told where its protocol can say so. */
  message: string
  /** Epoch ms when the alarm was raised. */
  since: number
  /** The measured value (free bytes, bytes of memory in use) when raised, and the configured limit. */
  value: number
  limit: number
  /** True when raised by hand (`force`), not by a measurement. */
  forced?: boolean
}

/** The server's resource alarms; listeners decide what an alarm means for their protocol. */
export interface AlarmSource<A extends Alarm = Alarm> {
  current(): A[]
  /** Calls back with the full list after every change; returns the unsubscribe function. */
  onChange(callback: (alarms: A[]) => void): () => void
}

/** What the server gives every listener; a protocol adds its own settings by extending it. */
export interface ListenerContext {
  broker: Broker
  host: string
  port: number
  logger: Logger
  /** Listeners started before this one (the HTTP listener starts first); live: later ones appear in it. */
  started?: ReadonlyMap<string, Listener>
  /** Absent when embedded without a server (no alarms then). */
  alarms?: AlarmSource
  /** Open connections per listener beyond which new sockets are dropped at accept. */
  connectionsMax?: number
  /** Open connections per listener from one source address (loopback included) beyond which new ones are dropped. */
  connectionsPerAddressMax?: number
  /** Present when TLS is configured: the listener also accepts TLS connections on `port` with `credentials`. */
  tls?: { port: number; credentials: TlsCredentials }
  /**
   * False for a TLS-only listener: nothing listens on `port`, only on `tls.port` (the server sets it when a
   * protocol's plaintext port is configured 0 and its TLS port is not). Default true.
   */
  plaintext?: boolean
  /** The server's traffic counters (`trafficOf(ctx, protocol)`); absent when embedded without a server. */
  metrics?: TrafficMetrics
}

/** One retained message as a listener lists it (the payload is the stored buffer, not a copy). */
export interface RetainedMessage {
  topic: string
  bytes: number
  timestamp: number
  payload: Buffer | null
}

/** A started listener. */
export interface Listener {
  readonly name: string
  /** The plaintext port; for a TLS-only listener, its TLS port. */
  readonly port: number
  /** Human-facing URLs for the start banner. */
  readonly urls: string[]
  /** Set by the HTTP listener: others (MQTT over WebSocket) attach upgrade handlers to it. */
  readonly httpServer?: HttpServer
  /** Set by the HTTP listener when TLS is configured: the HTTPS server, for WSS upgrade handlers. */
  readonly httpsServer?: HttpsServer
  /**
   * Takes a socket another listener accepted on a port the two protocols share (AMQP 1.0 on the AMQP 0-9-1
   * port); its first bytes are unread, so the protocol reads it from the start.
   */
  adopt?(socket: import('node:net').Socket): void
  /** The listener's client connections, for the admin API; absent where connections are not tracked (HTTP). */
  readonly connections?: ConnectionDirectory
  /** Open connections held back by a resource alarm because they publish (listeners that block publishers). */
  readonly blockedPublisherCount?: number
  /** Open channels over all connections, for listeners whose protocol multiplexes them (AMQP). */
  readonly channelCount?: number
  /** Retained messages (topic, payload bytes, time, the payload itself), for listeners that keep them (MQTT). */
  retainedMessages?(): RetainedMessage[]
  /**
   * The protocol's own properties of a stored message by name, when its headers hold them in the protocol's
   * encoding (AMQP keeps the raw basic properties); undefined when they hold none. The admin API's message view.
   */
  messageProperties?(headers: readonly RecordHeader[]): Record<string, unknown> | undefined
  /** A message carrying these properties (named as messageProperties names them) the way the protocol stores them. */
  messageWithProperties?(properties: Record<string, unknown>, body: Buffer): PublishMessage
  /**
   * What the listener keeps in the stream or queue of this name when the name is its own internal state
   * (MQTT: retained messages, session queues), in words for an operator; undefined for any other name.
   */
  internalName?(name: string): string | undefined
  close(): Promise<void>
}

/** Bounds the sockets one listener holds, whatever a client (or a connect storm) does. */
export const CONNECTIONS_MAX_DEFAULT = 100_000

/** Bounds what one source address holds of a listener: one host cannot take every place (or descriptor). */
export const CONNECTIONS_PER_ADDRESS_MAX_DEFAULT = 1000

/** Open sockets per source address of one listener, both its ports together; entries go when they reach 0. */
class AddressCounts {
  readonly #open = new Map<string, number>()

  /** Counts the socket until it closes; false (nothing counted) when its address already holds `max`. */
  admit(socket: net.Socket, max: number): boolean {
    const raw = socket.remoteAddress
    if (raw === undefined) return false // already gone
    const address = raw.startsWith('::ffff:') ? raw.slice(7) : raw
    const open = this.#open.get(address) ?? 0
    if (open >= max) return false
    this.#open.set(address, open + 1)
    socket.once('close', () => {
      const left = (this.#open.get(address) ?? 1) - 1
      if (left <= 0) this.#open.delete(address)
      else this.#open.set(address, left)
    })
    return true
  }
}

/** One AddressCounts per listener, keyed by its connection registry (shared by its plain and TLS ports). */
const addressCounts = new WeakMap<object, AddressCounts>()

function countsOf(owner: object): AddressCounts {
  let counts = addressCounts.get(owner)
  if (counts === undefined) {
    counts = new AddressCounts()
    addressCounts.set(owner, counts)
  }
  return counts
}

/**
 * The connection bounds for servers whose sockets this kit does not accept (node:http): every socket of
 * `servers` (a listener's plain and TLS ports) counts against one `connectionsMax` for them all and one
 * budget per source address; a socket beyond either is destroyed as it arrives.
 */
export function limitServerConnections(
  context: ListenerContext,
  protocol: string,
  servers: Array<net.Server | undefined>,
): void {
  let open = 0
  const connections = {
    protocol,
    get size() {
      return open
    },
  }
  const admit = admission(context, connections)
  for (const server of servers)
    server?.on('connection', (socket: net.Socket) => {
      if (!admit(socket)) return
      open++
      socket.once('close', () => open--)
    })
}

/** Logs the first refusal of a run, not every socket: a storm must not flood the log. */
function refusalLog(context: ListenerContext, protocol: string, limit: string, max: number) {
  let refused = 0
  return {
    log(address?: string) {
      if (refused++ === 0)
        context.logger.warn({ [limit]: max, address }, `${protocol} connection limit (${limit}) reached`)
    },
    reset() {
      refused = 0
    },
  }
}

/**
 * Listens on the context's host and port and hands each accepted socket (no-delay set) to `accept`, unless
 * the listener already holds `connectionsMax` connections, or `connectionsPerAddressMax` from the socket's
 * source address: then the socket is dropped at once. Undefined for a TLS-only listener (`plaintext: false`).
 */
export async function acceptTcp(
  context: ListenerContext,
  connections: { readonly size: number; readonly protocol: string },
  accept: (socket: net.Socket) => void,
): Promise<TcpListener | undefined> {
  if (context.plaintext === false) return undefined
  const admit = admission(context, connections)
  return listenTcp(context.host, context.port, (socket) => {
    if (!admit(socket)) return
    socket.setNoDelay(true)
    accept(socket)
  })
}

/**
 * acceptTcp on the TLS port: `accept` gets the socket once its handshake is done (a TLSSocket, whose peer
 * certificate tls.ts reads). Undefined when TLS is not configured. The bounds apply to the TCP socket as it
 * arrives, before the handshake, so a storm of handshakes is bounded like plain connections. Connections on
 * both ports count against one limit when the adapter registers them in one registry.
 */
export async function acceptTls(
  context: ListenerContext,
  connections: { readonly size: number; readonly protocol: string },
  accept: (socket: net.Socket) => void,
): Promise<TcpListener | undefined> {
  const tls = context.tls
  if (tls === undefined) return undefined
  const onError = (error: Error) =>
    context.logger.debug({ err: error.message }, `${connections.protocol} TLS handshake failed`)
  const admit = admission(context, connections)
  return listenTcp(context.host, tls.port, accept, (listener) => {
    const server = tls.credentials.createServer(listener, onError)
    server.on('connection', (socket: net.Socket) => admit(socket))
    return server
  })
}

/** The port a listener reports (`Listener.port`): its plaintext one, else its TLS one. */
export function listenerPort(tcp: TcpListener | undefined, tls: TcpListener | undefined): number {
  const port = tcp?.port ?? tls?.port
  if (port === undefined) throw new Error('a listener needs a plaintext port or a TLS port')
  return port
}

/** Whether a new socket may stay (counted for its address until it closes); one beyond a bound is destroyed. */
function admission(
  context: ListenerContext,
  connections: { readonly size: number; readonly protocol: string },
): (socket: net.Socket) => boolean {
  const max = context.connectionsMax ?? CONNECTIONS_MAX_DEFAULT
  const perAddress = context.connectionsPerAddressMax ?? CONNECTIONS_PER_ADDRESS_MAX_DEFAULT
  const counts = countsOf(connections)
  const total = refusalLog(context, connections.protocol, 'connectionsMax', max)
  const address = refusalLog(context, connections.protocol, 'connectionsPerAddressMax', perAddress)
  return (socket) => {
    if (connections.size >= max) {
      total.log()
      socket.destroy()
      return false
    }
    total.reset()
    if (!counts.admit(socket, perAddress)) {
      address.log(socket.remoteAddress)
      socket.destroy()
      return false
    }
    address.reset()
    return true
  }
}
