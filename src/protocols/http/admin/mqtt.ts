// REST admin endpoints for MQTT state the broker keeps for the adapter: GET /api/v1/mqtt/sessions (persistent
// sessions, catalog kind 'mqtt-session', and whether their client is connected) and GET /api/v1/mqtt/retained
// (topic, payload bytes, timestamp and the first 4 KiB of the payload, as text or `?encoding=base64`); both paged with `?limit=&offset=&q=`.
import type { RetainedMessage } from '../../common/listener.js'
import { type ListenersView, openConnections } from './connections.js'
import { type AdminContext, page, query } from './context.js'
import { encodingOf } from './messages.js'

/** Stored shape of a persistent MQTT session (kind 'mqtt-session'); only the fields listed here are read. */
interface MqttSessionRecord {
  expiryS?: number
  subscriptions?: Array<{ filter?: string; qos?: number }>
  disconnectedAt?: number | null
}

const MQTT_SESSION_KIND = 'mqtt-session'
/** A page of retained messages shows this much of each payload (a retained message may hold 1 MiB). */
const RETAINED_PREVIEW_BYTES = 4096
const bufferEncoding = { text: 'utf8', json: 'utf8', base64: 'base64' } as const

export function registerMqttRoutes({ broker, route }: AdminContext, view: ListenersView): void {
  route('GET', '/mqtt/sessions', (r) => {
    // Live client ids, so the page can tell a connected session from one waiting for its client.
    const connected = new Set<string>()
    for (const c of openConnections(view, 'mqtt'))
      if (typeof c.details?.clientId === 'string') connected.add(c.details.clientId)
    const sessions = broker
      .catalog<MqttSessionRecord>(MQTT_SESSION_KIND)
      .list()
      .map(([clientId, record]) => ({
        clientId,
        connected: connected.has(clientId),
        expirySeconds: record.expiryS ?? null,
        disconnectedAt: record.disconnectedAt ?? null,
        subscriptions: (record.subscriptions ?? []).map((s) => ({ filter: s.filter ?? '', qos: s.qos ?? 0 })),
      }))
      .sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0))
    return page(sessions, query(r), (s) => s.clientId)
  })

  route('GET', '/mqtt/retained', (r) => {
    const encoding = encodingOf(query(r).encoding, 'text')
    const items: RetainedMessage[] = []
    for (const listener of view.started?.values() ?? [])
      if (listener.retainedMessages !== undefined) items.push(...listener.retainedMessages())
    const paged = page(items, query(r), (m) => m.topic)
    return {
      ...paged,
      items: paged.items.map(({ payload, ...m }) => ({
        ...m,
        payload:
          payload === null ? null : payload.subarray(0, RETAINED_PREVIEW_BYTES).toString(bufferEncoding[encoding]),
        truncated: (payload?.length ?? 0) > RETAINED_PREVIEW_BYTES,
      })),
    }
  })
}
