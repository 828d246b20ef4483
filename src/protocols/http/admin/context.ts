// What every REST admin route module (streams.ts, queues.ts, groups.ts, routing.ts, ...)
// shares: the route helper that sends a handler's result as JSON and maps broker errors to one status table,
// the admin error shape, request parsing (JSON body, integer query parameters, `?limit&offset&q` paging) and the
// list/create/describe routes of a named collection (streams, queues).
// Kept apart from admin.ts so the route modules need not import the module that registers them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Broker } from '../../../broker/broker.js'
import type { PublishMessage, RecordHeader } from '../../../broker/message.js'
import { checkName } from '../../../broker/names.js'
import type { Operation, ResourceType } from '../../../broker/security/acls.js'
import { type ErrorCode, isWharfError, WharfError } from '../../../util/errors.js'
import type { Logger } from '../../../util/logger.js'

export const API_PREFIX = '/api/v1'
const LIST_LIMIT_DEFAULT = 100
const LIST_LIMIT_MAX = 1000

const statusOf: Partial<Record<ErrorCode, number>> = {
  STREAM_NOT_FOUND: 404,
  PARTITION_NOT_FOUND: 404,
  SUBSCRIPTION_NOT_FOUND: 404,
  EXCHANGE_NOT_FOUND: 404,
  SCHEMA_NOT_FOUND: 404,
  LEASE_NOT_FOUND: 404,
  STREAM_EXISTS: 409,
  SUBSCRIPTION_EXISTS: 409,
  EXCHANGE_EXISTS: 409,
  PRECONDITION_FAILED: 409,
  RESOURCE_LOCKED: 409,
  ACCESS_REFUSED: 403,
  SCHEMA_INCOMPATIBLE: 409,
  INVALID_CONFIG: 400,
  INVALID_ARGUMENT: 400,
  INVALID_SCHEMA: 422,
  SCHEMA_VIOLATION: 422,
  MESSAGE_TOO_LARGE: 413,
  RECORD_TOO_LARGE: 413,
  QUEUE_FULL: 429,
  LIMIT_EXCEEDED: 429,
  OFFSET_OUT_OF_RANGE: 416,
  BROKER_CLOSED: 503,
  NOT_OWNER: 503,
  LINK_DOWN: 503,
  // WebDAV's Insufficient Storage: the request was fine, the disk is not.
  DISK_FULL: 507,
}

/**
 * The broker's codes in the admin API's words: a broker queue is a queue subscription inside, but the API
 * manages queues, so no `SUBSCRIPTION_*` reaches its callers (SNS subscriptions answer in SNS's own errors).
 */
const apiCodes: Partial<Record<ErrorCode, string>> = {
  SUBSCRIPTION_NOT_FOUND: 'QUEUE_NOT_FOUND',
  SUBSCRIPTION_EXISTS: 'QUEUE_EXISTS',
}

/** HTTP status of a broker error code (unknown codes: 500), shared by every admin route. */
export function adminStatus(code: string): number {
  return statusOf[code as ErrorCode] ?? 500
}

export function sendAdminError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ error: { code, message } }))
}

export type AdminHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> | unknown

/** Registers `handler` at `${API_PREFIX}${path}`; its result is the JSON reply (`status`, default 200). */
export type AdminRoute = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  handler: AdminHandler,
  status?: number,
) => void

/** Throws ACCESS_REFUSED unless the request's principal may do `operation` on the resource (ACL rules). */
export type Authorize = (request: FastifyRequest, operation: Operation, type: ResourceType, name: string) => void

/**
 * What a route module gets: the broker it manages, the route helper and the ACL check. Which tag a route needs
 * is decided before the handler runs (auth/policy.ts); handlers check ACL rules on the resources they touch.
 */
export interface AdminContext {
  readonly broker: Broker
  readonly route: AdminRoute
  readonly authorize: Authorize
  /**
   * A stored message's properties as the protocol that published it names them (`{protocol: 'amqp',
   * 'content-type': …}`), asked of the running listeners; undefined when none recognises its headers.
   */
  readonly protocolProperties: (headers: readonly RecordHeader[]) => Record<string, unknown> | undefined
  /**
   * A message with protocol properties (`{'content-type': …}` as protocolProperties names them) as the
   * listener that owns them stores it; INVALID_ARGUMENT when no running listener takes properties.
   */
  readonly withProperties: (properties: Record<string, unknown>, body: Buffer) => PublishMessage
  /** What a protocol keeps in the stream or queue of this name when it is that protocol's own state, else undefined. */
  readonly internalName: (name: string) => string | undefined
}

