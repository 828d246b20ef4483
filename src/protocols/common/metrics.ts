// The traffic counters every listener keeps for /metrics: plain numbers and fixed bucket arrays that the hot
// paths bump in place (no label lookup, no allocation per message), read and exported at scrape time by the
// HTTP listener (src/protocols/http/metrics/). One TrafficMetrics per server, one ProtocolTraffic per protocol.

/** Upper bounds (seconds) of the latency histograms: sub-millisecond fsyncs up to multi-second stalls. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

let burstNow = 0
let burstValid = false
function endBurst(): void {
  burstValid = false
}

/**
 * performance.now() read once per burst of synchronous work (until the microtasks queued so far have run),
 * not once per message: the publishes parsed from one socket chunk, or the confirms one group commit
 * settles, share one reading. Latencies are thus exact to within one such burst, for one clock read each.
 */
export function burstClock(): number {
  if (!burstValid) {
    burstNow = performance.now()
    burstValid = true
    queueMicrotask(endBurst)
  }
  return burstNow
}

/** A Prometheus-style histogram kept as per-bucket counts (not cumulative; the last slot is +Inf). */
export class LatencyHistogram {
  readonly bounds: readonly number[]
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(bounds: readonly number[] = LATENCY_BUCKETS_SECONDS) {
    this.bounds = bounds
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(seconds: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && seconds > bounds[i]!) i++
    this.counts[i]!++
    this.sum += seconds
    this.count++
  }

  /** Observes the time elapsed since `startedAt`, a burstClock() reading. */
  since(startedAt: number): void {
    this.observe((burstClock() - startedAt) / 1000)
  }
}

/**
 * What clients of one protocol did since start. "Received" is what publishers sent (publish, produce,
 * PUBLISH, SendMessage); "delivered" what consumers got (deliveries, fetched records, receives).
 */
export class ProtocolTraffic {
  readonly protocol: string
  messagesReceived = 0
  bytesReceived = 0
  messagesDelivered = 0
  bytesDelivered = 0
  /** Deliveries flagged as redelivered (after a nack, a lease expiry or a restart). */
  messagesRedelivered = 0
  messagesAcknowledged = 0
  /** Deliveries a consumer handed back to the queue (nack/reject with requeue, recover, visibility 0). */
  messagesRequeued = 0
  /** From receipt of a publish to its acknowledgement (confirm, produce response, PUBACK, SendMessage reply). */
  readonly publishToConfirm = new LatencyHistogram()
  /** Refused logins by mechanism as the client named it. */
  readonly authFailures = new Map<string, number>()

  constructor(protocol: string) {
    this.protocol = protocol
  }

  received(messages: number, bytes: number): void {
    this.messagesReceived += messages
    this.bytesReceived += bytes
  }

  delivered(messages: number, bytes: number): void {
    this.messagesDelivered += messages
    this.bytesDelivered += bytes
  }

  authFailed(mechanism: string): void {
    this.authFailures.set(mechanism, (this.authFailures.get(mechanism) ?? 0) + 1)
  }
}

/** Every protocol's traffic plus the storage's fsync latency; the server makes one and hands it to listeners. */
export class TrafficMetrics {
  readonly #protocols = new Map<string, ProtocolTraffic>()
  /** fdatasync of partition logs (group commit, segment rolls, interval flushes). */
  readonly fsync = new LatencyHistogram()

  /** The protocol's counters, made on first use; a listener resolves its own once and keeps it. */
  protocol(name: string): ProtocolTraffic {
    let traffic = this.#protocols.get(name)
    if (traffic === undefined) {
      traffic = new ProtocolTraffic(name)
      this.#protocols.set(name, traffic)
    }
    return traffic
  }

  protocols(): Iterable<ProtocolTraffic> {
    return this.#protocols.values()
  }
}

/** A listener's counters: the server's when it has metrics, else a private set nobody exports (embedded use). */
export function trafficOf(context: { metrics?: TrafficMetrics }, protocol: string): ProtocolTraffic {
  return context.metrics?.protocol(protocol) ?? new ProtocolTraffic(protocol)
}
