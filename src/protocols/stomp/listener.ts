// The STOMP listener: TCP (61613 by default), TLS (61614, when TLS is configured) and STOMP over WebSocket
// (path /stomp on the HTTP port, and on the HTTPS port as WSS; subprotocols v10.stomp, v11.stomp, v12.stomp).
// All feed the same connection class; the registry lists them for the admin API and closes them by id.
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { ConnectionRegistry } from '../common/connections.js'
import { acceptTcp, acceptTls, type Listener, type ListenerContext, listenerPort } from '../common/listener.js'
import { trafficOf } from '../common/metrics.js'
import { countBlockedPublishers, followAlarms } from '../common/publisher-alarms.js'
import { serveWebSocketOnHttpListener } from '../common/websocket.js'
import { StompConnection, type StompTransport } from './connection/connection.js'
import { defaultStompLimits, type StompHost, type StompLimits } from './connection/context.js'

export interface StompListenerContext extends ListenerContext {
  /** Bounds set by the config, tests or an embedder; the rest keep their defaults. */
  stompLimits?: Partial<StompLimits>
}

export interface StompListener extends Listener {
  /** The STOMP+SSL port, when TLS is configured. */
  readonly tlsPort: number | undefined
  readonly connections: ConnectionRegistry<StompConnection>
  readonly blockedPublisherCount: number
}

const subprotocols = ['v12.stomp', 'v11.stomp', 'v10.stomp']

export async function startStompListener(ctx: StompListenerContext): Promise<StompListener> {
  const limits: StompLimits = { ...defaultStompLimits, ...ctx.stompLimits }
  const host: StompHost & { alarm: string | null } = {
    broker: ctx.broker,
    logger: ctx.logger,
    limits,
    alarm: null,
    traffic: trafficOf(ctx, 'stomp'),
    serverName: 'Wharf',
  }
  const registry = new ConnectionRegistry<StompConnection>(
    {
      protocol: 'stomp',
      id: (c) => c.id,
      isOpen: (c) => c.isOpen(),
      describe: (c) => c.describe(),
      close: (c, reason) =>
        c.close(reason === 'admin' ? 'connection closed by an administrator' : 'the broker is shutting down'),
    },
    ctx.logger,
  )
  const open = (stream: Duplex, transport: StompTransport) => {
    const connection = new StompConnection(host, stream, transport, registry, (c) => registry.delete(c))
    registry.add(connection)
  }
  const unsubscribe = followAlarms(ctx.alarms, (reason) => {
    host.alarm = reason
    for (const c of registry) c.alarmChanged(reason)
  })
  const accept = (socket: Socket) => {
    socket.on('error', () => {}) // the connection's own handler closes it; never crash on a reset
    open(socket, { socket })
  }
  const tcp = await acceptTcp(ctx, registry, accept).catch((error: unknown) => {
    unsubscribe()
    throw error
  })
  const tls = await acceptTls(ctx, registry, accept).catch(async (error: unknown) => {
    unsubscribe()
    await tcp?.close()
    throw error
  })
  const urls: string[] = []
  if (tcp !== undefined) urls.push(`stomp://${ctx.host}:${tcp.port}`)
  if (tls !== undefined) urls.push(`stomp+ssl://${ctx.host}:${tls.port}`)
  const webSockets = serveWebSocketOnHttpListener(
    ctx,
    {
      path: '/stomp',
      subprotocols,
      maxPayload: limits.frameBytesMax + 1024,
      connections: registry,
      connectionsMax: ctx.connectionsMax,
      open,
    },
    urls,
  )
  return {
    name: 'stomp',
    port: listenerPort(tcp, tls),
    tlsPort: tls?.port,
    urls,
    connections: registry,
    get blockedPublisherCount() {
      return countBlockedPublishers(registry)
    },
    async close() {
      unsubscribe()
      for (const ws of webSockets) ws.close()
      const connections = [...registry]
      registry.closeAll('shutdown')
      await Promise.all(connections.map((c) => c.closed))
      await tcp?.close()
      await tls?.close()
    },
  }
}
