// Per-object series read from broker state at scrape time: topics (streams) and their partitions, queues,
// consumer-group lag. Labels as rabbitmq_prometheus and kafka_exporter name them: `topic`, `partition`,
// `queue`, `group`. Running totals the broker keeps (messages in, queue published/delivered/acked) are
// counters; sizes and depths are gauges.
import type { Registry } from 'prom-client'
import type { Broker } from '../../../broker/broker.js'
import type { QueueStats } from '../../../broker/queue/types.js'
import type { PartitionLog } from '../../../storage/api.js'
import { describeGroup, listGroupIds } from '../admin/admin.js'
import { scrapedCounter, scrapedGauge } from './scraped.js'

/** Type, name suffix (after wharf_queue_), help and value of each per-queue series. */
const QUEUE_SERIES: Array<['gauge' | 'counter', string, string, (stats: QueueStats) => number | undefined]> = [
  ['gauge', 'messages_ready', 'Messages ready for delivery', (s) => s.ready],
  ['gauge', 'messages_unacked', 'Messages delivered and not yet acked (in flight)', (s) => s.inflight],
  ['gauge', 'messages_delayed', 'Messages delayed', (s) => s.delayed],
  ['gauge', 'messages', 'Messages not yet acked (ready + unacked + delayed)', (s) => s.depth],
  ['gauge', 'consumers', 'Push consumers', (s) => s.consumers],
  [
    'gauge',
    'messages_bytes',
    'Body bytes of the messages counted in wharf_queue_messages (queues with a byte limit, x-max-length-bytes)',
    (s) => s.bytes,
  ],
  ['counter', 'messages_published_total', 'Messages published to the queue since start', (s) => s.publishedTotal],
  ['counter', 'messages_delivered_total', 'Deliveries since start', (s) => s.deliveredTotal],
  ['counter', 'messages_acked_total', 'Acks since start', (s) => s.ackedTotal],
  ['counter', 'messages_dead_lettered_total', 'Messages dead-lettered since start', (s) => s.deadLetteredTotal],
  [
    'counter',
    'messages_dropped_total',
    'Messages a full queue with the drop-new overflow did not take, since start',
    (s) => s.droppedTotal,
  ],
]

export function registerBrokerStateMetrics(registry: Registry, broker: Broker): void {
  scrapedCounter(
    registry,
    'wharf_topic_messages_in_total',
    'Messages appended to a topic (stream) since start',
    ['topic'],
    (emit) => {
      for (const s of broker.listStreams()) emit({ topic: s.name }, s.stats.messagesIn)
    },
  )
  const partitionGauge = (suffix: string, help: string, pick: (log: PartitionLog) => number) =>
    scrapedGauge(registry, `wharf_topic_partition_${suffix}`, help, ['topic', 'partition'], (emit) => {
      for (const s of broker.listStreams())
        for (const [p, log] of s.partitions.entries()) emit({ topic: s.name, partition: String(p) }, pick(log))
    })
  partitionGauge('bytes', 'Bytes stored per topic partition', (log) => log.sizeBytes)
  partitionGauge('high_watermark', 'High watermark (next offset) per topic partition', (log) => log.highWatermark)
  partitionGauge('log_start_offset', 'First offset still stored per topic partition', (log) => log.logStartOffset)

  // A queue whose stats lack the value (undefined) gets no sample.
  for (const [type, suffix, help, pick] of QUEUE_SERIES)
    (type === 'gauge' ? scrapedGauge : scrapedCounter)(registry, `wharf_queue_${suffix}`, help, ['queue'], (emit) => {
      for (const q of broker.listQueues()) {
        // A queue another broker of the cluster serves: that broker exports its depths (this one's are stale).
        if (type === 'gauge' && q.servedBy !== undefined) continue
        const value = pick(q.queueStats())
        if (value !== undefined) emit({ queue: q.name }, value)
      }
    })

  scrapedGauge(
    registry,
    'wharf_consumer_group_lag',
    'Kafka consumer group lag: high watermark minus committed offset, per topic partition',
    ['group', 'topic', 'partition'],
    (emit) => {
      for (const group of listGroupIds(broker)) {
        const partitions = describeGroup(broker, group).partitions as Array<{
          stream: string
          partition: number
          lag: number
        }>
        for (const p of partitions) emit({ group, topic: p.stream, partition: String(p.partition) }, p.lag)
      }
    },
  )
}
