// The contract between the server and a protocol listener: what every listener is given (ListenerContext),
// what it hands back (Listener), and the one accept loop TCP listeners share (connection limit, no-delay).
// Sockets are accepted only here, so TLS and per-connection authentication plug in at acceptTcp.
import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type net from 'node:net'
import type { Broker } from '../../broker/broker.js'
import type { Logger } from '../../util/logger.js'
import { listenTcp, type TcpListener } from '../../util/net.js'
import type { ConnectionDirectory } from './connections.js'
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
  /** Present when TLS is configured: the listener also accepts TLS connections on `port` with `credentials`. */
  tls?: { port: number; credentials: TlsCredentials }
}

/** A started listener. */
export interface Listener {
  readonly name: string
  readonly port: number
  /** Human-facing URLs for the start banner. */
  readonly urls: string[]
  /** Set by the HTTP listener: others (MQTT over WebSocket) attach upgrade handlers to it. */
  readonly httpServer?: HttpServer
  /** Set by the HTTP listener when TLS is configured: the HTTPS server, for WSS upgrade handlers. */
  readonly httpsServer?: HttpsServer
  /** The listener's client connections, for the admin API; absent where connections are not tracked (HTTP). */
  readonly connections?: ConnectionDirectory
  /** Open connections held back by a resource alarm because they publish (listeners that block publishers). */
  readonly blockedPublisherCount?: number
  /** Retained messages (topic, payload bytes, time), for listeners that keep them (MQTT). */
  retainedMessages?(): Array<{ topic: string; bytes: number; timestamp: number }>
  close(): Promise<void>
}

/** Bounds the sockets one listener holds, whatever a client (or a connect storm) does. */
export const CONNECTIONS_MAX_DEFAULT = 100_000

/**
 * Listens on the context's host and port and hands each accepted socket (no-delay set) to `accept`, unless
 * the listener already holds `connectionsMax` connections: then the socket is dropped at once.
 */
export function acceptTcp(
  context: ListenerContext,
  connections: { readonly size: number; readonly protocol: string },
  accept: (socket: net.Socket) => void,
): Promise<TcpListener> {
  return listenTcp(context.host, context.port, limitConnections(context, connections, accept))
}

/**
 * acceptTcp on the TLS port: `accept` gets the socket once its handshake is done (a TLSSocket, whose peer
 * certificate tls.ts reads). Undefined when TLS is not configured. Connections on both ports count
 * against one limit when the adapter registers them in one registry.
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
  return listenTcp(context.host, tls.port, limitConnections(context, connections, accept), (listener) =>
    tls.credentials.createServer(listener, onError),
  )
}

function limitConnections(
  context: ListenerContext,
  connections: { readonly size: number; readonly protocol: string },
  accept: (socket: net.Socket) => void,
): (socket: net.Socket) => void {
  const max = context.connectionsMax ?? CONNECTIONS_MAX_DEFAULT
  let refused = 0
  return (socket) => {
    if (connections.size >= max) {
      // Logged once per run of refusals, not per socket: a storm must not flood the log.
      if (refused++ === 0)
        context.logger.warn({ connectionsMax: max }, `${connections.protocol} connection limit reached`)
      socket.destroy()
      return
    }
    refused = 0
    socket.setNoDelay(true)
    accept(socket)
  }
}
