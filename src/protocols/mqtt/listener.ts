// The MQTT listener: TCP (1883 by default), TLS (8883, when TLS is configured) and MQTT over WebSocket (path
// /mqtt on the HTTP port, and on the HTTPS port as WSS). All feed the same connection handler; the hub holds
// everything that outlives a connection.
import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createWebSocketStream, WebSocketServer } from 'ws'
import { type ConnectionRegistry, peerOf } from '../common/connections.js'
import { crossOrigin } from '../common/cross-origin.js'
import {
  acceptTcp,
  acceptTls,
  CONNECTIONS_MAX_DEFAULT,
  type Listener,
  type ListenerContext,
  type RetainedMessage,
} from '../common/listener.js'
import { followAlarms } from '../common/publisher-alarms.js'
import { MqttConnection, type MqttTransport } from './connection/connection.js'
import { type HubConnection, MqttHub } from './hub/hub.js'
import { internalName, type MqttLimits } from './session/session.js'

export interface MqttListenerContext extends ListenerContext {
  /** Test and embedding overrides of the bounds. */
  mqttLimits?: Partial<MqttLimits>
}

export interface MqttListener extends Listener {
  readonly hub: MqttHub
  /** The MQTTS port, when TLS is configured. */
  readonly tlsPort: number | undefined
  /** Open connections (TCP and WebSocket), including those still in CONNECT; closed by id with v5 DISCONNECT 0x98 first. */
  readonly connections: ConnectionRegistry<HubConnection>
  /** Open connections (TCP and WebSocket), including those still in CONNECT. */
  readonly connectionCount: number
  /** Open connections held back by a resource alarm because they publish. */
  readonly blockedPublisherCount: number
  /** Retained messages (topic, payload bytes, timestamp, payload), sorted by topic. */
  retainedMessages(): RetainedMessage[]
}

/** Accepts one transport stream (TCP or TLS socket, WebSocket stream) as an MQTT connection. */
export function handleMqttStream(hub: MqttHub, stream: Duplex, transport: MqttTransport): MqttConnection {
  return new MqttConnection(hub, stream, transport)
}

export async function startMqttListener(ctx: MqttListenerContext): Promise<MqttListener> {
  const hub = await MqttHub.open(ctx.broker, ctx.logger, ctx.mqttLimits)
  const unsubscribe = followAlarms(ctx.alarms, (reason) => hub.setAlarm(reason))
  const accept = (socket: Socket) => {
    socket.on('error', () => {}) // the connection's own handler closes it; never crash on a reset
    handleMqttStream(hub, socket, { socket })
  }
  const tcp = await acceptTcp(ctx, hub.connections, accept).catch(async (error: unknown) => {
    unsubscribe()
    await hub.close()
    throw error
  })
  const tls = await acceptTls(ctx, hub.connections, accept).catch(async (error: unknown) => {
    unsubscribe()
    await hub.close()
    await tcp.close()
    throw error
  })
  const urls = [`mqtt://${ctx.host}:${tcp.port}`]
  if (tls !== undefined) urls.push(`mqtts://${ctx.host}:${tls.port}`)
  const webSockets: Array<{ close(): void }> = []
  const http = ctx.started?.get('http')
  for (const [server, scheme] of [
    [http?.httpServer, 'ws'],
    [http?.httpsServer, 'wss'],
  ] as const) {
    if (server === undefined) continue
    webSockets.push(attachMqttWebSocket(server, hub, '/mqtt', ctx.connectionsMax))
    const address = server.address()
    if (address !== null && typeof address === 'object') urls.push(`${scheme}://${ctx.host}:${address.port}/mqtt`)
  }
  return {
    name: 'mqtt',
    port: tcp.port,
    tlsPort: tls?.port,
    urls,
    hub,
    connections: hub.connections,
    get connectionCount() {
      return hub.connections.size
    },
    get blockedPublisherCount() {
      return hub.blockedPublisherCount
    },
    get messagesDelivered() {
      return hub.stats.sent
    },
    retainedMessages() {
      return hub.retained.list()
    },
    internalName,
    async close() {
      unsubscribe()
      for (const ws of webSockets) ws.close()
      // Connections first: a listening socket closes only once its connections have.
      await hub.close()
      await tcp.close()
      await tls?.close()
    },
  }
}

/**
 * Serves MQTT over WebSocket at `path` of an HTTP or HTTPS server (binary frames, subprotocol "mqtt";
 * "mqttv3.1" is accepted too). Other upgrade paths are left to other handlers. Over HTTPS, the upgrade's
 * TLS socket is the connection's: a verified client certificate authenticates it as on the MQTTS port.
 */
export function attachMqttWebSocket(
  httpServer: HttpServer | HttpsServer,
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
    // A page of another site may connect with a user name and password it knows, but not as the anonymous
    // user of a local broker nor with a client certificate the browser would attach by itself.
    const fromOtherOrigin = crossOrigin(request.headers)
    wss.handleUpgrade(request, socket, head, (ws) => {
      const stream = createWebSocketStream(ws)
      stream.on('error', () => {})
      const peer = request.socket
      handleMqttStream(hub, stream, {
        socket: peer,
        remoteAddress: `${peerOf(peer)} (WebSocket)`,
        crossOrigin: fromOtherOrigin,
      })
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
