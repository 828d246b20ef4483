// REST admin API (JSON, /api/v1): the one management API the CLI and the dashboard use. Every list takes
// `?limit=&offset=&q=` (server-side substring filter on the name) and answers `{items, total, limit, offset}`.
// Errors: `{error: {code, message}}` with the status from one table (broker code → HTTP status).
// The routes live per resource area (streams, queues, groups, routing, messages, topics, mqtt, system,
// connections for listeners and client connections, rates for the sampled rate history, users and acls for
// identities, definitions for export and import of all of it) over the shared helpers in
// context.ts; this module registers them plus /openapi.json and /overview. Who may call which route is
// decided before a handler runs (../auth/); handlers check ACL rules on the resources they touch.
import type { FastifyInstance } from 'fastify'
import type { Broker } from '../../../broker/broker.js'
import { WharfError } from '../../../util/errors.js'
import type { Logger } from '../../../util/logger.js'
import type { TrafficMetrics } from '../../common/metrics.js'
import type { HttpAuth } from '../auth/auth.js'
import type { SqsService } from '../sqs/service.js'
import { registerAclRoutes } from './acls.js'
import type { ListenersView } from './connections.js'
import { type AdminContext, adminRoute } from './context.js'
import { registerDefinitionRoutes } from './definitions.js'
import { listGroupIds, registerGroupRoutes } from './groups.js'
import { registerMqttRoutes } from './mqtt.js'
import { openApiDocument } from './openapi.js'
import { registerQueueRoutes } from './queues.js'
import { registerRateRoutes } from './rates.js'
import { registerRoutingRoutes } from './routing.js'
import { registerStreamRoutes } from './streams.js'
import { registerSystemRoutes, type SystemView } from './system.js'
import { registerTopicRoutes } from './topics.js'
import { registerUserRoutes } from './users.js'

// Imported from here by listener.ts and metrics.ts.
export { API_PREFIX, sendAdminError } from './context.js'
export { describeGroup, listGroupIds } from './groups.js'

export function registerAdmin(
  app: FastifyInstance,
  broker: Broker,
  sqs: SqsService,
  logger: Logger,
  view: SystemView & ListenersView & { config?: { rateSampleMs?: number; rateHistoryMs?: number } },
  auth: HttpAuth,
  /** The server's per-protocol counters: what the rates' "out" reads. */
  traffic: TrafficMetrics,
): void {
  const context: AdminContext = {
    broker,
    route: adminRoute(app, logger),
    authorize: auth.authorize,
    protocolProperties: (headers) => {
      for (const listener of view.started?.values() ?? []) {
        const properties = listener.messageProperties?.(headers)
        if (properties !== undefined) return { protocol: listener.name, ...properties }
      }
      return undefined
    },
    withProperties: (properties, body) => {
      for (const listener of view.started?.values() ?? [])
        if (listener.messageWithProperties !== undefined) return listener.messageWithProperties(properties, body)
      throw new WharfError('INVALID_ARGUMENT', 'message properties need the AMQP listener, which is not running')
    },
    internalName: (name) => {
      for (const listener of view.started?.values() ?? []) {
        const what = listener.internalName?.(name)
        if (what !== undefined) return what
      }
      return undefined
    },
  }
  const { route } = context

  route('GET', '/openapi.json', () => openApiDocument())
  route('GET', '/overview', () => ({
    streams: broker.listStreams().length,
    queues: broker.listQueues().length,
    exchanges: broker.router.listExchanges().length,
    groups: listGroupIds(broker).length,
    topics: broker.topics.listTopics().length,
    messagesIn: broker.listStreams().reduce((sum, s) => sum + s.stats.messagesIn, 0),
  }))

  registerStreamRoutes(context)
  registerQueueRoutes(context, sqs)
  registerRoutingRoutes(context)
  registerGroupRoutes(context)
  registerTopicRoutes(context)
  registerMqttRoutes(context, view)
  registerSystemRoutes(context, view)
  const stopRates = registerRateRoutes(context, traffic, {
    sampleMs: view.config?.rateSampleMs,
    historyMs: view.config?.rateHistoryMs,
  })
  app.addHook('onClose', async () => stopRates())
  registerUserRoutes(context, auth.sessions)
  registerAclRoutes(context)
  registerDefinitionRoutes(context)
}
