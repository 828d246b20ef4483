// Fetch sessions (KIP-227): a consumer that fetches many partitions sends them all once (a full fetch with
// epoch 0 creates a session), then only what changed (incremental fetches with the next epoch); the broker
// remembers the rest and answers only partitions with something new. Sessions live in one bounded cache per
// listener, not per connection (a client may move a session to another connection, as in Kafka).
//
// The cache knows nothing of logs: the Fetch handler asks it which partitions to read (`begin`), reads them,
// and asks it which results to send (`FetchSession.changed`).
import { KafkaError } from './errors.js'

/** A partition as a fetch names it: by topic name (Fetch v7-12) or by topic id (v13+). */
export interface FetchPartitionRequest {
  /** Set when the request names topics by name. */
  topic?: string
  /** Set when the request names topics by id (KIP-516). */
  topicId?: Buffer
  partition: number
  fetchOffset: number
  partitionMaxBytes: number
}

/** What was last sent for a partition: an incremental response includes it again only when one of these moves. */
interface Reported {
  highWatermark: number
  lastStableOffset: number
  logStartOffset: number
}

interface SessionPartition extends FetchPartitionRequest, Reported {}

/** What a partition's read produced, as much of it as decides whether an incremental response includes it. */
export interface PartitionOutcome extends Reported {
  errorCode: number
  /** Bytes of records returned. */
  bytes: number
}

/** Kafka's session epochs: 0 starts a session, -1 ends one (or asks for none). */
export const INITIAL_EPOCH = 0
export const FINAL_EPOCH = -1

export interface FetchSessionOptions {
  /** Sessions the cache holds (Kafka max.incremental.fetch.session.cache.slots). */
  slots: number
  /** Partitions one session may hold; a full fetch naming more gets no session, an incremental one that grows past it loses its session. */
  partitionsMax: number
  /**
   * A session unused this long may be evicted for a new one (Kafka min.incremental.fetch.session.eviction.ms);
   * a younger one only for a new session with more partitions.
   */
  evictionMs: number
}

export const defaultFetchSessionOptions: FetchSessionOptions = {
  slots: 1000,
  partitionsMax: 1000,
  evictionMs: 120_000,
}

/** Counters for the admin API and tests: proof that incremental fetches happen and what eviction did. */
export interface FetchSessionStats {
  created: number
  /** Fetches answered from a session with the session's epoch (incremental). */
  incrementalFetches: number
  /** Partitions incremental fetches did not have to name, summed: what sessions saved clients sending. */
  partitionsOmitted: number
  /** Full fetches that wanted a session and got none (cache full of younger, larger sessions; too many partitions). */
  declined: number
  evicted: number
  closed: number
  notFound: number
  invalidEpoch: number
}

export class FetchSession {
  readonly id: number
  /** The epoch the next incremental fetch must carry. */
  epoch = 1
  /** Whether the session names topics by id (created by Fetch v13+); requests must keep doing so. */
  readonly usesTopicIds: boolean
  lastUsed: number
  /** In fetch order; partitions that returned records move to the end so the others get the byte budget next. */
  readonly partitions = new Map<string, SessionPartition>()

  constructor(id: number, usesTopicIds: boolean, now: number) {
    this.id = id
    this.usesTopicIds = usesTopicIds
    this.lastUsed = now
  }

  /** Adds or updates a partition (its fetch offset and byte limit), keeping its place and what was reported. */
  upsert(p: FetchPartitionRequest): void {
    const key = partitionKey(p)
    const known = this.partitions.get(key)
    if (known !== undefined) {
      known.fetchOffset = p.fetchOffset
      known.partitionMaxBytes = p.partitionMaxBytes
      return
    }
    this.partitions.set(key, { ...p, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1 })
  }

  forget(p: { topic?: string; topicId?: Buffer; partition: number }): void {
    this.partitions.delete(partitionKey(p))
  }

  /**
   * Whether an incremental response must include this partition (records, an error, or a moved high
   * watermark, last stable offset or log start offset), remembering what it reports. Partitions with records
   * move to the end of the fetch order.
   */
  changed(p: FetchPartitionRequest, outcome: PartitionOutcome): boolean {
    const key = partitionKey(p)
    const cached = this.partitions.get(key)
    if (cached === undefined) return true
    const moved =
      cached.highWatermark !== outcome.highWatermark ||
      cached.lastStableOffset !== outcome.lastStableOffset ||
      cached.logStartOffset !== outcome.logStartOffset
    if (outcome.errorCode === 0) {
      cached.highWatermark = outcome.highWatermark
      cached.lastStableOffset = outcome.lastStableOffset
      cached.logStartOffset = outcome.logStartOffset
    }
    if (outcome.bytes > 0) {
      this.partitions.delete(key)
      this.partitions.set(key, cached)
    }
    return outcome.bytes > 0 || outcome.errorCode !== 0 || moved
  }
}

function partitionKey(p: { topic?: string; topicId?: Buffer; partition: number }): string {
  return p.topicId !== undefined ? `#${p.topicId.toString('hex')}:${p.partition}` : `${p.topic}\u0000${p.partition}`
}

