// The MQTT side of the broker: sessions (persistent ones in the catalog as kind 'mqtt-session'), their
// bindings, shared-subscription queues, retained messages, wills, $SYS and the keep-alive tick. A persistent
// session outlives its connection (and a restart). The parts live in session/ and beside this file and share
// a HubState (state.ts); the hub knows a connection only as a HubConnection.
import type { Broker } from '../../../broker/broker.js'
import type { StoredMessage } from '../../../broker/message.js'
import type { Logger } from '../../../util/logger.js'
import { type ConnectionInfo, ConnectionRegistry } from '../../common/connections.js'
import { ProtocolTraffic } from '../../common/metrics.js'
import { countBlockedPublishers } from '../../common/publisher-alarms.js'
import { bind, unbind } from '../session/bindings.js'
import { attachSession, destroySession, loadSessions, saveSession, scheduleExpiry } from '../session/lifecycle.js'
import { RetainedStore } from '../session/retained.js'
import {
  defaultLimits,
  exchange,
  type MqttLimits,
  type Session,
  type Subscription,
  type Will,
} from '../session/session.js'
import { Wills } from '../session/wills.js'
import { type InboundPublish, toBrokerMessage } from '../wire/message.js'
import { type FlowMember, PublisherFlow } from './publisher-flow.js'
import type { HubState } from './state.js'
import { publishSysStats } from './sys-stats.js'

/** A client connection as the hub drives it (the tick, shutdown, flow control, the admin API). */
export interface HubConnection extends FlowMember {
  readonly id: string
  /** CONNECT succeeded and the connection is not closed. */
  readonly connected: boolean
  /** Keep-alive and the CONNECT deadline. */
  checkTimers(now: number): void
  /** Broker shutdown: no will, session kept as it is. */
  shutdown(): Promise<void>
  /** Closed by an administrator (v5: DISCONNECT 0x98 first). */
  closeByAdmin(): void
  /** A resource alarm was raised (true) or cleared: publishers stop being read until it clears. */
  setAlarm(active: boolean): void
  /** Held back by a resource alarm because it publishes. */
  readonly blockedPublisher: boolean
  /** The MQTT state the admin API and tests read. */
  describe(): ConnectionView
  info(): ConnectionInfo
}

/** One connection's MQTT state: client id, protocol level, session, subscriptions, inflight window. */
export interface ConnectionView {
  clientId: string
  connectedAt: number
  state: string
  protocolVersion: number
  cleanSession: boolean
  keepAliveSeconds: number
  persistentSession: boolean
  subscriptions: number
  inflight: number
  /** Payload bytes in flight of a queue-less (clean) session. */
  inflightBytes: number
  /** QoS ≥ 1 messages of a queue-less (clean) session waiting for inflight room. */
  waiting: number
  /** Their payload bytes. */
  waitingBytes: number
  user: string | undefined
}

function routedCount(result: { routed: number }): number {
  return result.routed
}

export class MqttHub {
  readonly broker: Broker
  readonly limits: MqttLimits
  readonly logger: Logger
  readonly retained: RetainedStore
  readonly sessions: Map<string, Session>
  /**
   * Connected sessions whose queue is not open here yet, by queue name: on a cluster another broker may have
   * created it a moment ago (a SUBSCRIBE there just before this CONNECT), and its catalog change arrives later.
   */
  readonly #awaitingQueue = new Map<string, Session>()
  /** Open connections (TCP and WebSocket), including those still in CONNECT. */
  readonly connections: ConnectionRegistry<HubConnection>
  readonly #flow = new PublisherFlow()
  /** Connections whose socket write backlog is over half the limit (they drop QoS 0 at the limit). */
  readonly congested: Set<FlowMember> = this.#flow.congested
  readonly stats = { received: 0, dropped: 0, connectionsTotal: 0 }
  /** The listener's `/metrics` counters (`stats` above feeds `$SYS`). */
  readonly traffic: ProtocolTraffic
  readonly startedAt = Date.now()
  /** The active resource alarms' reason while publishers are held back, else null. */
  alarm: string | null = null
  readonly #state: HubState
  #tick: NodeJS.Timeout | null = null
  #offClaimed: (() => void) | undefined
  #offQueueOpened: (() => void) | undefined
  #sys: NodeJS.Timeout | null = null

