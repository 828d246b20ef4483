// The MQTT listener: TCP (1883 by default) and MQTT over WebSocket (path /mqtt on the HTTP port). Both
// feed the same connection handler; the hub holds everything that outlives a connection.
import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { createWebSocketStream, WebSocketServer } from 'ws'
import { type ConnectionRegistry, peerOf } from '../common/connections.js'
import { acceptTcp, CONNECTIONS_MAX_DEFAULT, type Listener, type ListenerContext } from '../common/listener.js'
import { MqttConnection } from './connection/connection.js'
import { type HubConnection, MqttHub } from './hub/hub.js'
import type { MqttLimits } from './session/session.js'

export interface MqttListenerContext extends ListenerContext {
  /** Test and embedding overrides of the bounds. */
  mqttLimits?: Partial<MqttLimits>
}

export interface MqttListener extends Listener {
  readonly hub: MqttHub
  /** Open connections (TCP and WebSocket), including those still in CONNECT; closed by id with v5 DISCONNECT 0x98 first. */
  readonly connections: ConnectionRegistry<HubConnection>
  /** Open connections (TCP and WebSocket), including those still in CONNECT. */
  readonly connectionCount: number
  /** Retained messages (topic, payload bytes, timestamp), sorted by topic. */
  retainedMessages(): Array<{ topic: string; bytes: number; timestamp: number }>
}

/** Accepts one transport stream (TCP socket or WebSocket stream) as an MQTT connection. */
export function handleMqttStream(hub: MqttHub, stream: Duplex, remoteAddress?: string): MqttConnection {
  return new MqttConnection(hub, stream, remoteAddress)
}

export async function startMqttListener(ctx: MqttListenerContext): Promise<MqttListener> {
  const hub = await MqttHub.open(ctx.broker, ctx.logger, ctx.mqttLimits)
  const tcp = await acceptTcp(ctx, hub.connections, (socket) => {
    socket.on('error', () => {}) // the connection's own handler closes it; never crash on a reset
    handleMqttStream(hub, socket)
  })
  const urls = [`mqtt://${ctx.host}:${tcp.port}`]
  const httpServer = ctx.started?.get('http')?.httpServer
  const ws = httpServer === undefined ? null : attachMqttWebSocket(httpServer, hub, '/mqtt', ctx.connectionsMax)
  if (httpServer !== undefined) {
    const address = httpServer.address()
    if (address !== null && typeof address === 'object') urls.push(`ws://${ctx.host}:${address.port}/mqtt`)
  }
  return {
    name: 'mqtt',
    port: tcp.port,
    urls,
    hub,
    connections: hub.connections,
    get connectionCount() {
      return hub.connections.size
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
export function attachMqttWebSocket(
  httpServer: HttpServer,
  hub: MqttHub,
  path = '/mqtt',
  connectionsMax = CONNECTIONS_MAX_DEFAULT,
): { close(): void } {
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
    // The same bound as TCP accepts: the hub's registry holds both kinds.
    if (hub.connections.size >= connectionsMax) {
      socket.destroy()
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const stream = createWebSocketStream(ws)
      stream.on('error', () => {})
      const peer = request.socket
      handleMqttStream(hub, stream, `${peerOf(peer)} (WebSocket)`)
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