/** What the handler does for one Fetch: read `partitions`, answer `sessionId`, or answer `errorCode` alone. */
export type FetchPlan =
  | { kind: 'error'; errorCode: number }
  | {
      kind: 'full' | 'incremental'
      /** 0: no session (sessionless fetch, or declined). */
      sessionId: number
      /** The session, for `changed` on an incremental fetch and to remember what a full one reported. */
      session: FetchSession | undefined
      /** What to read, in order: the request's partitions (full), or the session's (incremental). */
      partitions: FetchPartitionRequest[]
    }

export interface FetchSessionRequest {
  sessionId: number
  sessionEpoch: number
  /** Fetch v13+: topics are named by id. */
  usesTopicIds: boolean
  partitions: FetchPartitionRequest[]
  forgotten: Array<{ topic?: string; topicId?: Buffer; partition: number }>
}

export class FetchSessionCache {
  readonly options: FetchSessionOptions
  readonly stats: FetchSessionStats = {
    created: 0,
    incrementalFetches: 0,
    partitionsOmitted: 0,
    declined: 0,
    evicted: 0,
    closed: 0,
    notFound: 0,
    invalidEpoch: 0,
  }
  /** Least recently used first: a use moves a session to the end. */
  readonly #sessions = new Map<number, FetchSession>()
  readonly #now: () => number

  constructor(options: Partial<FetchSessionOptions> = {}, now: () => number = Date.now) {
    this.options = { ...defaultFetchSessionOptions, ...options }
    this.#now = now
  }

  get size(): number {
    return this.#sessions.size
  }

  get(id: number): FetchSession | undefined {
    return this.#sessions.get(id)
  }

  /** Kafka's rules for a fetch's (session id, epoch): which partitions to read and which session id to answer. */
  begin(req: FetchSessionRequest): FetchPlan {
    const { sessionId, sessionEpoch } = req
    if (sessionEpoch === FINAL_EPOCH || sessionEpoch === INITIAL_EPOCH) {
      // A full fetch. With an id it ends that session first (epoch -1 asks for no new one).
      if (sessionId !== 0 && this.#sessions.delete(sessionId)) this.stats.closed++
      const session = sessionEpoch === INITIAL_EPOCH ? this.#create(req) : undefined
      return { kind: 'full', sessionId: session?.id ?? 0, session, partitions: req.partitions }
    }
    const session = this.#sessions.get(sessionId)
    if (session === undefined) {
      this.stats.notFound++
      return { kind: 'error', errorCode: KafkaError.FETCH_SESSION_ID_NOT_FOUND }
    }
    if (session.usesTopicIds !== req.usesTopicIds) {
      // A session created by one Fetch version continued by another: Kafka's FETCH_SESSION_TOPIC_ID_ERROR.
      this.#sessions.delete(sessionId)
      return { kind: 'error', errorCode: KafkaError.FETCH_SESSION_TOPIC_ID_ERROR }
    }
    if (sessionEpoch !== session.epoch) {
      this.stats.invalidEpoch++
      return { kind: 'error', errorCode: KafkaError.INVALID_FETCH_SESSION_EPOCH }
    }
    for (const p of req.partitions) session.upsert(p)
    for (const p of req.forgotten) session.forget(p)
    if (session.partitions.size > this.options.partitionsMax) {
      // Grown past the bound: the client starts over with a full fetch, which gets no session.
      this.#sessions.delete(sessionId)
      this.stats.notFound++
      return { kind: 'error', errorCode: KafkaError.FETCH_SESSION_ID_NOT_FOUND }
    }
    session.epoch = session.epoch === 0x7fffffff ? 1 : session.epoch + 1
    this.#touch(session)
    this.stats.incrementalFetches++
    this.stats.partitionsOmitted += Math.max(0, session.partitions.size - req.partitions.length)
    return { kind: 'incremental', sessionId, session, partitions: [...session.partitions.values()] }
  }

  /** A new session for a full fetch, or undefined when the cache declines (Kafka answers session id 0 then). */
  #create(req: FetchSessionRequest): FetchSession | undefined {
    if (req.partitions.length > this.options.partitionsMax || this.options.slots <= 0 || !this.#makeRoom(req)) {
      this.stats.declined++
      return undefined
    }
    let id: number
    do id = 1 + Math.floor(Math.random() * 0x7ffffffe)
    while (this.#sessions.has(id))
    const session = new FetchSession(id, req.usesTopicIds, this.#now())
    for (const p of req.partitions) session.upsert(p)
    this.#sessions.set(id, session)
    this.stats.created++
    return session
  }

  /** Frees a slot if the cache is full: the least recently used session if stale, or if smaller than the new one. */
  #makeRoom(req: FetchSessionRequest): boolean {
    if (this.#sessions.size < this.options.slots) return true
    const [oldest] = this.#sessions.values()
    if (oldest === undefined) return false
    const stale = this.#now() - oldest.lastUsed >= this.options.evictionMs
    if (!stale && oldest.partitions.size >= req.partitions.length) return false
    this.#sessions.delete(oldest.id)
    this.stats.evicted++
    return true
  }

  #touch(session: FetchSession): void {
    session.lastUsed = this.#now()
    this.#sessions.delete(session.id)
    this.#sessions.set(session.id, session)
  }
}
