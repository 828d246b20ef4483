// The HTTP listener: one fastify server on the HTTP port serving the SQS JSON and query APIs and the SNS
// query API (all `POST /`), the Confluent-compatible schema registry, the REST admin API under /api/v1, /metrics,
// /healthz and /readyz. Other listeners (MQTT over WebSocket) attach to `httpServer`. With TLS configured the
// same app also serves HTTPS on the TLS port (`httpsServer`, where MQTT attaches WSS).
// The listener's own surfaces authenticate in auth/ (Basic, bearer tokens, dashboard sessions); SQS and SNS
// authenticate by their own scheme and are skipped there (awsRoute below).
// Bodies are read raw and bounded (bodyLimit); each service parses its own format so malformed input
// gets that service's error shape, never fastify's default.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Broker } from '../../broker/broker.js'
import { type Listener, type ListenerContext, limitServerConnections } from '../common/listener.js'
import { TrafficMetrics } from '../common/metrics.js'
import { registerAdmin, sendAdminError } from './admin/admin.js'
import { registerConnectionsApi } from './admin/connections.js'
import { registerHttpAuth } from './auth/auth.js'
import { AwsAuthenticator } from './aws/authenticator.js'
import { BodiesOverBudgetError, HTTP_BODIES_BYTES_MAX_DEFAULT, limitBodiesInFlight } from './body-budget.js'
import { registerDashboard } from './dashboard.js'
import { createMetrics } from './metrics/index.js'
import { REGISTRY_PATH, registerRegistry, sendRegistryError } from './registry.js'
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

/** A request's headers must arrive within this long (node:http's headersTimeout). */
export const HTTP_HEADERS_TIMEOUT_MS = 20_000
/** The whole request, body included, within this long: 4 MiB at a slow 100 KiB/s fits. */
export const HTTP_REQUEST_TIMEOUT_MS = 60_000
/** Node's default: idle keep-alive sockets go, clients reconnect cheaply. */
export const HTTP_KEEP_ALIVE_TIMEOUT_MS = 5_000

/**
 * node:http server options for the HTTP and HTTPS servers. node:http checks the header and request deadlines
 * every connectionsCheckingInterval (30 s by default), so that follows the smaller deadline: a small configured
 * limit is then enforced close to what it says.
 */
function serverTimeouts(config: HttpListenerContext['config']): {
  headersTimeout: number
  requestTimeout: number
  keepAliveTimeout: number
  connectionsCheckingInterval: number
} {
  const requestTimeout = config?.httpRequestTimeoutMs ?? HTTP_REQUEST_TIMEOUT_MS
  // node:http refuses a header deadline beyond the request deadline.
  const headersTimeout = Math.min(config?.httpHeadersTimeoutMs ?? HTTP_HEADERS_TIMEOUT_MS, requestTimeout)
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: config?.httpKeepAliveTimeoutMs ?? HTTP_KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(headersTimeout / 4))),
  }
}

/** HTTP connections are fastify's: the listener tracks none, so the admin API lists none for it. */
export interface HttpListenerContext extends ListenerContext {
  /** The server's config; `publicMetrics: false` puts /metrics, /healthz and /readyz behind credentials. */
  config?: {
    publicMetrics?: boolean
    sqsBaseUrl?: string
    /** Time to receive a request's headers, and the whole request with its body (slowloris); then the socket closes. */
    httpHeadersTimeoutMs?: number
    httpRequestTimeoutMs?: number
    /** An idle keep-alive connection closes after this long. */
    httpKeepAliveTimeoutMs?: number
    /** Bytes of request bodies held at once across the listener (body-budget.ts); 0 = no budget. */
    httpBodiesBytesMax?: number
    /** How often GET /api/v1/rates samples the broker's rates, and how long it keeps them (ms). */
    rateSampleMs?: number
    rateHistoryMs?: number
  }
}

/** `httpServer` is absent on a TLS-only listener (then MQTT over WebSocket is served as WSS only). */
export type HttpListener = Listener

