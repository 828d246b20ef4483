// Publishing through an exchange: route, stamp the exchange and routing key onto the message, hand it to
// in-memory sinks, and enqueue one (coalesced) append per destination stream. Protocol-free; the broker
// supplies routing, lookups and the append path through PublisherHost.
import { unpinned } from '../../util/bytes.js'
import { WharfError } from '../../util/errors.js'
import { type PublishMessage, type RecordHeader, Reserved, type StoredMessage } from '../message.js'
import type { Queue } from '../queue/queue.js'
import { servedHereOnly } from '../queue/remote.js'
import { type Stream, toBuffer } from '../stream/stream.js'
import { destinationKey, type LeafDestination, type RouteResult } from './router.js'

export interface PublisherHost {
  route(
    exchange: string,
    routingKey: string,
    headers: Record<string, unknown> | undefined,
    out: RouteResult,
    /** What binding selectors read. */
    message: PublishMessage,
  ): RouteResult
  queue(name: string): Queue | undefined
  stream(name: string): Stream
  /**
   * Appends one message to a stream (coalesced with this tick's other single-message appends); settles
   * when it is stored. The promise may be shared with the other messages of its batch.
   */
  append(stream: Stream, message: PublishMessage, now: number): Promise<unknown>
  /** Dead-letters a message of a queue per its dead-letter settings (x-death reason). */
  deadLetter(queue: Queue, message: StoredMessage, reason: 'maxlen'): Promise<void>
  now(): number
  /** Repeats an exchange publish to the cluster members with transient subscriptions (ClusterLinkHooks.relay). */
  relay(exchange: string, routingKey: string, message: PublishMessage, options: PublishOptions): void
}

export interface PublishOptions {
  /** What a headers exchange matches on. */
  routingHeaders?: Record<string, unknown>
  /** CC/BCC: more routing keys the message is routed by, once per destination. */
  extraRoutingKeys?: readonly string[]
  /**
   * Only to what lives in this broker's memory alone (in-memory sinks, non-durable queues): a publish that
   * another broker of the cluster relayed after it reached every durable destination itself.
   */
  transientOnly?: boolean
}

export interface PublishResult {
  /** Destinations reached (queues, streams and sinks); 0 means unroutable. */
  routed: number
}

const UNROUTED: PublishResult = Object.freeze({ routed: 0 })
const ROUTED_ONE: PublishResult = Object.freeze({ routed: 1 })
const routedOne = () => ROUTED_ONE

type Sink = (message: StoredMessage, routingKey: string) => void

const NAMES_MAX = 4096

export class Publisher {
  readonly #host: PublisherHost
  readonly #sinks = new Map<string, Sink>()
  readonly #scratch: RouteResult = { destinations: [], unroutable: false }
  /** Interned stamp headers of exchange names and routing keys (stamped on every exchange publish). */
  readonly #exchangeHeaders = new Map<string, RecordHeader>()
  readonly #keyHeaders = new Map<string, RecordHeader>()

  constructor(host: PublisherHost) {
    this.#host = host
  }

  registerSink(id: string, deliver: Sink): void {
    this.#sinks.set(id, deliver)
  }

  hasSink(id: string): boolean {
    return this.#sinks.has(id)
  }

  /** The in-memory sink registered under id (transactions deliver to sinks at commit). */
  sink(id: string): Sink | undefined {
    return this.#sinks.get(id)
  }

  removeSink(id: string): void {
    this.#sinks.delete(id)
  }

