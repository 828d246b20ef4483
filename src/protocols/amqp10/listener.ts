// The AMQP 1.0 listener: TCP, and TLS when configured. Each socket is one Amqp10Connection; the registry
// lists them for the admin API and closes them by id or at shutdown.
import type { Socket } from 'node:net'
import type { ConnectionRegistry } from '../common/connections.js'
import type { Listener, ListenerContext } from '../common/listener.js'
import { trafficOf } from '../common/metrics.js'
import { servedRegistry, servePorts } from '../common/served-ports.js'
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
  const registry = servedRegistry<Amqp10Connection>('amqp10', ctx.logger)
  const accept = (socket: Socket) => {
    registry.add(new Amqp10Connection(host, socket, registry, (c) => registry.delete(c)))
  }
  const served = await servePorts(ctx, registry, { schemes: ['amqp', 'amqps'], accept, listen: ctx.shared !== true })
  return {
    name: 'amqp10',
    port: served.port,
    tlsPort: served.tls?.port,
    urls: served.urls,
    connections: registry,
    adopt(socket) {
      socket.on('error', () => {})
      accept(socket)
    },
    close: () => served.close(),
  }
}
