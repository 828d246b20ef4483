// A protocol over WebSocket on the HTTP listener's port (MQTT at /mqtt, STOMP at /stomp): one upgrade handler
// per path and server, the listener's connection bound applied to upgrades as to TCP accepts, and the
// cross-origin flag each connection's login needs. The protocol gets a byte stream per WebSocket.
import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createWebSocketStream, WebSocketServer } from 'ws'
import { peerOf } from './connections.js'
import { crossOrigin } from './cross-origin.js'
import { CONNECTIONS_MAX_DEFAULT, type ListenerContext } from './listener.js'

/** What a WebSocket connection is: the upgraded HTTP socket (TLS on HTTPS), its peer, and where the page came from. */
export interface WebSocketPeer {
  socket: Socket
  /** `address:port (WebSocket)`. */
  remoteAddress: string
  /** Sent by a page of another origin: such a client may log in only with credentials it supplies itself. */
  crossOrigin: boolean
}

export interface WebSocketEndpoint {
  path: string
  /** Accepted subprotocols, the preferred first; an upgrade offering none of them is refused. */
  subprotocols: readonly string[]
  /** Largest WebSocket message. */
  maxPayload: number
  /** The listener's connections (TCP and WebSocket alike), bounded by `connectionsMax`. */
  connections: { readonly size: number }
  connectionsMax?: number | undefined
  open(stream: Duplex, peer: WebSocketPeer): void
}

/** Serves `endpoint` on one HTTP or HTTPS server; other upgrade paths are left to other handlers. */
export function serveWebSocket(httpServer: HttpServer | HttpsServer, endpoint: WebSocketEndpoint): { close(): void } {
  const connectionsMax = endpoint.connectionsMax ?? CONNECTIONS_MAX_DEFAULT
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: endpoint.maxPayload,
    handleProtocols: (protocols) => endpoint.subprotocols.find((p) => protocols.has(p)) ?? false,
  })
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = (request.url ?? '/').split('?')[0]
    if (pathname !== endpoint.path) return
    if (endpoint.connections.size >= connectionsMax) {
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
      endpoint.open(stream, {
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

/**
 * Serves `endpoint` on the started HTTP listener's HTTP and HTTPS servers (those that exist) and adds their
 * ws:// and wss:// URLs to `urls`; returns the handlers to close.
 */
export function serveWebSocketOnHttpListener(
  ctx: ListenerContext,
  endpoint: WebSocketEndpoint,
  urls: string[],
): Array<{ close(): void }> {
  const served: Array<{ close(): void }> = []
  const http = ctx.started?.get('http')
  for (const [server, scheme] of [
    [http?.httpServer, 'ws'],
    [http?.httpsServer, 'wss'],
  ] as const) {
    if (server === undefined) continue
    served.push(serveWebSocket(server, endpoint))
    const address = server.address()
    if (address !== null && typeof address === 'object')
      urls.push(`${scheme}://${ctx.host}:${address.port}${endpoint.path}`)
  }
  return served
}