const KIND_CONFIG = 'sqs-config'

/**
 * Routes that authenticate by AWS Signature V4 (SQS and SNS, ./sqs ./sns ./aws), not by the admin credentials:
 * the admin auth hook lets them through untouched. A new SQS/SNS route is added here.
 */
function awsRoute(method: string, route: string): boolean {
  return method === 'POST' && (route === '/' || route === '/:account/:queue')
}

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
  if (REGISTRY_PATH.test(path)) return 'registry'
  return 'other'
}

/** The fastify app with every route, not yet listening; `inject()` runs its routes in process (the fuzzers). */
export interface HttpApp {
  app: FastifyInstance
  /** The HTTPS server sharing the app's handler, when TLS is configured. */
  httpsServer: HttpsServer | undefined
  /** Makes /readyz answer 503 (the listener is closing). */
  markClosing(): void
}

export async function buildHttpApp(context: HttpListenerContext): Promise<HttpApp> {
  const { broker, logger } = context
  // The server's counters; a listener started on its own (tests, embedding) exports a set of its own.
  const traffic = context.metrics ?? new TrafficMetrics()
  // One SigV4 authenticator for SQS and SNS: their access keys and principals' decisions are cached once.
  const aws = new AwsAuthenticator(broker.security, logger, traffic)
  const sqs = new SqsService(broker, new ReceiptHandles(await receiptSecret(broker)), logger, {
    auth: aws,
    urlBase: { configured: context.config?.sqsBaseUrl?.replace(/\/+$/, ''), host: context.host },
    alarms: context.alarms,
    traffic: traffic.protocol('sqs'),
  })
  let closing = false
  // One app for both ports: the factory hands fastify's request handler to the HTTPS server as well.
  let httpsServer: HttpsServer | undefined
  const timeouts = serverTimeouts(context.config)
  const app = Fastify({
    logger: false,
    bodyLimit: HTTP_BODY_BYTES_MAX,
    return503OnClosing: true,
    serverFactory: (handler: (request: IncomingMessage, response: ServerResponse) => void) => {
      httpsServer = context.tls?.credentials.createHttpsServer(
        handler,
        (error) => logger.debug({ err: error.message }, 'https TLS handshake failed'),
        timeouts,
      )
      return applyKeepAlive(createServer(timeouts, handler), timeouts.keepAliveTimeout)
    },
  })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: HTTP_BODY_BYTES_MAX }, (_request, body, done) =>
    done(null, body),
  )
  limitBodiesInFlight(app, context.config?.httpBodiesBytesMax ?? HTTP_BODIES_BYTES_MAX_DEFAULT)

  // Framework-level failures (oversize body, aborted upload) in the shape of the service addressed.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status =
      error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
        ? error.statusCode
        : error instanceof BodiesOverBudgetError
          ? 503
          : 500
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
    // Parsed once here: SNS gets the fields, or the parse error to answer after authenticating.
    const form = requestForm(request)
    if (form instanceof Map && isSqsQuery(form)) return handleSqsQuery(sqs, request, reply, form)
    return sns.handle(request, reply, form)
  })
  // Older SQS query clients post to the queue URL itself; only SQS has such paths.
  app.post('/:account/:queue', async (request, reply) => {
    const form = requestForm(request)
    if (!(form instanceof Map))
      return sendSqsQueryError(reply, new SqsError('InvalidParameterValue', 'The request body is not a valid form.'))
    return handleSqsQuery(sqs, request, reply, form)
  })
  const sns = new SnsService(broker, logger, aws, context.alarms, traffic.protocol('sns'))
  const auth = registerHttpAuth(app, broker.security, logger, {
    traffic: traffic.protocol('http'),
    publicMetrics: context.config?.publicMetrics ?? true,
    skip: awsRoute,
  })
  registerAdmin(app, broker, sqs, logger, context, auth, traffic)
  registerConnectionsApi(app, context, logger)
  registerDashboard(app, logger)
  registerRegistry(app, broker, logger)
  const metrics = createMetrics(broker, traffic, context)
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

  return {
    app,
    httpsServer,
    markClosing: () => {
      closing = true
    },
  }
}

