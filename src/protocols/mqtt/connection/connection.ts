// One MQTT connection: the CONNECT handshake, inbound PUBLISH (QoS 0/1/2, topic aliases, receive maximum),
// SUBSCRIBE/UNSUBSCRIBE, and outbound delivery from the session queue (QoS ≥ 1, persistent sessions),
// shared-subscription queues and the in-memory sink (clean QoS 0). Packets are handled strictly in order;
// control packets (CONNECT, SUBSCRIBE, UNSUBSCRIBE) are awaited before the next packet, PUBLISH is routed
// at once and only its acknowledgement waits (in order) for durability, so publishes pipeline.
//
// This class is what the hub and the listener see; the work is done by the parts over a ConnectionContext
// (context.ts): intake.ts (decoding, pump, dispatch), connect.ts, inbound.ts (PUBLISH in, ordered acks),
// subscribe.ts (with retained sends), outbound.ts (deliveries, inflight window, settle), publish-writer.ts
// (PUBLISH out, topic aliases), output.ts (writes, back-pressure, flow control) and closing.ts.
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { StoredMessage } from '../../../broker/message.js'
import type { MqttHub, Session, Subscription } from '../hub/hub.js'
import { Reason } from '../wire/errors.js'
import { teardown } from './closing.js'
import { ConnectionContext } from './context.js'
import { Intake } from './intake.js'

let connectionSeq = 0

export class MqttConnection {
  readonly id = `mqtt-conn-${++connectionSeq}`
  readonly #c: ConnectionContext
  readonly #intake: Intake
  readonly #openedAt = Date.now()
  /** Peer address for the admin API: the TCP socket's, or the one the WebSocket upgrade came from. */
  readonly remoteAddress: string

  constructor(hub: MqttHub, stream: Duplex, remoteAddress?: string) {
    const socket = stream as Partial<Pick<Socket, 'remoteAddress' | 'remotePort'>>
    this.remoteAddress =
      remoteAddress ??
      (socket.remoteAddress === undefined ? 'unknown' : `${socket.remoteAddress}:${socket.remotePort ?? 0}`)
    const c = new ConnectionContext(this, hub, stream)
    this.#c = c
    this.#intake = new Intake(c)
    hub.connections.add(this)
    stream.on('data', (chunk: Buffer) => this.#intake.onData(chunk))
    stream.on('error', () => teardown(c, true))
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
  describe(): {
    clientId: string
    connectedAt: number
    state: string
    protocolVersion: number
    cleanSession: boolean
    keepAliveSeconds: number
    persistentSession: boolean
    subscriptions: number
    inflight: number
    /** QoS ≥ 1 messages of a queue-less (clean) session waiting for inflight room. */
    waiting: number
    user: string | undefined
  } {
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
      waiting: c.outbound.waitingCount,
      user: c.user,
    }
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

  /** Called by a newer connection with the same client id [MQTT-3.1.4-3]. */
  takeover(): void {
    const c = this.#c
    if (c.version === 5 && c.state === 'connected')
      c.output.send({ cmd: 'disconnect', reasonCode: Reason.sessionTakenOver })
    teardown(c, true)
  }

  /** Broker shutdown: no will, session kept as it is. */
  shutdown(): Promise<void> {
    const c = this.#c
    if (c.version === 5 && c.state === 'connected') c.output.send({ cmd: 'disconnect', reasonCode: 0x8b })
    c.will = null
    teardown(c, false)
    return c.closing
  }

  /** Keep-alive (1.5 × the client's interval [MQTT-3.1.2-24]) and the CONNECT deadline, from the hub's tick. */
  checkTimers(now: number): void {
    const c = this.#c
    if (c.state === 'new' && now - this.#openedAt > c.hub.limits.connectTimeoutMs) teardown(c, false)
    else if (c.state === 'connected' && c.keepaliveMs > 0 && now - this.#intake.lastSeen > c.keepaliveMs * 1.5) {
      if (c.version === 5) c.output.send({ cmd: 'disconnect', reasonCode: Reason.keepAliveTimeout })
      teardown(c, true)
    }
  }
}
