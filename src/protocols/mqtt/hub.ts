// The MQTT side of the broker: sessions (persistent ones in the catalog as kind 'mqtt-session'), their
// bindings on amq.topic, shared-subscription queues, retained messages, wills, $SYS statistics and the
// one coarse tick that runs keep-alive checks. Connections come and go; a persistent session outlives
// its connection (and a restart): its subscriptions are durable bindings to its durable queue.
import { createHash } from 'node:crypto'
import type { Broker } from '../../broker/broker.js'
import { MqttTrie, parseSharedSubscription } from '../../broker/routing/index.js'
import type { StoredMessage } from '../../broker/types.js'
import type { Logger } from '../../util/logger.js'
import type { MqttConnection } from './connection.js'
import { type InboundPublish, toBrokerMessage } from './message.js'
import { RetainedStore } from './retained.js'

export interface MqttLimits {
  /** Largest packet accepted and advertised (v5 Maximum Packet Size). */
  maxPacketBytes: number
  maxTopicBytes: number
  maxSubscriptionsPerClient: number
  /** Unacked QoS 1/2 messages per direction per connection (v5 Receive Maximum). */
  maxInflight: number
  /** Messages kept for a session (drop-head beyond). */
  maxQueuedPerSession: number
  maxConnections: number
  /** Socket write backlog beyond which QoS 0 messages are dropped and reading pauses. */
  maxWriteBufferBytes: number
  /** Client → server topic aliases per connection. */
  topicAliasMax: number
  maxRetained: number
  maxClientIdBytes: number
  /** Period of $SYS statistics, ms (0 disables). */
  sysIntervalMs: number
  /** A connection must send CONNECT within this long. */
  connectTimeoutMs: number
}

export const defaultLimits: MqttLimits = {
  maxPacketBytes: 1024 * 1024,
  maxTopicBytes: 4096,
  maxSubscriptionsPerClient: 1000,
  maxInflight: 128,
  maxQueuedPerSession: 100_000,
  maxConnections: 100_000,
  maxWriteBufferBytes: 1024 * 1024,
  topicAliasMax: 64,
  maxRetained: 100_000,
  maxClientIdBytes: 1024,
  sysIntervalMs: 10_000,
  connectTimeoutMs: 10_000,
}

export const exchange = 'amq.topic'
/** Longest a publisher is paused for congested subscribers, per episode. */
const flowStallMs = 500
const sessionKind = 'mqtt-session'
/** Session Expiry Interval meaning "never" [MQTT-3.1.2-11]. */
export const expiryNever = 0xffffffff

export interface Subscription {
  /** As subscribed, `$share/...` included. */
  filter: string
  /** The topic filter bound on amq.topic. */
  topicFilter: string
  group: string | null
  qos: 0 | 1 | 2
  noLocal: boolean
  retainAsPublished: boolean
  retainHandling: number
  id: number | undefined
}

interface SessionRecord {
  expiryS: number
  subscriptions: Subscription[]
  inRel: number[]
  outRel: number[]
  disconnectedAt: number | null
  /** Packet ids of deliveries in flight, by delivery key (absent in records written before they were kept). */
  packetIds?: Array<[string, number]>
}

export interface Will {
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
  properties: InboundPublish['properties']
  delayS: number
}

export class Session {
  readonly clientId: string
  readonly queueName: string
  readonly sinkId: string
  /** Kept after its connection closes (v3 clean session 0, v5 Session Expiry > 0). */
  persistent: boolean
  /** Fixed at creation: a persistent session's subscriptions all go through its durable queue. */
  readonly durableQueue: boolean
  expiryS: number
  readonly subscriptions = new Map<string, Subscription>()
  /** Non-shared subscriptions, to find the ones a delivered message matched. */
  readonly trie = new MqttTrie<Subscription>()
  /** Inbound QoS 2 packet ids awaiting PUBREL: a retried PUBLISH with one of them is not forwarded again. */
  readonly inRel = new Set<number>()
  /** Outbound QoS 2 packet ids released (PUBREL sent) and awaiting PUBCOMP. */
  readonly outRel = new Set<number>()
  /** Packet id of each delivery in flight, so a resend after reconnect keeps its id [MQTT-4.4.0-1]. */
  readonly packetIds = new Map<string, number>()
  readonly idsInUse = new Set<number>()
  /** Deliveries whose PUBLISH went out before a restart (their ids were restored): resent with DUP. */
  readonly sentBeforeRestart = new Set<string>()
  connection: MqttConnection | null = null
  destroyed = false
  disconnectedAt: number | null = null
  expiryTimer: NodeJS.Timeout | null = null
  sinkRegistered = false

