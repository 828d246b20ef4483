// Per-protocol traffic (messages and bytes in and out, deliveries, acks, redeliveries, requeues), the
// publish-to-confirm and fsync latency histograms, refused logins, and wharf_build_info. The counts are the
// kit's TrafficMetrics (src/protocols/common/metrics.ts), bumped by the listeners and read here per scrape.
import type { Registry } from 'prom-client'
import { wharfVersion } from '../../../util/version.js'
import type { ProtocolTraffic, TrafficMetrics } from '../../common/metrics.js'
import { scrapedCounter, scrapedGauge, scrapedHistogram } from './scraped.js'

/** Name suffix, help and value of each per-protocol counter. */
const PROTOCOL_COUNTERS: Array<[string, string, (t: ProtocolTraffic) => number]> = [
  [
    'messages_received_total',
    'Messages clients published (publish, produce, PUBLISH, SendMessage)',
    (t) => t.messagesReceived,
  ],
  ['messages_received_bytes_total', 'Payload bytes of the messages received', (t) => t.bytesReceived],
  [
    'messages_delivered_total',
    'Messages handed to consumers (deliveries, basic.get, fetched records, ReceiveMessage)',
    (t) => t.messagesDelivered,
  ],
  ['messages_delivered_bytes_total', 'Payload (Kafka: record batch) bytes delivered', (t) => t.bytesDelivered],
  [
    'messages_redelivered_total',
    'Deliveries flagged as redelivered (after a nack, an expired lease or a restart)',
    (t) => t.messagesRedelivered,
  ],
  [
    'messages_acknowledged_total',
    'Deliveries consumers acknowledged (basic.ack, PUBACK/PUBREC, DeleteMessage)',
    (t) => t.messagesAcknowledged,
  ],
  [
    'messages_requeued_total',
    'Deliveries consumers handed back to the queue (nack/reject with requeue, basic.recover)',
    (t) => t.messagesRequeued,
  ],
]

export function registerTrafficMetrics(registry: Registry, traffic: TrafficMetrics): void {
  scrapedGauge(
    registry,
    'wharf_build_info',
    'Always 1; the labels say which Wharf and Node.js run',
    ['version', 'node_version'],
    (emit) => emit({ version: wharfVersion, node_version: process.version }, 1),
  )
  for (const [suffix, help, pick] of PROTOCOL_COUNTERS)
    scrapedCounter(registry, `wharf_${suffix}`, help, ['protocol'], (emit) => {
      for (const t of traffic.protocols()) emit({ protocol: t.protocol }, pick(t))
    })
  scrapedCounter(
    registry,
    'wharf_auth_failures_total',
    'Refused logins by protocol and mechanism as the client named it',
    ['protocol', 'mechanism'],
    (emit) => {
      for (const t of traffic.protocols())
        for (const [mechanism, n] of t.authFailures) emit({ protocol: t.protocol, mechanism }, n)
    },
  )
  scrapedHistogram(
    registry,
    'wharf_publish_to_confirm_seconds',
    'From receipt of a publish to its acknowledgement: Kafka produce response (acks 1/all, per request), AMQP publisher confirm, MQTT PUBACK/PUBREC, SQS SendMessage response',
    (emit) => {
      for (const t of traffic.protocols()) emit({ protocol: t.protocol }, t.publishToConfirm)
    },
  )
  scrapedHistogram(
    registry,
    'wharf_storage_fsync_seconds',
    'fdatasync of partition logs (group commits, segment rolls, interval flushes); on PostgreSQL, each append transaction up to its COMMIT',
    (emit) => emit({}, traffic.fsync),
  )
}