export async function startHttpListener(context: HttpListenerContext): Promise<HttpListener> {
  const { app, httpsServer, markClosing } = await buildHttpApp(context)
  const timeouts = serverTimeouts(context.config)
  // The same bounds as the TCP listeners, for the listener as a whole (both ports together; MQTT over
  // WebSocket counts here too). HTTP sockets are node:http's, not in a connection registry: counted on arrival.
  // A TLS-only listener (plaintext: false) builds the app but listens on the HTTPS port alone.
  const plaintext = context.plaintext !== false
  limitServerConnections(context, 'http', [plaintext ? app.server : undefined, httpsServer])
  if (plaintext) await app.listen({ host: context.host, port: context.port })
  else await app.ready()
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : context.port
  const shown = context.host.includes(':') ? `[${context.host}]` : context.host
  const what = '(SQS, SNS, schema registry, /api/v1, /metrics)'
  const urls = plaintext ? [`http://${shown}:${port}/ ${what}`] : []
  const https = httpsServer
  let httpsPort: number | undefined
  if (https !== undefined && context.tls !== undefined) {
    applyKeepAlive(https, timeouts.keepAliveTimeout)
    try {
      // One address: 'localhost' could resolve to either loopback family.
      await listenHttps(https, context.host === 'localhost' ? '127.0.0.1' : context.host, context.tls.port)
    } catch (error) {
      await app.close()
      throw error
    }
    const httpsAddress = https.address()
    httpsPort = typeof httpsAddress === 'object' && httpsAddress !== null ? httpsAddress.port : context.tls.port
    urls.push(`https://${shown}:${httpsPort}/ ${what}`)
  }
  if (!plaintext && httpsPort === undefined) {
    await app.close()
    throw new Error('a TLS-only HTTP listener needs TLS configured')
  }
  return {
    name: 'http',
    port: plaintext ? port : (httpsPort ?? port),
    ...(plaintext ? { httpServer: app.server } : {}),
    ...(https === undefined ? {} : { httpsServer: https }),
    urls,
    async close() {
      markClosing()
      if (https !== undefined) {
        const closed = new Promise<void>((resolve) => https.close(() => resolve()))
        https.closeIdleConnections()
        await app.close()
        // What is still open after the app drained (a keep-alive request in progress has ended by now).
        https.closeAllConnections()
        await closed
      } else await app.close()
    },
  }
}

function applyKeepAlive<S extends Server | HttpsServer>(server: S, ms: number): S {
  server.keepAliveTimeout = ms
  return server
}

function listenHttps(server: HttpsServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** The query-protocol fields of the body and the URL (presigned requests carry them in the URL), or why not. */
function requestForm(request: FastifyRequest): Map<string, string> | Error {
  try {
    return parseRequestForm((request.body as Buffer | undefined)?.toString('utf8') ?? '', request.url)
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error))
  }
}

function sendServiceError(service: Service, reply: FastifyReply, status: number, message: string): FastifyReply {
  if (service === 'sqs') {
    const name =
      status === 413
        ? 'RequestEntityTooLarge'
        : status === 503
          ? 'ServiceUnavailable'
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
      status === 503
        ? 'ServiceUnavailable'
        : status >= 500
          ? 'InternalFailure'
          : status === 413
            ? 'RequestEntityTooLarge'
            : 'InvalidParameter',
      message,
    )
  const code =
    status === 413
      ? 'PAYLOAD_TOO_LARGE'
      : status === 404
        ? 'NOT_FOUND'
        : status === 503
          ? 'UNAVAILABLE'
          : status >= 500
            ? 'INTERNAL'
            : 'BAD_REQUEST'
  return sendAdminError(reply, status, code, message)
}
