// /metrics in Prometheus text (prom-client): the process metrics of collectDefaultMetrics (prefix wharf_),
// wharf_build_info, per-protocol traffic and latency histograms (traffic.ts), listener gauges
// (listeners.ts) and broker state (broker-state.ts). Every series is read at scrape time; the hot paths only
// bump the kit's plain counters. The metric table is in src/protocols/http/README.md.
import { collectDefaultMetrics, Registry } from 'prom-client'
import type { Broker } from '../../../broker/broker.js'
import type { TrafficMetrics } from '../../common/metrics.js'
import { registerBrokerStateMetrics } from './broker-state.js'
import { type ListenersMetricsView, registerListenerMetrics } from './listeners.js'
import { scrapedCounter } from './scraped.js'
import { registerTrafficMetrics } from './traffic.js'

export interface Metrics {
  registry: Registry
  /** Counts HTTP requests per service (sqs, sns, registry, admin). */
  countRequest(service: string): void
}

export function createMetrics(broker: Broker, traffic: TrafficMetrics, listeners: ListenersMetricsView): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'wharf_' })
  registerTrafficMetrics(registry, traffic)
  registerListenerMetrics(registry, listeners)
  registerBrokerStateMetrics(registry, broker)
  const requests = new Map<string, number>()
  scrapedCounter(registry, 'wharf_http_requests_total', 'HTTP requests per service', ['service'], (emit) => {
    for (const [service, n] of requests) emit({ service }, n)
  })
  return {
    registry,
    countRequest(service) {
      requests.set(service, (requests.get(service) ?? 0) + 1)
    },
  }
}
