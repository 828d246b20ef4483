// What a listener of connection objects (AMQP 1.0, STOMP) builds the same way: the registry whose closes use
// the connection's own goodbye, the TCP and TLS accept loops over it, resource-alarm following, the URLs, and the
// close sequence (alarms unfollowed, other endpoints closed, every connection closed and awaited, then the ports).
import type net from 'node:net'
import type { Logger } from '../../util/logger.js'
import type { TcpListener } from '../../util/net.js'
import { type ConnectionInfo, ConnectionRegistry } from './connections.js'
import { acceptTcp, acceptTls, type ListenerContext, listenerPort } from './listener.js'
import { followAlarms } from './publisher-alarms.js'

/** A connection object as the kit drives it. */
export interface ServedConnection {
  readonly id: string
  isOpen(): boolean
  describe(): ConnectionInfo
  /** Closes the connection in its protocol's words (an AMQP close, a STOMP ERROR) with this text. */
  close(text: string): void
  /** Resolves once its transport closed and it cleaned up. */
  readonly closed: Promise<void>
}

/** The registry of a listener's connections: closed by an administrator or at shutdown with these texts. */
export function servedRegistry<C extends ServedConnection>(protocol: string, logger: Logger): ConnectionRegistry<C> {
  return new ConnectionRegistry<C>(
    {
      protocol,
      id: (c) => c.id,
      isOpen: (c) => c.isOpen(),
      describe: (c) => c.describe(),
      close: (c, reason) =>
        c.close(reason === 'admin' ? 'connection closed by an administrator' : 'the broker is shutting down'),
    },
    logger,
  )
}

export interface ServeOptions {
  /** URL schemes of the plaintext and TLS ports (`stomp`, `stomp+ssl`). */
  schemes: [plain: string, tls: string]
  /** Takes an accepted socket (plain, or TLS after its handshake); socket errors are already handled. */
  accept(socket: net.Socket): void
  /** Called with the alarms' reason now and after every change (null: none); absent: alarms are not followed. */
  onAlarm?(reason: string | null): void
  /** False: no ports of its own (connections arrive another way, as AMQP 1.0's through the AMQP port). */
  listen?: boolean
}

export interface ServedPorts {
  tcp: TcpListener | undefined
  tls: TcpListener | undefined
  /** The listener's `port` (plaintext, else TLS; the context's port when it has none of its own). */
  port: number
  /** For the start banner; a listener may add its own (WebSocket). */
  urls: string[]
  /** Unfollows alarms, closes `others` (WebSocket endpoints), closes and awaits every connection, then the ports. */
  close(others?: Array<{ close(): void }>): Promise<void>
}

export async function servePorts<C extends ServedConnection>(
  ctx: ListenerContext,
  registry: ConnectionRegistry<C>,
  options: ServeOptions,
): Promise<ServedPorts> {
  const unsubscribe = options.onAlarm === undefined ? () => {} : followAlarms(ctx.alarms, options.onAlarm)
  const accept = (socket: net.Socket) => {
    socket.on('error', () => {}) // the connection's own handler closes it; never crash on a reset
    options.accept(socket)
  }
  const listen = options.listen !== false
  let tcp: TcpListener | undefined
  let tls: TcpListener | undefined
  try {
    tcp = listen ? await acceptTcp(ctx, registry, accept) : undefined
    tls = listen ? await acceptTls(ctx, registry, accept) : undefined
  } catch (error) {
    unsubscribe()
    await tcp?.close()
    throw error
  }
  const urls: string[] = []
  if (tcp !== undefined) urls.push(`${options.schemes[0]}://${ctx.host}:${tcp.port}`)
  if (tls !== undefined) urls.push(`${options.schemes[1]}://${ctx.host}:${tls.port}`)
  const port = listen
    ? listenerPort(tcp, tls)
    : ctx.plaintext === false && ctx.tls !== undefined
      ? ctx.tls.port
      : ctx.port
  return {
    tcp,
    tls,
    port,
    urls,
    async close(others = []) {
      unsubscribe()
      for (const other of others) other.close()
      const connections = [...registry]
      registry.closeAll('shutdown')
      await Promise.all(connections.map((c) => c.closed))
      await tcp?.close()
      await tls?.close()
    },
  }
}
