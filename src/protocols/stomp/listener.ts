// The STOMP listener: TCP (61613 by default), TLS (61614, when TLS is configured) and STOMP over WebSocket
// (path /stomp on the HTTP port, and on the HTTPS port as WSS; subprotocols v10.stomp, v11.stomp, v12.stomp).
// All feed the same connection class; the registry lists them for the admin API and closes them by id.
import type { Duplex } from 'node:stream'
import type { ConnectionRegistry } from '../common/connections.js'
import type { Listener, ListenerContext } from '../common/listener.js'
import { trafficOf } from '../common/metrics.js'
import { countBlockedPublishers } from '../common/publisher-alarms.js'
import { servedRegistry, servePorts } from '../common/served-ports.js'
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
  const registry = servedRegistry<StompConnection>('stomp', ctx.logger)
  const open = (stream: Duplex, transport: StompTransport) => {
    registry.add(new StompConnection(host, stream, transport, registry, (c) => registry.delete(c)))
  }
  const served = await servePorts(ctx, registry, {
    schemes: ['stomp', 'stomp+ssl'],
    accept: (socket) => open(socket, { socket }),
    onAlarm: (reason) => {
      host.alarm = reason
      for (const c of registry) c.alarmChanged(reason)
    },
  })
  const urls = served.urls
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
    port: served.port,
    tlsPort: served.tls?.port,
    urls,
    connections: registry,
    get blockedPublisherCount() {
      return countBlockedPublishers(registry)
    },
    close: () => served.close(webSockets),
  }
}
