// The HTTP listener: one fastify server on the HTTP port serving the SQS JSON and query APIs and the SNS
// query API (all `POST /`), the Confluent-compatible schema registry, the REST admin API under /api/v1, /metrics,
// /healthz and /readyz. Other listeners (MQTT over WebSocket) attach to `httpServer`.
// Bodies are read raw and bounded (bodyLimit); each service parses its own format so malformed input
// gets that service's error shape, never fastify's default.
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Broker } from '../../broker/broker.js'
import { CONNECTIONS_MAX_DEFAULT, type Listener, type ListenerContext } from '../common/listener.js'
import { registerAdmin, sendAdminError } from './admin/admin.js'
import { registerConnectionMetrics, registerConnectionsApi } from './admin/connections.js'
import { registerAlarmMetrics } from './admin/system.js'
import { registerDashboard } from './dashboard.js'
import { createMetrics } from './metrics.js'
import { registerRegistry, sendRegistryError } from './registry.js'
import { sendQueryError } from './sns/errors.js'
import { parseRequestForm } from './sns/query.js'
import { SnsService } from './sns/service.js'
import { SqsError } from './sqs/errors.js'
import { ReceiptHandles } from './sqs/message-codec.js'
import { handleSqsQuery, isSqsQuery, sendSqsQueryError } from './sqs/query.js'
import { handleSqsJson, SQS_TARGET_PREFIX, sendSqsError } from './sqs/routes.js'
import { SqsService } from './sqs/service.js'

/** Largest request body: a 1 MiB SQS batch, base64 binary attributes and JSON overhead fit. */
export const HTTP_BODY_BYTES_MAX = 4 * 1024 * 1024

/** HTTP connections are fastify's: the listener tracks none, so the admin API lists none for it. */
export type HttpListenerContext = ListenerContext

export interface HttpListener extends Listener {
  readonly httpServer: Server
}

const KIND_CONFIG = 'sqs-config'

async function receiptSecret(broker: Broker): Promise<Buffer> {
  const config = broker.catalog<string>(KIND_CONFIG)
  const stored = config.get('receipt-secret')
  if (typeof stored === 'string' && stored.length === 64) return Buffer.from(stored, 'hex')
  const secret = randomBytes(32)
  await config.put('receipt-secret', secret.toString('hex'))
  return secret
}

type Service = 'sqs' | 'aws-query' | 'admin' | 'registry' | 'other'

function serviceOf(request: FastifyRequest): Service {
  const target = request.headers['x-amz-target']
  if (typeof target === 'string' && target.startsWith(SQS_TARGET_PREFIX)) return 'sqs'
  const path = request.url.split('?')[0] ?? '/'
  if (path === '/' && request.method === 'POST') return 'aws-query'
  if (path.startsWith('/api/')) return 'admin'
  if (/^\/(subjects|schemas|config|compatibility|mode)(\/|$)/.test(path)) return 'registry'
  return 'other'
}

export async function startHttpListener(context: HttpListenerContext): Promise<HttpListener> {
  const { broker, logger } = context
  const sqs = new SqsService(
    broker,
    new ReceiptHandles(await receiptSecret(broker), randomBytes(8).toString('hex')),
    logger,
  )
  const app = Fastify({ logger: false, bodyLimit: HTTP_BODY_BYTES_MAX, return503OnClosing: true })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: HTTP_BODY_BYTES_MAX }, (_request, body, done) =>
    done(null, body),
  )

  // Framework-level failures (oversize body, aborted upload) in the shape of the service addressed.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status =
      error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status === 500) logger.error({ err: error, url: request.url }, 'http request failed')
    const message = status === 500 ? 'internal error' : error.message
    return sendServiceError(serviceOf(request), reply, status, message)
  })
  app.setNotFoundHandler((request, reply) =>
    sendServiceError(serviceOf(request), reply, 404, `no route for ${request.method} ${request.url.split('?')[0]}`),
  )

  app.post('/', async (request, reply) => {
    const target = request.headers['x-amz-target']
    if (typeof target === 'string' && target.startsWith(SQS_TARGET_PREFIX))
      return handleSqsJson(sqs, request, reply, target)
    // Everything else on POST / is the query protocol: SQS (older SDKs) or SNS. Both send `Action=`
    // (and share AddPermission/RemovePermission), so the API Version decides.
    const body = (request.body as Buffer | undefined)?.toString('utf8') ?? ''
    const params = formOrUndefined(body, request.url)
    if (params !== undefined && isSqsQuery(params)) return handleSqsQuery(sqs, request, reply, params)
    return sns.handle(request, reply, body)
  })
  // Older SQS query clients post to the queue URL itself; only SQS has such paths.
  app.post('/:account/:queue', async (request, reply) => {
    const params = formOrUndefined((request.body as Buffer | undefined)?.toString('utf8') ?? '', request.url)
    if (params === undefined)
      return sendSqsQueryError(reply, new SqsError('InvalidParameterValue', 'The request body is not a valid form.'))
    return handleSqsQuery(sqs, request, reply, params)
  })
  const sns = new SnsService(broker, logger)
  registerAdmin(app, broker, sqs, logger, context)
  registerConnectionsApi(app, context, logger)
  registerDashboard(app, logger)
  registerRegistry(app, broker, logger)
  const metrics = createMetrics(broker, sqs)
  registerConnectionMetrics(metrics.registry, context)
  registerAlarmMetrics(metrics.registry, context)
  // Callback style: an async hook costs a promise on every request.
  app.addHook('onRequest', (request, _reply, done) => {
    metrics.countRequest(serviceOf(request))
    done()
  })
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  )
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) =>
    closing ? reply.code(503).send({ status: 'closing' }) : { status: 'ready' },
  )

  let closing = false
  // The same accept bound as the TCP listeners (node:http drops sockets beyond it); MQTT over WebSocket counts here too.
  app.server.maxConnections = context.connectionsMax ?? CONNECTIONS_MAX_DEFAULT
  await app.listen({ host: context.host, port: context.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : context.port
  const shown = context.host.includes(':') ? `[${context.host}]` : context.host
  return {
    name: 'http',
    port,
    httpServer: app.server,
    urls: [`http://${shown}:${port}/ (SQS, SNS, schema registry, /api/v1, /metrics)`],
    async close() {
      closing = true
      await app.close()
    },
  }
}

/** The query-protocol fields of the body and the URL (presigned requests carry them in the URL). */
function formOrUndefined(body: string, url: string): Map<string, string> | undefined {
  try {
    return parseRequestForm(body, url)
  } catch {
    return undefined
  }
}

function sendServiceError(service: Service, reply: FastifyReply, status: number, message: string): FastifyReply {
  if (service === 'sqs') {
    const name =
      status === 413
        ? 'RequestEntityTooLarge'
        : status >= 500
          ? 'InternalError'
          : status === 404
            ? 'InvalidAddress'
            : 'InvalidParameterValue'
    return sendSqsError(reply, new SqsError(name, message))
  }
  if (service === 'registry') return sendRegistryError(reply, status >= 500 ? 50001 : status, message)
  if (service === 'aws-query')
    return sendQueryError(
      reply,
      status,
      status >= 500 ? 'InternalFailure' : status === 413 ? 'RequestEntityTooLarge' : 'InvalidParameter',
      message,
    )
  const code =
    status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 404 ? 'NOT_FOUND' : status >= 500 ? 'INTERNAL' : 'BAD_REQUEST'
  return sendAdminError(reply, status, code, message)
}
