// One MQTT connection: CONNECT, PUBLISH in (QoS 0/1/2, aliases, receive maximum), SUBSCRIBE, deliveries out.
// Packets are handled strictly in order; control packets are awaited before the next one, PUBLISH is routed
// at once and only its acknowledgement waits (in order) for durability, so publishes pipeline. MqttConnection
// builds the parts (see ../README.md) and is what the hub, sessions and listener see.
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { StoredMessage } from '../../../broker/message.js'
import type { Access } from '../../../broker/security/authorizer.js'
import { type ConnectionInfo, connectionInfo } from '../../common/connections.js'
import { isTls } from '../../common/tls.js'
import type { ConnectionView, HubConnection, MqttHub } from '../hub/hub.js'
import type { Session, SessionOwner, Subscription, Will } from '../session/session.js'
import { Reason } from '../wire/errors.js'
import { teardown } from './closing.js'
import type { ConnectionContext } from './context.js'
import { InboundPublishes } from './inbound.js'
import { Intake } from './intake.js'
import { OutboundDeliveries } from './outbound.js'
import { Output } from './output.js'
import { PublishWriter } from './publish-writer.js'
import type { ConnectionState } from './state.js'

class Context implements ConnectionContext {
  state: ConnectionState = 'new'
  version = 4
  session: Session | null = null
  clientId = ''
  cleanStart = true
  access: Access | null = null
  will: Will | null = null
  keepaliveMs = 0
  refused = false
  closing: Promise<void> = Promise.resolve()
  readonly output: Output
  readonly publishWriter: PublishWriter
  readonly inbound: InboundPublishes
  readonly outbound: OutboundDeliveries

  constructor(
    readonly connection: MqttConnection,
    readonly hub: MqttHub,
    readonly stream: Duplex,
    readonly socket: Socket,
    readonly crossOrigin: boolean,
  ) {
    this.output = new Output(this)
    this.publishWriter = new PublishWriter(this)
    this.inbound = new InboundPublishes(this)
    this.outbound = new OutboundDeliveries(this)
  }

  get user(): string | undefined {
    return this.access?.principal.name
  }
}

const protocolVersionText = (v: number) => (v === 5 ? '5.0' : v === 4 ? '3.1.1' : '3.1')

let connectionSeq = 0

/** Where a connection's bytes come from: the stream MQTT is read from, and the socket under it. */
export interface MqttTransport {
  /** The TCP or TLS socket; for MQTT over WebSocket, the socket the upgrade came on. */
  socket: Socket
  /** The peer as the admin API shows it; defaults to the socket's address:port. */
  remoteAddress?: string
  /** A WebSocket upgrade sent by a page of another origin (see common/cross-origin.ts). */
  crossOrigin?: boolean
}

export class MqttConnection implements HubConnection, SessionOwner {
  readonly id = `mqtt-conn-${++connectionSeq}`
  readonly #c: Context
  readonly #intake: Intake
  readonly #openedAt = Date.now()
  /** Peer address for the admin API: the TCP socket's, or the one the WebSocket upgrade came from. */
  readonly remoteAddress: string

