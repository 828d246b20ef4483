// The AMQP 1.0 listener: TCP, and TLS when configured. Each socket is one Amqp10Connection; the registry
// lists them for the admin API and closes them by id or at shutdown.
import type { Socket } from 'node:net'
import { ConnectionRegistry } from '../common/connections.js'
import { acceptTcp, acceptTls, type Listener, type ListenerContext, listenerPort } from '../common/listener.js'
import { trafficOf } from '../common/metrics.js'
import { Amqp10Connection, type Amqp10Host, type Amqp10Limits, defaultAmqp10Limits } from './connection.js'

export interface Amqp10ListenerContext extends ListenerContext {
  amqp10Limits?: Partial<Amqp10Limits>
  /** Attaching to a queue that does not exist creates it (default true, as ActiveMQ and Artemis do). */
  autoCreateQueues?: boolean
  /**
   * No port of its own: AMQP 1.0 connections arrive through `adopt` from the AMQP 0-9-1 listener, which
   * sniffs the protocol header on the ports the two share (the server runs it this way).
   */
  shared?: boolean
}

export interface Amqp10Listener extends Listener {
  readonly tlsPort: number | undefined
  readonly connections: ConnectionRegistry<Amqp10Connection>
  adopt(socket: Socket): void
}

/** AMQP 1.0 on the AMQP 0-9-1 ports, as the server runs it. */
export function startSharedAmqp10Listener(ctx: Amqp10ListenerContext): Promise<Amqp10Listener> {
  return startAmqp10Listener({ ...ctx, shared: true })
}

export async function startAmqp10Listener(ctx: Amqp10ListenerContext): Promise<Amqp10Listener> {
  const host: Amqp10Host = {
    broker: ctx.broker,
    logger: ctx.logger,
    limits: { ...defaultAmqp10Limits, ...ctx.amqp10Limits },
    traffic: trafficOf(ctx, 'amqp10'),
    autoCreateQueues: ctx.autoCreateQueues ?? true,
  }
  const registry = new ConnectionRegistry<Amqp10Connection>(
    {
      protocol: 'amqp10',
      id: (c) => c.id,
      isOpen: (c) => c.isOpen(),
      describe: (c) => c.describe(),
      close: (c, reason) =>
        c.close(reason === 'admin' ? 'connection closed by an administrator' : 'the broker is shutting down'),
    },
    ctx.logger,
  )
  const accept = (socket: Socket): Amqp10Connection => {
    socket.on('error', () => {})
    const connection = new Amqp10Connection(host, socket, registry, (c) => registry.delete(c))
    registry.add(connection)
    return connection
  }
  const shared = ctx.shared === true
  const tcp = shared ? undefined : await acceptTcp(ctx, registry, accept)
  const tls = shared
    ? undefined
    : await acceptTls(ctx, registry, accept).catch(async (error: unknown) => {
        await tcp?.close()
        throw error
      })
  const urls: string[] = []
  if (tcp !== undefined) urls.push(`amqp://${ctx.host}:${tcp.port}`)
  if (tls !== undefined) urls.push(`amqps://${ctx.host}:${tls.port}`)
  return {
    name: 'amqp10',
    port: shared
      ? ctx.plaintext === false && ctx.tls !== undefined
        ? ctx.tls.port
        : ctx.port
      : listenerPort(tcp, tls),
    tlsPort: tls?.port,
    urls,
    connections: registry,
    adopt(socket) {
      accept(socket)
    },
    async close() {
      const connections = [...registry]
      registry.closeAll('shutdown')
      await Promise.all(connections.map((c) => c.closed))
      await tcp?.close()
      await tls?.close()
    },
  }
}