  constructor(clientId: string, persistent: boolean, expiryS: number) {
    this.clientId = clientId
    this.persistent = persistent
    this.durableQueue = persistent
    this.expiryS = expiryS
    this.queueName = `mqtt.session.${safeName(clientId)}`
    this.sinkId = `mqtt:${clientId}`
  }

  /**
   * Whether messages for this subscription go through the session queue (else the in-memory sink). Only a
   * session that outlives its connection needs one; a clean session's QoS 1/2 messages wait in memory.
   */
  queued(_sub: Subscription): boolean {
    return this.durableQueue
  }
}

/** Queue-name-safe form of an arbitrary string: itself when short, else a hash. */
function safeName(text: string): string {
  return Buffer.byteLength(text) <= 180 ? text : `#${createHash('sha256').update(text).digest('hex')}`
}

function routedCount(result: { routed: number }): number {
  return result.routed
}

export function sharedQueueName(group: string, topicFilter: string): string {
  return `mqtt.share.${safeName(`${group}/${topicFilter}`)}`
}

export class MqttHub {
  readonly broker: Broker
  readonly limits: MqttLimits
  readonly logger: Logger
  readonly retained: RetainedStore
  readonly sessions = new Map<string, Session>()
  readonly connections = new Set<MqttConnection>()
  /** Members (client ids) of each shared-subscription queue. */
  readonly #shareMembers = new Map<string, Set<string>>()
  readonly #wills = new Map<string, NodeJS.Timeout>()
  /** Connections whose socket write backlog is over half the limit (they drop QoS 0 at the limit). */
  readonly congested = new Set<MqttConnection>()
  /** Publishers paused until the congested set empties (or flowStallMs passes). */
  #flowWaiters: Array<() => void> = []
  #flowTimer: NodeJS.Timeout | null = null
  readonly stats = { received: 0, sent: 0, dropped: 0, connectionsTotal: 0 }
  readonly startedAt = Date.now()
  #tick: NodeJS.Timeout | null = null
  #sys: NodeJS.Timeout | null = null
  #closed = false

  private constructor(broker: Broker, limits: MqttLimits, logger: Logger, retained: RetainedStore) {
    this.broker = broker
    this.limits = limits
    this.logger = logger
    this.retained = retained
  }

  static async open(broker: Broker, logger: Logger, limits: Partial<MqttLimits> = {}): Promise<MqttHub> {
    const full = { ...defaultLimits, ...limits }
    const retained = await RetainedStore.open(broker, full.maxRetained)
    const hub = new MqttHub(broker, full, logger, retained)
    await hub.#load()
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

  // ---- sessions ----

  async #load(): Promise<void> {
    const now = this.broker.now()
    for (const [clientId, record] of this.broker.storage.metadata.list<SessionRecord>(sessionKind)) {
      const session = new Session(clientId, true, record.expiryS)
      for (const sub of record.subscriptions) {
        session.subscriptions.set(sub.filter, sub)
        if (sub.group === null) session.trie.add(sub.topicFilter, sub)
        else this.#members(sharedQueueName(sub.group, sub.topicFilter)).add(clientId)
      }
      for (const id of record.inRel) session.inRel.add(id)
      for (const id of record.outRel) {
        session.outRel.add(id)
        session.idsInUse.add(id)
      }
      for (const [key, id] of record.packetIds ?? []) {
        // Keep only ids of deliveries still unacknowledged: the others will never be resent.
        const [queue, partition, offset] = key.split('\u0000')
        if (this.broker.getQueue(queue ?? '')?.isAcked(Number(partition), Number(offset)) !== false) continue
        session.packetIds.set(key, id)
        session.idsInUse.add(id)
        session.sentBeforeRestart.add(key)
      }
      // A session that was connected when the broker stopped counts as disconnected now.
      session.disconnectedAt = record.disconnectedAt ?? now
      this.sessions.set(clientId, session)
      this.scheduleExpiry(session)
    }
    // Queues of sessions or share groups that no longer exist (crash between the steps of a delete).
    const sessionQueues = new Set([...this.sessions.values()].map((s) => s.queueName))
    for (const queue of this.broker.listQueues()) {
      const orphanSession = queue.name.startsWith('mqtt.session.') && !sessionQueues.has(queue.name)
      const orphanShare = queue.name.startsWith('mqtt.share.') && !this.#shareMembers.has(queue.name)
      if (orphanSession || orphanShare) await this.broker.deleteQueue(queue.name)
    }
  }

