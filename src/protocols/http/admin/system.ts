// REST admin endpoints about the process: GET /api/v1/system (uptime, process memory, bytes stored),
// GET /api/v1/alarms (active resource alarms, publishers they hold back) and GET /api/v1/cluster (this
// broker's node id, the live members, the owner of each stream partition; empty on a single broker). Their gauges (wharf_alarm,
// wharf_connections_blocked) are in ../metrics/listeners.ts.
import { Stream } from '../../../broker/stream/stream.js'
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

  route('GET', '/cluster', () => {
    const cluster = broker.cluster
    if (cluster === undefined) return { nodeId: null, members: [], controller: null, streams: [] }
    return {
      nodeId: cluster.nodeId,
      members: cluster.members(),
      // The storage contract does not name the controller (its lease is the engine's own business).
      controller: null,
      streams: broker.listStreams().map((stream) => ({
        name: stream.name,
        owners: stream.partitions.map((_log, p) => cluster.ownerOf(Stream.logName(stream.id, p)) ?? null),
      })),
    }
  })
}
