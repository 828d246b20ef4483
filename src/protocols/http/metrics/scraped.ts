// Metrics whose values are read at scrape time from state kept elsewhere (broker objects, the listeners'
// traffic counters): nothing is recorded through prom-client on a hot path. Counters stay typed `counter`
// (reset and refilled with the running totals on each scrape); histograms are exported from the kit's
// LatencyHistogram bucket arrays by a collector of our own, because prom-client's Histogram can only observe.
import { Counter, Gauge, type Metric, type Registry } from 'prom-client'
import type { LatencyHistogram } from '../../common/metrics.js'

type Labels = Record<string, string>
/** Calls `emit` once per series with its labels and current value. */
type Fill = (emit: (labels: Labels, value: number) => void) => void

/**
 * A gauge or a counter filled from state kept elsewhere on each scrape; a counter's `fill` must report each
 * series' running total since start.
 */
function scraped(
  type: 'gauge' | 'counter',
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  fill: Fill,
): void {
  const config = { name, help, labelNames, registers: [registry] }
  if (type === 'gauge') new Gauge({ ...config, collect: gaugeCollect(fill) })
  else new Counter({ ...config, collect: counterCollect(fill) })
}

function gaugeCollect(fill: Fill) {
  return function (this: Gauge) {
    this.reset()
    fill((labels, value) => this.set(labels, value))
  }
}

function counterCollect(fill: Fill) {
  return function (this: Counter) {
    this.reset()
    fill((labels, value) => this.inc(labels, value))
  }
}

export const scrapedGauge = (registry: Registry, name: string, help: string, labelNames: string[], fill: Fill) =>
  scraped('gauge', registry, name, help, labelNames, fill)

export const scrapedCounter = (registry: Registry, name: string, help: string, labelNames: string[], fill: Fill) =>
  scraped('counter', registry, name, help, labelNames, fill)

interface Sample {
  metricName: string
  labels: Labels
  value: number
}

/** Cumulative `_bucket` series (le ascending, then +Inf), `_sum` and `_count` of one histogram. */
function histogramSamples(name: string, labels: Labels, h: LatencyHistogram, out: Sample[]): void {
  let cumulative = 0
  for (let i = 0; i <= h.bounds.length; i++) {
    cumulative += h.counts[i]!
    const le = i < h.bounds.length ? String(h.bounds[i]) : '+Inf'
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative })
  }
  out.push({ metricName: `${name}_sum`, labels, value: h.sum })
  out.push({ metricName: `${name}_count`, labels, value: h.count })
}

/** A histogram per label set, read from LatencyHistograms at scrape time. */
export function scrapedHistogram(
  registry: Registry,
  name: string,
  help: string,
  read: (emit: (labels: Labels, histogram: LatencyHistogram) => void) => void,
): void {
  const collector = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: Sample[] = []
      read((labels, histogram) => histogramSamples(name, labels, histogram, values))
      return { name, help, type: 'histogram', values, aggregator: 'sum' }
    },
    reset() {},
  }
  // The registry needs only name, type and get(); prom-client's Metric type also names its recording methods.
  registry.registerMetric(collector as unknown as Metric)
}
