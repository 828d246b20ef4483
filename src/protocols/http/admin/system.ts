// REST admin endpoints about the process: GET /api/v1/system (uptime, process memory, bytes stored) and
// GET /api/v1/alarms (active resource alarms, publishers they hold back), and the wharf_alarm gauge.
import { Gauge, type Registry } from 'prom-client'
import type { Alarm, Listener } from '../../common/listener.js'
import type { AdminContext } from './context.js'

/** The part of the listener context these endpoints read; `started` is live: later listeners appear in it. */
export interface SystemView {
  started?: ReadonlyMap<string, Listener>
  /** The server's resource alarms; absent when embedded without a server (no alarms then). */
  alarms?: { current(): Alarm[] }
}

/** Publisher connections held back by an alarm, per listener that counts them (AMQP). */
function blockedPublishers(started: ReadonlyMap<string, Listener> | undefined): Record<string, number> {
  const out: Record<string, number> = {}
  for (const listener of started?.values() ?? [])
    if (listener.blockedPublisherCount !== undefined) out[listener.name] = listener.blockedPublisherCount
  return out
}

/** `wharf_alarm{kind}`: 1 while that resource alarm is active. Both kinds are always exported (0 = clear). */
export function registerAlarmMetrics(registry: Registry, view: SystemView): void {
  new Gauge({
    name: 'wharf_alarm',
    help: 'Resource alarm active (1) or clear (0), by kind',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const active = new Set((view.alarms?.current() ?? []).map((a) => a.kind))
      for (const kind of ['disk', 'memory']) this.set({ kind }, active.has(kind) ? 1 : 0)
    },
  })
}

export function registerSystemRoutes({ broker, route }: AdminContext, view: SystemView): void {
  const startedAt = Date.now()

  route('GET', '/alarms', () => {
    const byProtocol = blockedPublishers(view.started)
    return {
      alarms: view.alarms?.current() ?? [],
      blockedPublishers: Object.values(byProtocol).reduce((a, b) => a + b, 0),
      blockedPublishersByProtocol: byProtocol,
    }
  })

  route('GET', '/system', () => {
    let storedBytes = 0
    let partitions = 0
    for (const stream of broker.listStreams())
      for (const log of stream.partitions) {
        storedBytes += log.sizeBytes
        partitions++
      }
    const memory = process.memoryUsage()
    return {
      startedAt,
      uptimeSeconds: Math.round(process.uptime()),
      node: process.version,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      storedBytes,
      partitions,
    }
  })
}