  /**
   * Routes, stamps, hands the message to every sink and appends it to every destination stream in parallel.
   * A full reject-publish queue fails the whole publish before anything is appended.
   * Not an async function: the common case (one queue without length limits) returns the append's own
   * promise mapped once, instead of a chain of async frames — a publish is on the hot path of every work queue.
   * Errors always come back as a rejected promise.
   */
  publish(
    exchange: string,
    routingKey: string,
    message: PublishMessage,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    try {
      if (!options.transientOnly) this.#host.relay(exchange, routingKey, message, options)
      return this.#publish(exchange, routingKey, message, options)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #publish(
    exchange: string,
    routingKey: string,
    message: PublishMessage,
    options: PublishOptions,
  ): Promise<PublishResult> {
    const host = this.#host
    const { routingHeaders, extraRoutingKeys } = options
    let route =
      extraRoutingKeys === undefined || extraRoutingKeys.length === 0
        ? host.route(exchange, routingKey, routingHeaders, this.#scratch, message)
        : this.#routeMany(exchange, routingKey, extraRoutingKeys, routingHeaders, message)
    if (options.transientOnly) route = this.#transient(route)
    if (route.destinations.length === 0) return Promise.resolve(UNROUTED)
    // One compact copy of a payload sliced from a socket read, shared by every destination.
    const value = toBuffer(message.value)
    const stamped: PublishMessage = {
      ...message,
      value: value === null ? null : unpinned(value),
      headers: [
        ...(message.headers ?? []),
        this.#header(this.#exchangeHeaders, Reserved.exchange, exchange),
        this.#header(this.#keyHeaders, Reserved.routingKey, routingKey),
      ],
    }
    const sole = soleQueue(route)
    const queue = sole === null ? undefined : host.queue(sole)
    if (
      queue !== undefined &&
      !refusesWhenFull(queue) &&
      !trimsWhenFull(queue) &&
      !dropsNewWhenFull(queue) &&
      !queue.publishing.dropsIdle(stamped)
    ) {
      return host.append(host.stream(queue.streamName), withQueueDelay(queue, stamped), host.now()).then(routedOne)
    }
    return this.#publishChecked(route, routingKey, message, stamped, value)
  }

  /** The destinations only this broker has: sinks and the queues it alone holds. */
  #transient(route: RouteResult): RouteResult {
    const destinations = route.destinations.filter((d) => {
      if (d.kind === 'sink') return true
      const config = d.kind === 'queue' ? this.#host.queue(d.name)?.config : undefined
      return config !== undefined && servedHereOnly(config)
    })
    return { destinations, unroutable: route.unroutable }
  }

  /** Everything but the fast path: several destinations, sinks, length-limited queues. */
  async #publishChecked(
    route: RouteResult,
    routingKey: string,
    message: PublishMessage,
    stamped: PublishMessage,
    value: Buffer | null,
  ): Promise<PublishResult> {
    const host = this.#host
    try {
      const sole = soleQueue(route)
      if (sole !== null) return await this.#publishToQueue(sole, stamped, value)
      const queues: Queue[] = []
      const streams: string[] = []
      const sinks: Sink[] = []
      // Byte counts still being read back from the log (only right after a restart): waited for after the
      // loop, which must stay synchronous (route results are a reused scratch object).
      let counted: Array<Promise<void>> | undefined
      // Queues that dropped the message (drop-new): routed there all the same, as far as the publisher knows.
      let dropped = 0
      for (const d of route.destinations) {
        if (d.kind === 'sink') {
          const sink = this.#sinks.get(d.id)
          if (sink) sinks.push(sink)
        } else if (d.kind === 'queue') {
          const queue = host.queue(d.name)
          if (queue === undefined) continue
          if (queue.publishing.dropsIdle(stamped)) {
            dropped++
            continue
          }
          if (refusesWhenFull(queue) || dropsNewWhenFull(queue)) {
            const counting = queue.bytesCounted()
            if (counting === null) {
              if (!hasRoomOrRefuses(queue, value)) {
                dropped++
                continue
              }
            } else {
              counted ??= []
              counted.push(counting)
            }
          }
          queues.push(queue)
        } else streams.push(d.name)
      }
      if (counted !== undefined) {
        await Promise.all(counted)
        for (let i = queues.length - 1; i >= 0; i--) {
          const q = queues[i]!
          if ((refusesWhenFull(q) || dropsNewWhenFull(q)) && !hasRoomOrRefuses(q, value)) {
            queues.splice(i, 1)
            dropped++
          }
        }
      }
      const now = host.now()
      if (sinks.length > 0) {
        const record: StoredMessage = {
          stream: '',
          partition: 0,
          offset: -1,
          timestamp: message.timestamp ?? now,
          key: toBuffer(stamped.key),
          value: stamped.value as Buffer | null,
          headers: stamped.headers ?? [],
        }
        for (const sink of sinks) sink(record, routingKey)
      }
      // One promise per destination: appends are enqueued synchronously (and coalesced per partition with the
      // rest of this tick's publishes); only drop-head queues need a follow-up after the append.
      const waits: Array<Promise<unknown>> = []
      const trim: Queue[] = []
      for (const q of queues) {
        const appended = host.append(host.stream(q.streamName), withQueueDelay(q, stamped), now)
        waits.push(appended)
        if (refusesWhenFull(q) || dropsNewWhenFull(q)) q.publishing.reserve(1, value?.length ?? 0, appended)
        if (trimsWhenFull(q)) trim.push(q)
      }
      for (const name of streams) waits.push(host.append(host.stream(name), stamped, now))
      await Promise.all(waits)
      for (const q of trim) await q.enforceMaxLength()
      return { routed: queues.length + dropped + streams.length + sinks.length }
    } catch (error) {
      await this.#deadLetterRefused(error, message, stamped)
      throw error
    }
  }

