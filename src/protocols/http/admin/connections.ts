// REST admin endpoints over the protocol listeners and their client connections, read through the typed
// registry each listener hands back: GET /api/v1/listeners, GET /api/v1/connections?protocol=&limit=&offset=&q=,
// DELETE /api/v1/connections/:id (Kafka: socket dropped; AMQP: connection.close 320; MQTT: v5 DISCONNECT
// 0x98, then the socket). The wharf_connections gauge is in ../metrics/listeners.ts.
import type { FastifyInstance } from 'fastify'
import type { Logger } from '../../../util/logger.js'
import type { ConnectionDirectory, ConnectionInfo } from '../../common/connections.js'
import type { Listener } from '../../common/listener.js'
import { adminRoute, bad, page, params, query, sendAdminError } from './context.js'

/** The listeners these endpoints read; live: listeners started after the HTTP one appear once they are up. */
export interface ListenersView {
  started?: ReadonlyMap<string, Listener>
}

/** Accepted as `?protocol=` even while that listener is not running (the answer is then empty). */
const KNOWN_PROTOCOLS = ['kafka', 'amqp', 'mqtt']

function directories(context: ListenersView): ConnectionDirectory[] {
  const out: ConnectionDirectory[] = []
  for (const listener of context.started?.values() ?? [])
    if (listener.connections !== undefined) out.push(listener.connections)
  return out
}

/** Open connections of every listener (of one protocol if given), in no particular order. */
export function openConnections(context: ListenersView, protocol?: string): ConnectionInfo[] {
  const all: ConnectionInfo[] = []
  for (const directory of directories(context))
    if (!protocol || directory.protocol === protocol) for (const c of directory.list()) all.push(c)
  return all
}

/** The text `?q=` searches: id, address, client, user, and the names a protocol keeps in details. */
function connectionSearchText(c: ConnectionInfo): string {
  const d = c.details ?? {}
  return [c.id, c.remoteAddress, c.clientId, c.clientName, c.clientVersion, c.user, d.connectionName]
    .filter((v) => typeof v === 'string')
    .join(' ')
}

export function registerConnectionsApi(app: FastifyInstance, context: ListenersView, logger: Logger): void {
  const route = adminRoute(app, logger)

  route('GET', '/listeners', () => {
    const items: Array<{ name: string; port: number; urls: string[]; connections: number | null }> = []
    for (const listener of context.started?.values() ?? []) {
      // Only listeners that track their connections say so; null means "not reported", not zero.
      items.push({
        name: listener.name,
        port: listener.port,
        urls: listener.urls,
        connections: listener.connections?.size ?? null,
      })
    }
    if (!items.some((l) => l.name === 'http')) {
      const address = app.server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      items.unshift({ name: 'http', port, urls: [], connections: null })
    }
    return { items, total: items.length }
  })

  route('GET', '/connections', (r) => {
    const q = query(r)
    const protocol = q.protocol
    const protocols = [...new Set([...KNOWN_PROTOCOLS, ...directories(context).map((d) => d.protocol)])]
    if (protocol !== undefined && protocol !== '' && !protocols.includes(protocol))
      throw bad(`protocol must be one of ${protocols.join(', ')}`)
    const all = openConnections(context, protocol)
    // Oldest first, so paging through a busy broker is stable while new connections arrive at the end.
    all.sort((a, b) => a.connectedAt - b.connectedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    return page(all, q, connectionSearchText)
  })

  route('DELETE', '/connections/:id', (r, reply) => {
    const id = params(r).id!
    for (const directory of directories(context)) if (directory.close(id, 'admin')) return { closed: id }
    sendAdminError(reply, 404, 'NOT_FOUND', `connection '${id}' does not exist`)
    return undefined
  })
}