export function adminRoute(app: FastifyInstance, logger: Logger): AdminRoute {
  return (method, path, handler, status = 200) => {
    app.route({
      method,
      url: `${API_PREFIX}${path}`,
      handler: async (request, reply) => {
        try {
          const result = await handler(request, reply)
          if (reply.sent) return reply
          return reply
            .code(status)
            .header('content-type', 'application/json')
            .send(JSON.stringify(result ?? {}))
        } catch (error) {
          if (isWharfError(error))
            return sendAdminError(reply, statusOf[error.code] ?? 500, apiCodes[error.code] ?? error.code, error.message)
          logger.error({ err: error, url: request.url }, 'admin request failed')
          return sendAdminError(reply, 500, 'INTERNAL', 'internal error')
        }
      },
    })
  }
}

export function bad(message: string): WharfError {
  return new WharfError('INVALID_ARGUMENT', message)
}

export function body(request: FastifyRequest): Record<string, unknown> {
  const raw = request.body as Buffer | undefined
  if (raw === undefined || raw.length === 0) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.toString('utf8'))
  } catch {
    throw bad('request body is not valid JSON')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw bad('request body must be a JSON object')
  return parsed as Record<string, unknown>
}

export type Query = Record<string, string | undefined>

export const params = (request: FastifyRequest) => request.params as Record<string, string>
export const query = (request: FastifyRequest) => request.query as Query

export function intQuery(query: Query, name: string, fallback: number, min: number, max: number): number {
  const raw = query[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw bad(`${name} must be an integer in [${min}, ${max}]`)
  return n
}

/** Pagination and filtering shared by every list. */
export function page<T>(
  items: T[],
  query: Query,
  nameOf: (item: T) => string,
): { items: T[]; total: number; limit: number; offset: number } {
  const limit = intQuery(query, 'limit', LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX)
  const offset = intQuery(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER)
  const q = query.q?.toLowerCase()
  const filtered = q ? items.filter((item) => nameOf(item).toLowerCase().includes(q)) : items
  return { items: filtered.slice(offset, offset + limit), total: filtered.length, limit, offset }
}

/** Pages names first (cheap), then describes only the page (a description may ask another broker). */
export async function pageMap<T>(
  names: string[],
  query: Query,
  describe: (name: string) => T | Promise<T>,
): Promise<{ items: T[]; total: number; limit: number; offset: number }> {
  const paged = page(names, query, (n) => n)
  return { ...paged, items: await Promise.all(paged.items.map(describe)) }
}

/** How a named resource kind (streams, queues) is listed, created and described. */
export interface Collection {
  /** The names a list shows; `?internal=false` leaves out protocols' own state (and streams under queues). */
  readonly names: (internal: boolean) => string[]
  readonly describe: (name: string) => Record<string, unknown> | Promise<Record<string, unknown>>
  /** Creates `name` with the rest of the request body as its config. */
  readonly create: (name: string, config: Record<string, unknown>) => Promise<unknown>
}

/**
 * `GET /<kind>` (paged), `POST /<kind>` (201 with the description; the name keeps the broker's name rule,
 * `broker/names.ts`) and `GET /<kind>/:name`, which streams and queues answer alike (ACL: Create and Describe
 * on the Topic of that name); each kind registers its own alter, delete and message routes.
 */
export function collectionRoutes({ route, authorize }: AdminContext, path: string, collection: Collection): void {
  const kind = path.slice(1, -1)
  route('GET', path, (r) => pageMap(collection.names(query(r).internal !== 'false'), query(r), collection.describe))
  route(
    'POST',
    path,
    async (r) => {
      const input = body(r)
      const { name, ...config } = input
      checkName(kind, name)
      authorize(r, 'Create', 'Topic', name as string)
      await collection.create(name as string, config)
      return collection.describe(name as string)
    },
    201,
  )
  route('GET', `${path}/:name`, (r) => {
    authorize(r, 'Describe', 'Topic', params(r).name!)
    return collection.describe(params(r).name!)
  })
}