  /** x-overflow reject-publish-dlx: a refused message is dead-lettered (reason maxlen), then refused. */
  async #deadLetterRefused(error: unknown, message: PublishMessage, stamped: PublishMessage): Promise<void> {
    const queue = error instanceof QueueFullError ? error.queue : null
    if (queue === null || queue.config.overflow !== 'reject-publish-dlx' || queue.config.deadLetter === null) return
    const refused: StoredMessage = {
      stream: queue.streamName,
      partition: 0,
      offset: -1,
      timestamp: message.timestamp ?? this.#host.now(),
      key: toBuffer(stamped.key),
      value: stamped.value as Buffer | null,
      headers: stamped.headers ?? [],
    }
    await this.#host.deadLetter(queue, refused, 'maxlen')
  }

  /**
   * The common case — one queue (the default exchange, a direct binding) — without the per-destination
   * arrays and Promise.all of the general path: a publish is on the hot path of every AMQP work queue.
   */
  async #publishToQueue(name: string, stamped: PublishMessage, value: Buffer | null): Promise<PublishResult> {
    const host = this.#host
    const queue = host.queue(name)
    if (queue === undefined) return UNROUTED
    if (queue.publishing.dropsIdle(stamped)) return ROUTED_ONE
    const refuses = refusesWhenFull(queue) || dropsNewWhenFull(queue)
    if (refuses) {
      const counting = queue.bytesCounted()
      if (counting !== null) await counting
      if (!hasRoomOrRefuses(queue, value)) return ROUTED_ONE
    }
    const appended = host.append(host.stream(queue.streamName), withQueueDelay(queue, stamped), host.now())
    if (refuses) queue.publishing.reserve(1, value?.length ?? 0, appended)
    await appended
    if (trimsWhenFull(queue)) await queue.enforceMaxLength()
    return ROUTED_ONE
  }

  /**
   * Routes one message by several routing keys through the same exchange (AMQP CC/BCC): the union of the
   * destinations, each once. The message is still stamped with the first routing key only.
   */
  #routeMany(
    exchange: string,
    routingKey: string,
    extra: readonly string[],
    headers: Record<string, unknown> | undefined,
    message: PublishMessage,
  ): RouteResult {
    const destinations: LeafDestination[] = []
    const seen = new Set<string>()
    for (let i = -1; i < extra.length; i++) {
      const route = this.#host.route(exchange, i < 0 ? routingKey : extra[i]!, headers, this.#scratch, message)
      for (const d of route.destinations) {
        const key = destinationKey(d)
        if (seen.has(key)) continue
        seen.add(key)
        destinations.push(d)
      }
    }
    return { destinations, unroutable: destinations.length === 0 }
  }

  /** Interned stamp headers: exchange names and routing keys repeat, their header objects need not. */
  #header(cache: Map<string, RecordHeader>, key: string, name: string): RecordHeader {
    let header = cache.get(name)
    if (header === undefined) {
      if (cache.size >= NAMES_MAX) cache.clear()
      header = { key, value: Buffer.from(name) }
      cache.set(name, header)
    }
    return header
  }
}

