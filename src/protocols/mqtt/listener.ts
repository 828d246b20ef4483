// The MQTT listener: TCP (1883 by default) and MQTT over WebSocket (path /mqtt on the HTTP port). Both
// feed the same connection handler; the hub holds everything that outlives a connection.
import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createWebSocketStream, WebSocketServer } from 'ws'
import type { Broker } from '../../broker/broker.js'
import type { Logger } from '../../util/logger.js'
import { listenTcp } from '../../util/net.js'
import { MqttConnection } from './connection/connection.js'
import { MqttHub, type MqttLimits } from './hub/hub.js'

/** The part of the server's ListenerContext this listener uses (protocols may not import src/server). */
export interface MqttListenerContext {
  broker: Broker
  host: string
  port: number
  logger: Logger
  started?: ReadonlyMap<string, { readonly httpServer?: HttpServer }>
  /** Test and embedding overrides of the bounds. */
  mqttLimits?: Partial<MqttLimits>
}

/** One open connection as the admin API lists it (the same shape in every protocol; declared per folder). */
export interface ConnectionInfo {
  id: string
  protocol: 'mqtt'
  remoteAddress: string
  connectedAt: number
  clientName?: string
  clientVersion?: string
  user?: string
  details?: Record<string, unknown>
}

export interface MqttListener {
  readonly name: string
  readonly port: number
  readonly urls: string[]
  readonly hub: MqttHub
  /** Open connections (TCP and WebSocket), including those still in CONNECT. */
  readonly connectionCount: number
  /** Open connections, oldest first. */
  connections(): ConnectionInfo[]
  /** Closes one connection (v5: DISCONNECT 0x98 first); false if no such id. */
  closeConnection(id: string): boolean
  /** Retained messages (topic, payload bytes, timestamp), sorted by topic. */
  retainedMessages(): Array<{ topic: string; bytes: number; timestamp: number }>
  close(): Promise<void>
}

/** Accepts one transport stream (TCP socket or WebSocket stream) as an MQTT connection. */
export function handleMqttStream(hub: MqttHub, stream: Duplex, remoteAddress?: string): MqttConnection {
  return new MqttConnection(hub, stream, remoteAddress)
}

function describeConnection(c: MqttConnection): ConnectionInfo {
  const d = c.describe()
  const info: ConnectionInfo = {
    id: c.id,
    protocol: 'mqtt',
    remoteAddress: c.remoteAddress,
    connectedAt: d.connectedAt,
    details: {
      clientId: d.clientId,
      state: d.state,
      protocolVersion: d.protocolVersion === 5 ? '5.0' : d.protocolVersion === 4 ? '3.1.1' : '3.1',
      cleanSession: d.cleanSession,
      persistentSession: d.persistentSession,
      keepAliveSeconds: d.keepAliveSeconds,
      subscriptions: d.subscriptions,
      inflight: d.inflight,
    },
  }
  // MQTT has no client-software field; the client id is what identifies a client.
  if (d.clientId !== '') info.clientName = d.clientId
  if (d.user !== undefined) info.user = d.user
  return info
}

export async function startMqttListener(ctx: MqttListenerContext): Promise<MqttListener> {
  const hub = await MqttHub.open(ctx.broker, ctx.logger, ctx.mqttLimits)
  const tcp = await listenTcp(ctx.host, ctx.port, (socket: Socket) => {
    socket.setNoDelay(true)
    socket.on('error', () => {}) // the connection's own handler closes it; never crash on a reset
    handleMqttStream(hub, socket)
  })
  const urls = [`mqtt://${ctx.host}:${tcp.port}`]
  const httpServer = ctx.started?.get('http')?.httpServer
  const ws = httpServer === undefined ? null : attachMqttWebSocket(httpServer, hub)
  if (httpServer !== undefined) {
    const address = httpServer.address()
    if (address !== null && typeof address === 'object') urls.push(`ws://${ctx.host}:${address.port}/mqtt`)
  }
  return {
    name: 'mqtt',
    port: tcp.port,
    urls,
    hub,
    get connectionCount() {
      return hub.connections.size
    },
    connections() {
      return [...hub.connections].map(describeConnection)
    },
    closeConnection(id) {
      for (const c of hub.connections)
        if (c.id === id) {
          ctx.logger.info({ connection: id }, 'mqtt connection closed by an administrator')
          c.closeByAdmin()
          return true
        }
      return false
    },
    retainedMessages() {
      return hub.retained.list()
    },
    async close() {
      ws?.close()
      // Connections first: a listening socket closes only once its connections have.
      await hub.close()
      await tcp.close()
    },
  }
}

/**
 * Serves MQTT over WebSocket at `path` of an HTTP server (binary frames, subprotocol "mqtt"; "mqttv3.1"
 * is accepted too). Other upgrade paths are left to other handlers.
 */
export function attachMqttWebSocket(httpServer: HttpServer, hub: MqttHub, path = '/mqtt'): { close(): void } {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: hub.limits.maxPacketBytes + 8,
    handleProtocols: (protocols) => {
      for (const p of ['mqtt', 'mqttv3.1']) if (protocols.has(p)) return p
      return false
    },
  })
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = request.url ?? '/'
    const pathname = url.split('?')[0]
    if (pathname !== path) return
    wss.handleUpgrade(request, socket, head, (ws) => {
      const stream = createWebSocketStream(ws)
      stream.on('error', () => {})
      const peer = request.socket
      handleMqttStream(hub, stream, `${peer.remoteAddress ?? 'unknown'}:${peer.remotePort ?? 0} (WebSocket)`)
    })
  }
  httpServer.on('upgrade', onUpgrade)
  return {
    close() {
      httpServer.off('upgrade', onUpgrade)
      for (const client of wss.clients) client.terminate()
      wss.close()
    },
  }
}
