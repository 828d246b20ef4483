// GET /api/v1/rates: the broker's message rates and queue depths over the last hour, sampled on the server
// into a bounded ring (so a dashboard opened now has an hour of chart at once), plus the current totals.
// "In" is messages appended to streams; "out" is messages handed to consumers, read from each protocol's
// traffic counters (common/metrics.ts, the ones /metrics exports): records Kafka consumers fetched, PUBLISH
// packets MQTT sent, and every other protocol's deliveries (AMQP, SQS, STOMP…) as queue deliveries.
import type { TrafficMetrics } from '../../common/metrics.js'
import type { AdminContext } from './context.js'
import { describeGroup, listGroupIds } from './groups.js'

/** Default sampling: every 5 s, an hour kept (720 samples). */
export const RATE_SAMPLE_MS = 5000
export const RATE_HISTORY_MS = 3_600_000
/** Bounds of the configurable values, so the ring stays small whatever is configured. */
const SAMPLES_MAX = 10_000

/** Counters since start and gauges now, summed over the broker and the listeners. */
export interface Totals {
  messagesIn: number
  /** Messages handed to consumers, per protocol family. */
  delivered: { queues: number; kafka: number; mqtt: number }
  ready: number
  unacked: number
  /** Push consumers of queues (AMQP, MQTT sessions…) and live members of consumer groups (Kafka). */
  queueConsumers: number
  groupMembers: number
  lag: number
}

/** Per second over the interval that ends at `t` (epoch ms), and the depths at `t`. */
export interface RateSample {
  t: number
  in: number
  out: number
  queues: number
  kafka: number
  mqtt: number
  ready: number
  unacked: number
}

function totals({ broker }: AdminContext, traffic: TrafficMetrics): Totals {
  const delivered = { queues: 0, kafka: 0, mqtt: 0 }
  let ready = 0
  let unacked = 0
  let queueConsumers = 0
  for (const queue of broker.listQueues()) {
    const s = queue.queueStats()
    ready += s.ready
    unacked += s.inflight
    queueConsumers += s.consumers
  }
  for (const protocol of traffic.protocols()) {
    if (protocol.protocol === 'kafka') delivered.kafka += protocol.messagesDelivered
    else if (protocol.protocol === 'mqtt') delivered.mqtt += protocol.messagesDelivered
    else delivered.queues += protocol.messagesDelivered
  }
  let groupMembers = 0
  let lag = 0
  for (const group of listGroupIds(broker)) {
    const g = describeGroup(broker, group)
    groupMembers += g.members as number
    lag += g.lag as number
  }
  const messagesIn = broker.listStreams().reduce((n, s) => n + s.stats.messagesIn, 0)
  return { messagesIn, delivered, ready, unacked, queueConsumers, groupMembers, lag }
}

/** A fixed-size ring of samples, oldest overwritten first. */
class Ring<T> {
  readonly #items: T[] = []
  #next = 0
  readonly #size: number

  constructor(size: number) {
    this.#size = size
  }

  push(item: T): void {
    if (this.#items.length < this.#size) this.#items.push(item)
    else this.#items[this.#next] = item
    this.#next = (this.#next + 1) % this.#size
  }

  /** Oldest first. */
  list(): T[] {
    return this.#items.length < this.#size
      ? [...this.#items]
      : [...this.#items.slice(this.#next), ...this.#items.slice(0, this.#next)]
  }
}

/**
 * Registers GET /rates (`?since=<epoch ms>` returns only newer samples) and starts the sampler; the returned
 * function stops it.
 */
export function registerRateRoutes(
  context: AdminContext,
  traffic: TrafficMetrics,
  options: { sampleMs?: number; historyMs?: number } = {},
): () => void {
  const sampleMs = Math.max(100, options.sampleMs ?? RATE_SAMPLE_MS)
  const historyMs = Math.max(sampleMs, options.historyMs ?? RATE_HISTORY_MS)
  const ring = new Ring<RateSample>(Math.min(SAMPLES_MAX, Math.ceil(historyMs / sampleMs)))
  let previous = { t: Date.now(), totals: totals(context, traffic) }
  const timer = setInterval(() => {
    const now = { t: Date.now(), totals: totals(context, traffic) }
    const seconds = Math.max(0.001, (now.t - previous.t) / 1000)
    const rate = (a: number, b: number) => Math.max(0, (a - b) / seconds)
    const [d, p] = [now.totals.delivered, previous.totals.delivered]
    const sample = {
      t: now.t,
      in: rate(now.totals.messagesIn, previous.totals.messagesIn),
      queues: rate(d.queues, p.queues),
      kafka: rate(d.kafka, p.kafka),
      mqtt: rate(d.mqtt, p.mqtt),
      ready: now.totals.ready,
      unacked: now.totals.unacked,
    }
    ring.push({ ...sample, out: sample.queues + sample.kafka + sample.mqtt })
    previous = now
  }, sampleMs)
  timer.unref()
  context.route('GET', '/rates', (r) => {
    const since = Number((r.query as Record<string, string | undefined>).since ?? 0)
    const samples = ring.list().filter((s) => !(s.t <= since))
    return { sampleMs, historyMs, samples, totals: totals(context, traffic) }
  })
  return () => clearInterval(timer)
}