/** The one queue a route goes to; null when it goes elsewhere or to several destinations. */
function soleQueue(route: RouteResult): string | null {
  if (route.destinations.length !== 1) return null
  const only = route.destinations[0]!
  return only.kind === 'queue' ? only.name : null
}

/** A length-limited queue that refuses publishes when full (reject-publish, reject-publish-dlx). */
export function refusesWhenFull(queue: Queue): boolean {
  const { maxLength, maxLengthBytes, overflow } = queue.config
  return (
    (overflow === 'reject-publish' || overflow === 'reject-publish-dlx') &&
    (maxLength !== null || maxLengthBytes !== null)
  )
}

/** A length-limited queue that silently drops what arrives when full (drop-new). */
export function dropsNewWhenFull(queue: Queue): boolean {
  const { maxLength, maxLengthBytes, overflow } = queue.config
  return overflow === 'drop-new' && (maxLength !== null || maxLengthBytes !== null)
}

/**
 * Whether a full-aware queue takes one more message of this body: a reject-publish queue throws QUEUE_FULL,
 * a drop-new queue counts the message dropped and answers false.
 */
function hasRoomOrRefuses(queue: Queue, value: Buffer | null): boolean {
  try {
    assertRoom(queue, 1, value?.length ?? 0)
    return true
  } catch (error) {
    if (!dropsNewWhenFull(queue)) throw error
    queue.stats.dropped++
    return false
  }
}

/** A length-limited queue that drops its oldest messages after a publish (drop-head). */
export function trimsWhenFull(queue: Queue): boolean {
  const { maxLength, maxLengthBytes, overflow } = queue.config
  return overflow === 'drop-head' && (maxLength !== null || maxLengthBytes !== null)
}

/** The queue's default delivery delay applied to a message that sets none. */
export function withQueueDelay(queue: Queue, message: PublishMessage): PublishMessage {
  const delay = queue.config.deliveryDelayMs
  return delay > 0 && message.delayMs === undefined ? { ...message, delayMs: delay } : message
}

/**
 * Throws QUEUE_FULL when `count` more messages of `bytes` body bytes would take a reject-publish queue past
 * maxLength or maxLengthBytes (RabbitMQ: refused if the queue would exceed either limit with the message).
 */
export function assertRoom(queue: Queue, count: number, bytes: number): void {
  const { maxLength, maxLengthBytes } = queue.config
  if (maxLength !== null && queue.depth() + queue.publishing.reserved.count + count > maxLength) {
    throw new QueueFullError(queue, `queue '${queue.name}' is full (x-max-length ${maxLength})`)
  }
  if (
    maxLengthBytes !== null &&
    (queue.messageBytes() ?? 0) + queue.publishing.reserved.bytes + bytes > maxLengthBytes
  ) {
    throw new QueueFullError(queue, `queue '${queue.name}' is full (x-max-length-bytes ${maxLengthBytes})`)
  }
}

/** QUEUE_FULL, knowing which queue refused (reject-publish-dlx dead-letters the message there). */
export class QueueFullError extends WharfError {
  readonly queue: Queue
  constructor(queue: Queue, message: string) {
    super('QUEUE_FULL', message)
    this.queue = queue
  }
}
