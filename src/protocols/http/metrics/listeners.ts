// Series about the protocol listeners, read at scrape time through the live map of started listeners:
// open connections and channels per protocol, resource alarms, and the connections an alarm holds back.
import type { Registry } from 'prom-client'
import type { Alarm, Listener } from '../../common/listener.js'
import { scrapedGauge } from './scraped.js'

/** The listeners and alarms these series read; `started` is live: later listeners appear in it. */
export interface ListenersMetricsView {
  started?: ReadonlyMap<string, Listener>
  /** The server's resource alarms; absent when embedded without a server (no alarms then). */
  alarms?: { current(): Alarm[] }
}

export function registerListenerMetrics(registry: Registry, view: ListenersMetricsView): void {
  const perListener = (name: string, help: string, pick: (l: Listener) => number | undefined) =>
    scrapedGauge(registry, name, help, ['protocol'], (emit) => {
      for (const listener of view.started?.values() ?? []) {
        const value = pick(listener)
        if (value !== undefined) emit({ protocol: listener.name }, value)
      }
    })
  perListener('wharf_connections', 'Open client connections per protocol', (l) => l.connections?.size)
  perListener('wharf_channels', 'Open channels per protocol (AMQP)', (l) => l.channelCount)
  perListener(
    'wharf_connections_blocked',
    'Connections a resource alarm holds back because they publish, per protocol (see /api/v1/alarms)',
    (l) => l.blockedPublisherCount,
  )
  scrapedGauge(
    registry,
    'wharf_connection_blocked',
    'One series (value 1) per connection a resource alarm holds back, naming it; none while no alarm holds any',
    ['protocol', 'connection', 'peer', 'user'],
    (emit) => {
      for (const listener of view.started?.values() ?? []) {
        // Listing describes every connection: only done while some are held back.
        if (!listener.blockedPublisherCount || listener.connections === undefined) continue
        for (const c of listener.connections.list())
          if (c.blockedByAlarm === true)
            emit({ protocol: c.protocol, connection: c.id, peer: c.remoteAddress, user: c.user ?? '' }, 1)
      }
    },
  )
  scrapedGauge(registry, 'wharf_alarm', 'Resource alarm active (1) or clear (0), by kind', ['kind'], (emit) => {
    const active = new Set((view.alarms?.current() ?? []).map((a) => a.kind))
    for (const kind of ['disk', 'memory']) emit({ kind }, active.has(kind) ? 1 : 0)
  })
}
