// Prometheus metrics (prom-client). Per-object series are gauges filled at scrape time from broker state
// (`collect`), so the hot paths pay nothing; counters that only exist as running totals in the broker
// (messages in per stream, queue published/delivered/acked) are exported as gauges named *_total with
// counter semantics, because prom-client counters cannot be set. Process metrics come from
// collectDefaultMetrics. No fsync latency histogram: storage exposes no timing hook and is not ours to edit.
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import type { Broker } from '../../broker/broker.js'
import type { PartitionLog } from '../../storage/api.js'
import { describeGroup, listGroupIds } from './admin/admin.js'
import type { SqsService } from './sqs/service.js'

export interface Metrics {
  registry: Registry
  /** Counts HTTP requests per service (sqs, sns, registry, admin). */
  countRequest(service: string): void
}

export function createMetrics(broker: Broker, sqs: SqsService): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'wharf_' })
  const requests = new Map<string, number>()

  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset()
        fill(this)
      },
    })

  gauge('wharf_stream_messages_in_total', 'Messages appended to a stream since start', ['destination'], (g) => {
    for (const s of broker.listStreams()) g.set({ destination: s.name }, s.stats.messagesIn)
  })
  const partitionGauge = (suffix: string, help: string, pick: (log: PartitionLog) => number) =>
    gauge(`wharf_stream_${suffix}`, help, ['destination', 'partition'], (g) => {
      for (const s of broker.listStreams())
        for (const [p, log] of s.partitions.entries()) g.set({ destination: s.name, partition: String(p) }, pick(log))
    })
  partitionGauge('bytes', 'Bytes stored per stream partition', (log) => log.sizeBytes)
  partitionGauge('high_watermark', 'High watermark (next offset) per stream partition', (log) => log.highWatermark)
  /** A queue whose stats lack the value (undefined) gets no sample. */
  const queueGauge = (
    suffix: string,
    help: string,
    pick: (stats: ReturnType<Broker['queueStats']>) => number | undefined,
  ) =>
    gauge(`wharf_queue_${suffix}`, help, ['destination'], (g) => {
      for (const q of broker.listQueues()) {
        const value = pick(q.queueStats())
        if (value !== undefined) g.set({ destination: q.name }, value)
      }
    })
  queueGauge('messages_ready', 'Messages ready for delivery', (s) => s.ready)
  queueGauge('messages_unacked', 'Messages delivered and not yet acked (in flight)', (s) => s.inflight)
  queueGauge('messages_delayed', 'Messages delayed', (s) => s.delayed)
  queueGauge('messages', 'Messages not yet acked (ready + unacked + delayed)', (s) => s.depth)
  queueGauge('consumers', 'Push consumers', (s) => s.consumers)
  queueGauge(
    'message_bytes',
    'Body bytes of the messages counted in wharf_queue_messages (queues with a byte limit, x-max-length-bytes)',
    (s) => s.bytes,
  )
  queueGauge('messages_published_total', 'Messages published to the queue since start', (s) => s.publishedTotal)
  queueGauge('messages_delivered_total', 'Deliveries since start', (s) => s.deliveredTotal)
  queueGauge('messages_acked_total', 'Acks since start', (s) => s.ackedTotal)
  queueGauge('messages_dead_lettered_total', 'Messages dead-lettered since start', (s) => s.deadLetteredTotal)
  gauge(
    'wharf_consumer_group_lag',
    'Consumer group lag per stream partition',
    ['group', 'destination', 'partition'],
    (g) => {
      for (const group of listGroupIds(broker)) {
        const partitions = describeGroup(broker, group).partitions as Array<{
          stream: string
          partition: number
          lag: number
        }>
        for (const p of partitions) g.set({ group, destination: p.stream, partition: String(p.partition) }, p.lag)
      }
    },
  )
  gauge(
    'wharf_sqs_messages_total',
    'SQS messages sent, received and deleted through the HTTP API',
    ['operation'],
    (g) => {
      g.set({ operation: 'sent' }, sqs.counters.sent)
      g.set({ operation: 'received' }, sqs.counters.received)
      g.set({ operation: 'deleted' }, sqs.counters.deleted)
    },
  )
  gauge('wharf_http_requests_total', 'HTTP requests per service', ['service'], (g) => {
    for (const [service, n] of requests) g.set({ service }, n)
  })
  return {
    registry,
    countRequest(service) {
      requests.set(service, (requests.get(service) ?? 0) + 1)
    },
  }
}