  private constructor(
    broker: Broker,
    limits: MqttLimits,
    logger: Logger,
    retained: RetainedStore,
    traffic: ProtocolTraffic,
  ) {
    this.broker = broker
    this.traffic = traffic
    this.limits = limits
    this.logger = logger
    this.retained = retained
    this.connections = new ConnectionRegistry<HubConnection>(
      {
        protocol: 'mqtt',
        id: (c) => c.id,
        isOpen: () => true,
        describe: (c) => c.info(),
        close: (c, reason) => (reason === 'admin' ? c.closeByAdmin() : void c.shutdown()),
      },
      logger,
    )
    this.#state = {
      broker,
      limits,
      logger,
      sessions: new Map(),
      shareMembers: new Map(),
      wills: new Wills((p) => this.publish(p), logger),
      closed: false,
    }
    this.sessions = this.#state.sessions
  }

  static async open(
    broker: Broker,
    logger: Logger,
    limits: Partial<MqttLimits> = {},
    traffic = new ProtocolTraffic('mqtt'),
  ): Promise<MqttHub> {
    const full = { ...defaultLimits, ...limits }
    const retained = await RetainedStore.open(broker, full)
    const hub = new MqttHub(broker, full, logger, retained, traffic)
    await loadSessions(hub.#state)
    hub.#offClaimed = broker.clusterLink.onClaimed('mqtt', (clientId) => {
      void hub.withClient(clientId, async () => hub.#connectedElsewhere(clientId))
    })
    hub.#offQueueOpened = broker.clusterLink.onQueueOpened((name) => {
      const session = hub.#awaitingQueue.get(name)
      hub.#awaitingQueue.delete(name)
      session?.connection?.consumeSession()
    })
    hub.#tick = setInterval(() => hub.#onTick(), 1000)
    hub.#tick.unref()
    if (full.sysIntervalMs > 0) {
      hub.#publishSys()
      hub.#sys = setInterval(() => hub.#publishSys(), full.sysIntervalMs)
      hub.#sys.unref()
    }
    return hub
  }

  get clientsConnected(): number {
    let n = 0
    for (const c of this.connections) if (c.connected) n++
    return n
  }

  // ---- sessions (session/lifecycle.ts) ----

  /** Persists a persistent session's state (no-op for clean sessions). */
  save(session: Session): Promise<void> {
    return saveSession(this.#state, session)
  }

  /** Returns the session for a CONNECT: the existing one (sessionPresent) or a new one. */
  attach(
    clientId: string,
    cleanStart: boolean,
    persistent: boolean,
    expiryS: number,
  ): Promise<{ session: Session; present: boolean }> {
    return attachSession(this.#state, clientId, cleanStart, persistent, expiryS)
  }

  /** Ends a session: bindings, queue, share memberships, catalog entry. */
  destroy(session: Session): Promise<void> {
    return destroySession(this.#state, session)
  }

  /** Arms the session's expiry after its connection went away. */
  scheduleExpiry(session: Session): void {
    scheduleExpiry(this.#state, session)
  }

  readonly #locks = new Map<string, Promise<unknown>>()

  /** Runs session changes of one client id one at a time (takeover, teardown, expiry, subscribe). */
  withClient<T>(clientId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(clientId) ?? Promise.resolve()
    const run = previous.then(work, work)
    const tail = run.catch(() => {})
    this.#locks.set(clientId, tail)
    void tail.then(() => {
      if (this.#locks.get(clientId) === tail) this.#locks.delete(clientId)
    })
    return run
  }

  // ---- subscriptions (session/bindings.ts) ----

  async subscribe(session: Session, sub: Subscription): Promise<{ existed: boolean }> {
    const previous = session.subscriptions.get(sub.filter)
    if (previous !== undefined) await unbind(this.#state, session, previous)
    session.subscriptions.set(sub.filter, sub)
    try {
      await bind(this.#state, session, sub)
    } catch (error) {
      session.subscriptions.delete(sub.filter)
      throw error
    }
    await this.save(session)
    return { existed: previous !== undefined }
  }

  async unsubscribe(session: Session, filter: string): Promise<boolean> {
    const sub = session.subscriptions.get(filter)
    if (sub === undefined) return false
    session.subscriptions.delete(filter)
    await unbind(this.#state, session, sub)
    await this.save(session)
    return true
  }

  // ---- publisher flow control (publisher-flow.ts) ----

  /**
   * Parks a publisher that found subscribers congested. It resumes when every congested socket has drained,
   * or after one flow episode at the latest (then the still congested ones are marked stalled).
   */
  waitForFlow(resume: () => void): void {
    this.#flow.wait(resume)
  }

  decongested(connection: FlowMember): void {
    this.#flow.decongested(connection)
  }

  // ---- resource alarms ----

  /**
   * Raises (reason) or clears (null) the publisher block of the server's resource alarms: connections that
   * publish stop being read and their next PUBLISH waits, unrouted, until it clears; subscribers go on.
   */
  setAlarm(reason: string | null): void {
    if (reason === this.alarm) return
    const changed = (reason === null) !== (this.alarm === null)
    this.alarm = reason
    if (!changed) return
    this.logger.warn({ reason }, reason === null ? 'mqtt publishers unblocked' : 'mqtt publishers blocked')
    for (const connection of this.connections) connection.setAlarm(reason !== null)
  }

  get blockedPublisherCount(): number {
    return countBlockedPublishers(this.connections)
  }

  // ---- publishing ----

  /** Routes a PUBLISH (and updates the retained store); resolves with how many destinations it reached. */
  publish(p: InboundPublish): Promise<number> {
    this.stats.received++
    this.traffic.received(1, p.payload.length)
    try {
      const now = this.broker.now()
      const { routingKey, message } = toBrokerMessage(p, now)
      const retained = p.retain ? this.retained.set(p.topic, message, now) : undefined
      const routed = this.broker.publish(exchange, routingKey, message).then(routedCount)
      // The common case (not retained) adds no promise of its own per message.
      if (retained === undefined) return routed
      return Promise.all([routed, retained]).then(([count]) => count)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Sends the retained messages matching filter through deliver. */
  retainedFor(filter: string): Array<[string, StoredMessage]> {
    return this.retained.match(filter)
  }

  // ---- wills (wills.ts) ----

  /** Publishes a will now or after its delay (bounded by the session's expiry); reconnecting cancels it. */
  scheduleWill(clientId: string, will: Will, sessionExpiryS: number): void {
    this.#state.wills.schedule(clientId, will, sessionExpiryS)
  }

  // ---- housekeeping ----

  #onTick(): void {
    const now = Date.now()
    for (const connection of this.connections) connection.checkTimers(now)
  }

  #publishSys(): void {
    if (this.#state.closed) return
    publishSysStats(this)
  }

  /**
   * The client connected through another broker of the cluster, which has its session now
   * [MQTT-3.1.4-3]: the connection here goes as taken over. A persistent session is forgotten here, not
   * ended (its queue and catalog entry are the other broker's to use), and its will is not published, since
   * the session goes on; a clean one ends with its connection.
   */
  #connectedElsewhere(clientId: string): void {
    const session = this.sessions.get(clientId)
    if (session === undefined) return
    const connection = session.connection
    if (session.persistent) {
      this.sessions.delete(clientId)
      if (session.expiryTimer) clearTimeout(session.expiryTimer)
      session.expiryTimer = null
    }
    connection?.takeover()
    if (session.persistent) this.#state.wills.cancel(clientId)
  }

  /**
   * Whether the session's queue is open here; if not, and another broker of a cluster may have created it, the
   * session's connection is told to consume once it opens.
   */
  sessionQueueOpen(session: Session): boolean {
    if (this.broker.getQueue(session.queueName) !== undefined) {
      this.#awaitingQueue.delete(session.queueName)
      return true
    }
    if (this.broker.cluster !== undefined && session.subscriptions.size > 0)
      this.#awaitingQueue.set(session.queueName, session)
    return false
  }

  /** The session's connection went away: its leases on the session queue go back, and it waits for it no more. */
  releaseSessionQueue(session: Session, connectionId: string): void {
    this.broker.getQueue(session.queueName)?.releaseOwner(connectionId)
    if (this.#awaitingQueue.get(session.queueName) === session) this.#awaitingQueue.delete(session.queueName)
  }

  async close(): Promise<void> {
    this.#offClaimed?.()
    this.#offQueueOpened?.()
    this.#state.closed = true
    if (this.#tick) clearInterval(this.#tick)
    if (this.#sys) clearInterval(this.#sys)
    this.#flow.release()
    this.#state.wills.close()
    for (const session of this.sessions.values()) if (session.expiryTimer) clearTimeout(session.expiryTimer)
    await Promise.all([...this.connections].map((connection) => connection.shutdown()))
    await Promise.all([...this.#locks.values()])
  }
}