  #record(session: Session): SessionRecord {
    return {
      expiryS: session.expiryS,
      subscriptions: [...session.subscriptions.values()],
      inRel: [...session.inRel],
      outRel: [...session.outRel],
      disconnectedAt: session.disconnectedAt,
      packetIds: [...session.packetIds],
    }
  }

  /** Persists a persistent session's state (no-op for clean sessions). */
  save(session: Session): Promise<void> {
    if (!session.persistent || this.sessions.get(session.clientId) !== session) return Promise.resolve()
    return this.broker.storage.metadata.put(sessionKind, session.clientId, this.#record(session))
  }

  /** Returns the session for a CONNECT: the existing one (sessionPresent) or a new one. */
  async attach(
    clientId: string,
    cleanStart: boolean,
    persistent: boolean,
    expiryS: number,
  ): Promise<{ session: Session; present: boolean }> {
    // Resuming the session cancels a delayed will [MQTT-3.1.3-9]; Clean Start ends the session, which
    // publishes it [MQTT-3.1.2-8].
    if (cleanStart) this.#fireWill(clientId)
    else this.#cancelWill(clientId)
    const existing = this.sessions.get(clientId)
    if (existing !== undefined && cleanStart) await this.destroy(existing)
    let kept = cleanStart ? undefined : existing
    // A clean session taken over by a persistent one has in-memory bindings only: start it afresh.
    if (kept !== undefined && persistent && !kept.durableQueue) {
      await this.destroy(kept)
      kept = undefined
    }
    if (kept !== undefined) {
      if (kept.expiryTimer) clearTimeout(kept.expiryTimer)
      kept.expiryTimer = null
      const wasPersistent = kept.persistent
      kept.persistent = persistent
      kept.expiryS = expiryS
      kept.disconnectedAt = null
      if (wasPersistent && !persistent) await this.broker.storage.metadata.delete(sessionKind, kept.clientId)
      await this.save(kept)
      return { session: kept, present: true }
    }
    const session = new Session(clientId, persistent, expiryS)
    this.sessions.set(clientId, session)
    await this.save(session)
    return { session, present: false }
  }

  /** Ends a session: bindings, queue, share memberships, catalog entry. */
  async destroy(session: Session): Promise<void> {
    if (session.destroyed) return
    session.destroyed = true
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId)
    if (session.expiryTimer) clearTimeout(session.expiryTimer)
    session.expiryTimer = null
    for (const sub of session.subscriptions.values()) if (sub.group !== null) await this.#leaveShare(session, sub)
    session.subscriptions.clear()
    if (session.sinkRegistered) {
      session.sinkRegistered = false
      await this.broker.removeSink(session.sinkId)
    }
    await this.broker.deleteQueue(session.queueName)
    if (session.durableQueue) await this.broker.storage.metadata.delete(sessionKind, session.clientId)
  }

  /** Arms the session's expiry after its connection went away. */
  scheduleExpiry(session: Session): void {
    if (session.expiryS === expiryNever || session.connection !== null) return
    const at = (session.disconnectedAt ?? this.broker.now()) + session.expiryS * 1000
    const delay = Math.max(0, at - this.broker.now())
    session.expiryTimer = setTimeout(
      () => {
        session.expiryTimer = null
        if (session.connection !== null || this.#closed) return
        // Timers cap at 2^31 ms (~24.8 days): a longer expiry re-arms until it is really due.
        if (at > this.broker.now()) return this.scheduleExpiry(session)
        this.#fireWill(session.clientId)
        this.destroy(session).catch((error) =>
          this.logger.warn({ err: error, clientId: session.clientId }, 'session expiry failed'),
        )
      },
      Math.min(delay, 0x7fffffff),
    )
    session.expiryTimer.unref()
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

  // ---- subscriptions ----

  async subscribe(session: Session, sub: Subscription): Promise<{ existed: boolean }> {
    const previous = session.subscriptions.get(sub.filter)
    if (previous !== undefined) await this.#unbind(session, previous)
    session.subscriptions.set(sub.filter, sub)
    try {
      await this.#bind(session, sub)
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
    await this.#unbind(session, sub)
    await this.save(session)
    return true
  }

  async #bind(session: Session, sub: Subscription): Promise<void> {
    if (sub.group !== null) {
      const queue = sharedQueueName(sub.group, sub.topicFilter)
      if (this.broker.getQueue(queue) === undefined) {
        await this.broker.createQueue(queue, {
          durable: true,
          maxLength: this.limits.maxQueuedPerSession,
          overflow: 'drop-head',
        })
      }
      await this.broker.bind({
        source: exchange,
        destination: { kind: 'queue', name: queue },
        key: sub.topicFilter,
        arguments: {},
        syntax: 'mqtt',
        durable: true,
      })
      this.#members(queue).add(session.clientId)
      session.connection?.consumeShared(sub)
      return
    }
    session.trie.add(sub.topicFilter, sub)
    if (session.queued(sub)) {
      await this.ensureQueue(session)
      await this.broker.bind({
        source: exchange,
        destination: { kind: 'queue', name: session.queueName },
        key: sub.topicFilter,
        arguments: {},
        syntax: 'mqtt',
        durable: session.durableQueue,
      })
    } else {
      if (!session.sinkRegistered) {
        session.sinkRegistered = true
        this.broker.registerSink(session.sinkId, (message) => session.connection?.deliverSink(message))
      }
      await this.broker.bind({
        source: exchange,
        destination: { kind: 'sink', id: session.sinkId },
        key: sub.topicFilter,
        arguments: {},
        syntax: 'mqtt',
      })
    }
  }

  async #unbind(session: Session, sub: Subscription): Promise<void> {
    if (sub.group !== null) {
      await this.#leaveShare(session, sub)
      return
    }
    session.trie.remove(sub.topicFilter, sub)
    const destination = session.queued(sub)
      ? { kind: 'queue' as const, name: session.queueName }
      : { kind: 'sink' as const, id: session.sinkId }
    await this.broker.unbind({ source: exchange, destination, key: sub.topicFilter, arguments: {}, syntax: 'mqtt' })
  }

  async #leaveShare(session: Session, sub: Subscription & { group: string | null }): Promise<void> {
    const queue = sharedQueueName(sub.group ?? '', sub.topicFilter)
    session.connection?.stopShared(queue)
    const members = this.#shareMembers.get(queue)
    members?.delete(session.clientId)
    if (members === undefined || members.size === 0) {
      this.#shareMembers.delete(queue)
      await this.broker.deleteQueue(queue)
    }
  }

  #members(queue: string): Set<string> {
    let members = this.#shareMembers.get(queue)
    if (members === undefined) {
      members = new Set()
      this.#shareMembers.set(queue, members)
    }
    return members
  }

  /** Creates the session queue if it does not exist yet (durable for persistent sessions). */
  async ensureQueue(session: Session): Promise<void> {
    if (this.broker.getQueue(session.queueName) !== undefined) return
    await this.broker.createQueue(session.queueName, {
      durable: session.durableQueue,
      maxLength: this.limits.maxQueuedPerSession,
      overflow: 'drop-head',
    })
    session.connection?.consumeSession()
  }

  /** Parses `$share/group/filter`; throws INVALID_ARGUMENT for a malformed one. */
  static splitShare(filter: string): { group: string | null; topicFilter: string } {
    const shared = parseSharedSubscription(filter)
    return shared === null ? { group: null, topicFilter: filter } : { group: shared.group, topicFilter: shared.filter }
  }

  // ---- publisher flow control ----

  /**
   * Parks a publisher that found subscribers congested. It resumes when every congested socket has drained,
   * or after flowStallMs at the latest: one subscriber that stopped reading must not stop all publishing
   * (its QoS 0 messages are dropped at its write limit instead).
   */
  waitForFlow(resume: () => void): void {
    this.#flowWaiters.push(resume)
    if (this.#flowTimer === null) {
      this.#flowTimer = setTimeout(() => this.#stalled(), flowStallMs)
      this.#flowTimer.unref()
    }
  }

  decongested(connection: MqttConnection): void {
    if (this.congested.delete(connection) && this.congested.size === 0) this.#releaseFlow()
  }

  /**
   * Subscribers still congested after a whole episode are not keeping up at all: stop holding publishers
   * back for them (their QoS 0 messages are dropped, QoS ≥ 1 ones wait up to their bound) until they drain.
   */
  #stalled(): void {
    for (const connection of this.congested) connection.markStalled()
    this.congested.clear()
    this.#releaseFlow()
  }

  #releaseFlow(): void {
    if (this.#flowTimer !== null) clearTimeout(this.#flowTimer)
    this.#flowTimer = null
    const waiters = this.#flowWaiters
    this.#flowWaiters = []
    for (const resume of waiters) resume()
  }

  // ---- publishing ----

  /** Routes a PUBLISH (and updates the retained store); resolves with how many destinations it reached. */
  publish(p: InboundPublish): Promise<number> {
    this.stats.received++
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

  // ---- wills ----

  /** Publishes a will now or after its delay (bounded by the session's expiry); reconnecting cancels it. */
  scheduleWill(clientId: string, will: Will, sessionExpiryS: number): void {
    const delayS = Math.min(will.delayS, sessionExpiryS)
    const fire = () => {
      // No longer pending: the session's expiry (#fireWill) must not publish it a second time.
      this.#wills.delete(clientId)
      this.#pendingWills.delete(clientId)
      this.publish({
        topic: will.topic,
        qos: will.qos,
        retain: will.retain,
        payload: will.payload,
        properties: will.properties,
        clientId,
      }).catch((error) => this.logger.warn({ err: error, clientId }, 'will publish failed'))
    }
    this.#cancelWill(clientId)
    if (delayS <= 0) {
      fire()
      return
    }
    const at = Date.now() + delayS * 1000
    const arm = () => {
      const left = at - Date.now()
      // Timers cap at 2^31 ms (~24.8 days): a longer delay re-arms until it is really due.
      const timer = setTimeout(left > 0x7fffffff ? arm : fire, Math.min(Math.max(left, 0), 0x7fffffff))
      timer.unref()
      this.#wills.set(clientId, timer)
    }
    arm()
    this.#pendingWills.set(clientId, fire)
  }

  readonly #pendingWills = new Map<string, () => void>()

  #cancelWill(clientId: string): void {
    const timer = this.#wills.get(clientId)
    if (timer !== undefined) clearTimeout(timer)
    this.#wills.delete(clientId)
    this.#pendingWills.delete(clientId)
  }

  /** The session ended before its will's delay: publish it now [MQTT-3.1.3-9]. */
  #fireWill(clientId: string): void {
    const fire = this.#pendingWills.get(clientId)
    if (fire === undefined) return
    const timer = this.#wills.get(clientId)
    if (timer !== undefined) clearTimeout(timer)
    this.#pendingWills.delete(clientId)
    fire()
  }

  // ---- housekeeping ----

  #onTick(): void {
    const now = Date.now()
    for (const connection of this.connections) connection.checkTimers(now)
  }

  #publishSys(): void {
    if (this.#closed) return
    const uptime = Math.floor((Date.now() - this.startedAt) / 1000)
    const values: Array<[string, string]> = [
      ['$SYS/broker/version', 'wharf'],
      ['$SYS/broker/uptime', `${uptime} seconds`],
      ['$SYS/broker/clients/connected', String(this.clientsConnected)],
      ['$SYS/broker/clients/total', String(this.sessions.size + this.clientsConnected)],
      ['$SYS/broker/messages/received', String(this.stats.received)],
      ['$SYS/broker/messages/sent', String(this.stats.sent)],
      ['$SYS/broker/messages/dropped', String(this.stats.dropped)],
      ['$SYS/broker/retained messages/count', String(this.retained.size)],
    ]
    for (const [topic, value] of values) {
      const now = this.broker.now()
      const { routingKey, message } = toBrokerMessage(
        { topic, qos: 0, retain: true, payload: Buffer.from(value), properties: undefined, clientId: '' },
        now,
      )
      void this.retained.set(topic, message, now)
      this.broker.publish(exchange, routingKey, message).catch(() => {})
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#tick) clearInterval(this.#tick)
    if (this.#sys) clearInterval(this.#sys)
    this.#releaseFlow()
    for (const timer of this.#wills.values()) clearTimeout(timer)
    for (const session of this.sessions.values()) if (session.expiryTimer) clearTimeout(session.expiryTimer)
    await Promise.all([...this.connections].map((connection) => connection.shutdown()))
    await Promise.all([...this.#locks.values()])
  }
}
