// REST admin endpoints the dashboard needed beyond admin.ts, in the same shape (JSON, /api/v1, lists paged
// with `?limit=&offset=&q=` answering `{items, total, limit, offset}`, errors `{error: {code, message}}`), so
// the CLI can use them too:
//   GET /api/v1/system                          uptime, process memory, bytes stored
//   GET /api/v1/topics, /api/v1/topics/:name    SNS topics and their subscriptions
//   GET /api/v1/queues/:name/dead-letter-sources  queues that dead-letter into this one (redrive targets)
//   GET /api/v1/alarms                          active resource alarms (disk, memory), blocked publishers
//   GET /api/v1/mqtt/sessions?limit=&offset=&q=  persistent MQTT sessions (catalog kind 'mqtt-session')
//   GET /api/v1/mqtt/retained?limit=&offset=&q=  retained MQTT messages: topic, payload bytes, timestamp
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Gauge, type Registry } from 'prom-client'
import type { Broker } from '../../../broker/broker.js'
import { isWharfError } from '../../../util/errors.js'
import type { Logger } from '../../../util/logger.js'
import type { Listener } from '../../common/listener.js'
import { API_PREFIX, sendAdminError } from './admin.js'
import { openConnections } from './connections.js'
import { adminStatus, page, type Query } from './context.js'

/** A not-found for objects with no broker error code of their own (SNS topics). */
class NotFound extends Error {}

/** One active resource alarm, as the server's monitor reports it. */
interface AlarmInfo {
  kind: string
  message: string
  since: number
  value: number
  limit: number
  forced?: boolean
}

/** The part of the listener context these endpoints read; `started` is live: later listeners appear in it. */
export interface DashboardApiContext {
  broker: Broker
  logger: Logger
  started?: ReadonlyMap<string, Listener>
  /** The server's resource alarms; absent when embedded without a server (no alarms then). */
  alarms?: { current(): AlarmInfo[] }
}

/** Publisher connections held back by an alarm, per listener that counts them (AMQP). */
function blockedPublishers(started: ReadonlyMap<string, Listener> | undefined): Record<string, number> {
  const out: Record<string, number> = {}
  for (const listener of started?.values() ?? []) {
    const count = (listener as { blockedPublisherCount?: unknown }).blockedPublisherCount
    if (typeof count === 'number') out[listener.name] = count
  }
  return out
}

/** Stored shape of a persistent MQTT session (kind 'mqtt-session'); only the fields listed here are read. */
interface MqttSessionRecord {
  expiryS?: number
  subscriptions?: Array<{ filter?: string; qos?: number }>
  disconnectedAt?: number | null
}

const MQTT_SESSION_KIND = 'mqtt-session'

/** `wharf_alarm{kind}`: 1 while that resource alarm is active. Both kinds are always exported (0 = clear). */
export function registerAlarmMetrics(registry: Registry, context: DashboardApiContext): void {
  new Gauge({
    name: 'wharf_alarm',
    help: 'Resource alarm active (1) or clear (0), by kind',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const active = new Set((context.alarms?.current() ?? []).map((a) => a.kind))
      for (const kind of ['disk', 'memory']) this.set({ kind }, active.has(kind) ? 1 : 0)
    },
  })
}

function destinationName(d: { kind: string; name?: string; id?: string }): string {
  return d.name ?? d.id ?? ''
}

export function registerDashboardApi(app: FastifyInstance, context: DashboardApiContext): void {
  const { broker, logger } = context
  const startedAt = Date.now()
  const route = (path: string, handler: (request: FastifyRequest) => unknown, method: 'GET' | 'DELETE' = 'GET') => {
    app.route({
      method,
      url: `${API_PREFIX}${path}`,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        try {
          return reply.header('content-type', 'application/json').send(JSON.stringify(handler(request)))
        } catch (error) {
          if (error instanceof NotFound) return sendAdminError(reply, 404, 'NOT_FOUND', error.message)
          if (isWharfError(error)) return sendAdminError(reply, adminStatus(error.code), error.code, error.message)
          logger.error({ err: error, url: request.url }, 'admin request failed')
          return sendAdminError(reply, 500, 'INTERNAL', 'internal error')
        }
      },
    })
  }
  const params = (request: FastifyRequest) => request.params as Record<string, string>
  const query = (request: FastifyRequest) => request.query as Query

  route('/alarms', () => {
    const byProtocol = blockedPublishers(context.started)
    return {
      alarms: context.alarms?.current() ?? [],
      blockedPublishers: Object.values(byProtocol).reduce((a, b) => a + b, 0),
      blockedPublishersByProtocol: byProtocol,
    }
  })

  route('/mqtt/sessions', (r) => {
    // Live client ids, so the page can tell a connected session from one waiting for its client.
    const connected = new Set<string>()
    for (const c of openConnections(context, 'mqtt'))
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

  route('/mqtt/retained', (r) => {
    const items: Array<{ topic: string; bytes: number; timestamp: number }> = []
    for (const listener of context.started?.values() ?? []) {
      const l = listener as { retainedMessages?: () => Array<{ topic: string; bytes: number; timestamp: number }> }
      if (typeof l.retainedMessages === 'function') items.push(...l.retainedMessages())
    }
    return page(items, query(r), (m) => m.topic)
  })

  route('/system', () => {
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

  route('/topics', (r) => {
    const paged = page(broker.topics.listTopics(), query(r), (n) => n)
    return {
      ...paged,
      items: paged.items.map((name) => ({ name, subscriptions: broker.topics.list(name).length })),
    }
  })
  route('/topics/:name', (r) => {
    const name = params(r).name!
    if (!broker.topics.hasTopic(name)) throw new NotFound(`topic '${name}' does not exist`)
    return {
      name,
      attributes: broker.topics.topicAttributes(name) ?? {},
      subscriptions: broker.topics.list(name).map((s) => ({
        id: s.id,
        destination: { kind: s.destination.kind, name: destinationName(s.destination as { kind: string }) },
        raw: s.raw,
        filterPolicy: s.filterPolicyJson ?? null,
      })),
    }
  })

  route('/queues/:name/dead-letter-sources', (r) => {
    const name = params(r).name!
    broker.queue(name)
    const sources = broker
      .listQueues()
      .filter((q) => {
        const target = q.config.deadLetter
        return target !== null && 'queue' in target && target.queue === name
      })
      .map((q) => q.name)
    return { queue: name, sources }
  })
}