  constructor(hub: MqttHub, stream: Duplex, transport: MqttTransport) {
    const socket = transport.socket
    this.remoteAddress =
      transport.remoteAddress ??
      (socket.remoteAddress === undefined ? 'unknown' : `${socket.remoteAddress}:${socket.remotePort ?? 0}`)
    const c = new Context(this, hub, stream, socket, transport.crossOrigin === true)
    this.#c = c
    this.#intake = new Intake(c)
    hub.connections.add(this)
    stream.on('data', (chunk: Buffer) => this.#intake.onData(chunk))
    stream.on('error', (error: NodeJS.ErrnoException) => {
      hub.connections.closing(this, `socket error: ${error.code ?? error.message}`)
      teardown(c, true)
    })
    stream.on('close', () => teardown(c, true))
    stream.on('end', () => teardown(c, true))
  }

  get connected(): boolean {
    return this.#c.state === 'connected'
  }

  /** The session this connection is attached to (set once CONNECT succeeded). */
  get session(): Session | null {
    return this.#c.session
  }

  /** What the admin API shows of this connection (client id, protocol level, session, subscriptions). */
  describe(): ConnectionView {
    const c = this.#c
    return {
      clientId: c.clientId,
      connectedAt: this.#openedAt,
      state: c.state,
      protocolVersion: c.version,
      cleanSession: c.cleanStart,
      keepAliveSeconds: c.keepaliveMs / 1000,
      persistentSession: c.session?.persistent ?? false,
      subscriptions: c.session?.subscriptions.size ?? 0,
      inflight: c.outbound.inflightCount,
      inflightBytes: c.outbound.inflightBytes,
      waiting: c.outbound.waitingCount,
      waitingBytes: c.outbound.waitingBytes,
      user: c.user,
    }
  }

  /** The admin API's view: the common fields, and the MQTT state in details. */
  info(): ConnectionInfo {
    const d = this.describe()
    // MQTT has no client-software field; the client id is what identifies a client.
    const clientId = d.clientId === '' ? undefined : d.clientId
    return connectionInfo(
      {
        id: this.id,
        protocol: 'mqtt',
        remoteAddress: this.remoteAddress,
        connectedAt: d.connectedAt,
        tls: isTls(this.#c.socket),
        blockedByAlarm: this.blockedPublisher,
        details: {
          clientId: d.clientId,
          state: d.state,
          protocolVersion: protocolVersionText(d.protocolVersion),
          cleanSession: d.cleanSession,
          persistentSession: d.persistentSession,
          keepAliveSeconds: d.keepAliveSeconds,
          subscriptions: d.subscriptions,
          inflight: d.inflight,
          waiting: d.waiting,
          waitingBytes: d.waitingBytes,
          // Who a resource alarm holds back (the admin API lists connections; /alarms only counts them).
          blockedByAlarm: this.blockedPublisher,
        },
      },
      { clientId, clientName: clientId, user: d.user },
    )
  }

  /**
   * Closed by an administrator: v5 clients get DISCONNECT 0x98 (Administrative action) first. The will is
   * published, as for any server-side close that is not a normal DISCONNECT [MQTT-3.1.2-8].
   */
  closeByAdmin(): void {
    const c = this.#c
    if (c.version === 5 && c.state === 'connected')
      c.output.send({ cmd: 'disconnect', reasonCode: Reason.administrativeAction })
    teardown(c, true)
  }

  /** Starts consuming the session queue (when it exists and we are connected). */
  consumeSession(): void {
    this.#c.outbound.consumeSession()
  }

  consumeShared(sub: Subscription): void {
    this.#c.outbound.consumeShared(sub)
  }

  stopShared(queue: string): void {
    this.#c.outbound.stopShared(queue)
  }

  /** QoS 0 message from the in-memory sink (clean sessions). */
  deliverSink(message: StoredMessage): void {
    this.#c.outbound.deliverSink(message)
  }

  /** The hub gave up waiting for us (flowStallMs): stop pausing publishers until we catch up. */
  markStalled(): void {
    this.#c.output.markStalled()
  }

  /** A resource alarm was raised (true) or cleared: publishers stop being read until it clears. */
  setAlarm(active: boolean): void {
    this.#c.output.setAlarm(active)
    // The client's PINGREQs wait unread in the socket meanwhile: its keep-alive counts from the release.
    if (!active) this.#intake.lastSeen = Date.now()
  }

  /** Held back by a resource alarm because it publishes. */
  get blockedPublisher(): boolean {
    return this.#c.output.blockedPublisher
  }

  /** Called by a newer connection with the same client id [MQTT-3.1.4-3]. */
  takeover(): void {
    const c = this.#c
    c.hub.connections.closing(this, 'session taken over by a newer connection with the same client id')
    if (c.version === 5 && c.state === 'connected')
      c.output.send({ cmd: 'disconnect', reasonCode: Reason.sessionTakenOver })
    teardown(c, true)
  }

  /** Broker shutdown: no will, session kept as it is. */
  shutdown(): Promise<void> {
    const c = this.#c
    c.hub.connections.closing(this, 'broker shutting down')
    if (c.version === 5 && c.state === 'connected') c.output.send({ cmd: 'disconnect', reasonCode: 0x8b })
    c.will = null
    teardown(c, false)
    return c.closing
  }

  /** Keep-alive (1.5 × the client's interval [MQTT-3.1.2-24]) and the CONNECT deadline, from the hub's tick. */
  checkTimers(now: number): void {
    const c = this.#c
    if (c.state === 'new' && now - this.#openedAt > c.hub.limits.connectTimeoutMs) {
      c.hub.connections.closing(this, `no CONNECT within ${c.hub.limits.connectTimeoutMs} ms`)
      teardown(c, false)
    } else if (
      c.state === 'connected' &&
      c.keepaliveMs > 0 &&
      !c.output.blockedPublisher && // we are the ones not reading it
      now - this.#intake.lastSeen > c.keepaliveMs * 1.5
    ) {
      c.hub.connections.protocolError(this, `keep-alive timeout: nothing received for 1.5 × ${c.keepaliveMs / 1000} s`)
      if (c.version === 5) c.output.send({ cmd: 'disconnect', reasonCode: Reason.keepAliveTimeout })
      teardown(c, true)
    }
  }
}
