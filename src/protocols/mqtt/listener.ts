// The MQTT listener: TCP (1883 by default), TLS (8883, when TLS is configured) and MQTT over WebSocket (path
// /mqtt on the HTTP port, and on the HTTPS port as WSS). All feed the same connection handler; the hub holds
// everything that outlives a connection.
import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { ConnectionRegistry } from '../common/connections.js'
import {
  acceptTcp,
  acceptTls,
  CONNECTIONS_MAX_DEFAULT,
  type Listener,
  type ListenerContext,
  listenerPort,
  type RetainedMessage,
} from '../common/listener.js'
import { trafficOf } from '../common/metrics.js'
import { followAlarms } from '../common/publisher-alarms.js'
import { serveWebSocket, serveWebSocketOnHttpListener, type WebSocketEndpoint } from '../common/websocket.js'
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
  const hub = await MqttHub.open(ctx.broker, ctx.logger, ctx.mqttLimits, trafficOf(ctx, 'mqtt'))
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
    await tcp?.close()
    throw error
  })
  const urls: string[] = []
  if (tcp !== undefined) urls.push(`mqtt://${ctx.host}:${tcp.port}`)
  if (tls !== undefined) urls.push(`mqtts://${ctx.host}:${tls.port}`)
  const webSockets = serveWebSocketOnHttpListener(ctx, webSocketEndpoint(hub, '/mqtt', ctx.connectionsMax), urls)
  return {
    name: 'mqtt',
    port: listenerPort(tcp, tls),
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
    retainedMessages() {
      return hub.retained.list()
    },
    internalName,
    async close() {
      unsubscribe()
      for (const ws of webSockets) ws.close()
      // Connections first: a listening socket closes only once its connections have.
      await hub.close()
      await tcp?.close()
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
  return serveWebSocket(httpServer, webSocketEndpoint(hub, path, connectionsMax))
}

/** MQTT's WebSocket endpoint: binary frames, subprotocol "mqtt" ("mqttv3.1" too), the hub's connection bound. */
function webSocketEndpoint(hub: MqttHub, path: string, connectionsMax: number | undefined): WebSocketEndpoint {
  return {
    path,
    subprotocols: ['mqtt', 'mqttv3.1'],
    maxPayload: hub.limits.maxPacketBytes + 8,
    connections: hub.connections,
    connectionsMax,
    open: (stream, peer) => handleMqttStream(hub, stream, peer),
  }
}
