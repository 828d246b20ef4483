// REST admin API (JSON, /api/v1): the one management API the CLI and the dashboard use. Every list takes
// `?limit=&offset=&q=` (server-side substring filter on the name) and answers `{items, total, limit, offset}`.
// Errors: `{error: {code, message}}` with the status from one table (broker code → HTTP status).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Broker } from '../../broker/broker.js'
import type { QueueConfig, StreamConfig } from '../../broker/config.js'
import type { BindingDef, Destination } from '../../broker/router.js'
import { frameId } from '../../broker/schema/index.js'
import type { PublishMessage, RecordHeader, StoredMessage } from '../../broker/types.js'
import { type ErrorCode, isWharfError, WharfError } from '../../util/errors.js'
import type { Logger } from '../../util/logger.js'
import { openApiDocument } from './openapi.js'
import type { SqsService } from './sqs/service.js'

export const API_PREFIX = '/api/v1'
const LIST_LIMIT_DEFAULT = 100
const LIST_LIMIT_MAX = 1000
const PEEK_MAX = 1000
const PRODUCE_MAX = 1000

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
}

export function sendAdminError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ error: { code, message } }))
}

function bad(message: string): WharfError {
  return new WharfError('INVALID_ARGUMENT', message)
}

function body(request: FastifyRequest): Record<string, unknown> {
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

type Query = Record<string, string | undefined>

function intQuery(query: Query, name: string, fallback: number, min: number, max: number): number {
  const raw = query[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw bad(`${name} must be an integer in [${min}, ${max}]`)
  return n
}

/** Pagination and filtering shared by every list. */
function page<T>(
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

// ---- payload encoding: JSON values, UTF-8 text or base64 bytes ----

type Encoding = 'json' | 'text' | 'base64'

function encodingOf(value: unknown, fallback: Encoding = 'json'): Encoding {
  if (value === undefined) return fallback
  if (value !== 'json' && value !== 'text' && value !== 'base64') throw bad('encoding must be json, text or base64')
  return value
}

function toBytes(value: unknown, encoding: Encoding, what: string): Buffer | null {
  if (value === null || value === undefined) return null
  if (encoding === 'json') return Buffer.from(JSON.stringify(value))
  if (typeof value !== 'string') throw bad(`${what} must be a string with encoding ${encoding}`)
  return encoding === 'base64' ? Buffer.from(value, 'base64') : Buffer.from(value, 'utf8')
}

function fromBytes(value: Buffer | null, encoding: Encoding): unknown {
  if (value === null) return null
  if (encoding === 'base64') return value.toString('base64')
  const text = value.toString('utf8')
  if (encoding === 'text') return text
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function toPublish(input: unknown, encoding: Encoding): PublishMessage & { partition?: number } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw bad('each message must be an object')
  const m = input as Record<string, unknown>
  const enc = encodingOf(m.encoding, encoding)
  const headers: RecordHeader[] = []
  if (m.headers !== undefined) {
    if (m.headers === null || typeof m.headers !== 'object' || Array.isArray(m.headers))
      throw bad('headers must be an object of strings')
    for (const [key, value] of Object.entries(m.headers)) {
      if (typeof value !== 'string') throw bad('header values must be strings')
      headers.push({ key, value: Buffer.from(value) })
    }
  }
  const out: PublishMessage & { partition?: number } = {
    key: toBytes(m.key, enc === 'json' ? 'text' : enc, 'key'),
    value: toBytes(m.value, enc, 'value'),
    headers,
  }
  if (m.partition !== undefined) {
    if (!Number.isInteger(m.partition)) throw bad('partition must be an integer')
    out.partition = m.partition as number
  }
  return out
}

function describeMessage(broker: Broker, m: StoredMessage, encoding: Encoding): Record<string, unknown> {
  const out: Record<string, unknown> = {
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key === null ? null : encoding === 'base64' ? m.key.toString('base64') : m.key.toString('utf8'),
    value: fromBytes(m.value, encoding),
    headers: Object.fromEntries(
      m.headers.filter((h) => h.value !== null).map((h) => [h.key, h.value!.toString('utf8')]),
    ),
  }
  const keyDecoded = m.key === null ? undefined : decodeSchemaFramed(broker, m.key)
  if (keyDecoded !== undefined) out.keyDecoded = keyDecoded
  const valueDecoded = m.value === null ? undefined : decodeSchemaFramed(broker, m.value)
  if (valueDecoded !== undefined) out.valueDecoded = valueDecoded
  return out
}

/**
 * The browse view of a Confluent-framed key or value (magic 0 + schema id): the schema's subject and
 * type and the payload as JSON. Only ids the registry knows count as framed, since plenty of unframed
 * binary payloads start with a zero byte. A payload that fails to decode under its schema answers with
 * `error` instead of `json`, so one bad record never fails the whole page.
 */
function decodeSchemaFramed(broker: Broker, bytes: Buffer): Record<string, unknown> | undefined {
  const schemaId = frameId(bytes)
  if (schemaId < 0) return undefined
  let type: string
  try {
    type = broker.schemas.getById(schemaId).schemaType
  } catch (error) {
    if (isWharfError(error, 'SCHEMA_NOT_FOUND')) return undefined
    throw error
  }
  const subject = broker.schemas.versionsById(schemaId, { deleted: true })[0]?.subject
  const described: Record<string, unknown> = { schemaId, type, ...(subject === undefined ? {} : { subject }) }
  try {
    described.json = toJsonSafe(broker.schemas.decode(bytes).value)
  } catch (error) {
    described.error = (error as Error).message
  }
  return described
}

/**
 * Avro decodes to values JSON cannot carry as-is: bytes/fixed become Buffers (shown as base64 strings
 * here), longs beyond 2^53 may be bigints (shown as decimal strings), and records are class instances
 * (plain objects once their own enumerable fields are copied). Maps and arrays recurse.
 */
function toJsonSafe(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64')
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map(toJsonSafe)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = toJsonSafe(v)
    return out
  }
  return value
}

// ---- descriptions ----

function describeStream(broker: Broker, name: string): Record<string, unknown> {
  const stream = broker.stream(name)
  return {
    name,
    config: stream.config,
    createdAt: stream.createdAt,
    messagesIn: stream.stats.messagesIn,
    queues: [...stream.queues].map((q) => q.name),
    partitions: stream.partitions.map((log, partition) => ({
      partition,
      logStartOffset: log.logStartOffset,
      highWatermark: log.highWatermark,
      sizeBytes: log.sizeBytes,
    })),
  }
}

function describeQueue(broker: Broker, name: string): Record<string, unknown> {
  const queue = broker.queue(name)
  return { ...queue.queueStats(), config: queue.config }
}

function groupLag(
  broker: Broker,
  group: string,
): Array<{ stream: string; partition: number; committed: number | null; highWatermark: number; lag: number }> {
  const streams = new Set<string>()
  for (const key of broker.storage.cursors.keys(`g\u0000${group}\u0000`)) {
    const stream = key.split('\u0000')[2]
    if (stream !== undefined && broker.getStream(stream) !== undefined) streams.add(stream)
  }
  return [...streams].sort().flatMap((stream) =>
    broker
      .lag(group, stream)
      .filter((p) => p.committed !== null)
      .map((p) => ({ stream, ...p, lag: Math.max(0, p.lag) })),
  )
}

export function describeGroup(broker: Broker, group: string): Record<string, unknown> {
  const described = broker.groups.describe(group)
  const partitions = groupLag(broker, group)
  return {
    group,
    state: described.state,
    protocolType: described.protocolType,
    members: described.members.length,
    lag: partitions.reduce((sum, p) => sum + p.lag, 0),
    partitions,
  }
}

export function listGroupIds(broker: Broker): string[] {
  const ids = new Set(broker.groups.list().map((g) => g.groupId))
  for (const key of broker.storage.cursors.keys('g\u0000')) {
    const id = key.split('\u0000')[1]
    if (id !== undefined) ids.add(id)
  }
  return [...ids].sort()
}

function destinationOf(input: unknown): Destination {
  const d = input as { kind?: unknown; name?: unknown } | null
  if (
    d === null ||
    typeof d !== 'object' ||
    typeof d.name !== 'string' ||
    !['queue', 'stream', 'exchange'].includes(String(d.kind))
  ) {
    throw bad('destination must be {kind: queue|stream|exchange, name}')
  }
  return { kind: d.kind as 'queue' | 'stream' | 'exchange', name: d.name }
}

function bindingOf(input: Record<string, unknown>): BindingDef {
  if (typeof input.source !== 'string') throw bad('source (exchange name) is required')
  const args = input.arguments ?? {}
  if (args === null || typeof args !== 'object' || Array.isArray(args)) throw bad('arguments must be an object')
  return {
    source: input.source,
    destination: destinationOf(input.destination),
    key: typeof input.key === 'string' ? input.key : '',
    arguments: args as Record<string, unknown>,
  }
}

/** Non-destructive peek of a queue: unacked messages from the ack floor, in offset order, no lease taken. */
async function peekQueue(broker: Broker, name: string, limit: number): Promise<StoredMessage[]> {
  const queue = broker.queue(name)
  const out: StoredMessage[] = []
  for (const p of queue.partitions) {
    let offset = queue.ackFloor(p.index)
    while (out.length < limit && offset < p.log.highWatermark) {
      const { messages, nextOffset } = await broker.readMessages(queue.streamName, p.index, offset, 256 * 1024)
      for (const m of messages) if (out.length < limit && !queue.isAcked(p.index, m.offset)) out.push(m)
      if (nextOffset <= offset) break
      offset = nextOffset
    }
  }
  return out
}

async function resetOffsets(
  broker: Broker,
  group: string,
  input: Record<string, unknown>,
): Promise<Array<{ partition: number; offset: number }>> {
  const state = broker.groups.describe(group).state
  if (state !== 'Empty' && state !== 'Dead')
    throw new WharfError(
      'PRECONDITION_FAILED',
      `group '${group}' has active members (state ${state}); stop its consumers first`,
    )
  if (typeof input.stream !== 'string') throw bad('stream is required')
  const stream = broker.stream(input.stream)
  const to = input.to
  const results: Array<{ partition: number; offset: number }> = []
  for (let partition = 0; partition < stream.partitions.length; partition++) {
    const log = stream.partitions[partition]!
    let offset: number
    if (to === 'earliest') offset = log.logStartOffset
    else if (to === 'latest') offset = log.highWatermark
    else if (to === 'offset' && Number.isInteger(input.offset))
      offset = Math.min(Math.max(input.offset as number, log.logStartOffset), log.highWatermark)
    else if (to === 'timestamp' && Number.isFinite(input.timestamp))
      offset = (await log.offsetForTimestamp(input.timestamp as number)) ?? log.highWatermark
    else throw bad('to must be earliest, latest, offset (with offset) or timestamp (with timestamp)')
    await broker.commitOffset(group, stream.name, partition, offset)
    results.push({ partition, offset })
  }
  return results
}

export function registerAdmin(app: FastifyInstance, broker: Broker, sqs: SqsService, logger: Logger): void {
  const route = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> | unknown,
    status = 200,
  ) => {
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
          if (isWharfError(error)) return sendAdminError(reply, statusOf[error.code] ?? 500, error.code, error.message)
          logger.error({ err: error, url: request.url }, 'admin request failed')
          return sendAdminError(reply, 500, 'INTERNAL', 'internal error')
        }
      },
    })
  }
  const params = (request: FastifyRequest) => request.params as Record<string, string>
  const query = (request: FastifyRequest) => request.query as Query

  route('GET', '/openapi.json', () => openApiDocument())
  route('GET', '/overview', () => ({
    streams: broker.listStreams().length,
    queues: broker.listQueues().length,
    exchanges: broker.router.listExchanges().length,
    groups: listGroupIds(broker).length,
    topics: broker.topics.listTopics().length,
    messagesIn: broker.listStreams().reduce((sum, s) => sum + s.stats.messagesIn, 0),
  }))

  // streams
  route('GET', '/streams', (r) =>
    pageMap(
      broker.listStreams().map((s) => s.name),
      query(r),
      (n) => describeStream(broker, n),
    ),
  )
  route(
    'POST',
    '/streams',
    async (r) => {
      const input = body(r)
      if (typeof input.name !== 'string') throw bad('name is required')
      const { name, ...config } = input
      await broker.createStream(name, config as Partial<StreamConfig>)
      return describeStream(broker, name)
    },
    201,
  )
  route('GET', '/streams/:name', (r) => describeStream(broker, params(r).name!))
  route('PUT', '/streams/:name', async (r) => {
    await broker.alterStream(params(r).name!, body(r) as Partial<StreamConfig>)
    return describeStream(broker, params(r).name!)
  })
  route('DELETE', '/streams/:name', async (r) => {
    await broker.deleteStream(params(r).name!, { force: query(r).force === 'true' })
    return { deleted: params(r).name }
  })
  route('POST', '/streams/:name/messages', async (r) => {
    const input = body(r)
    const encoding = encodingOf(input.encoding)
    const list = Array.isArray(input.messages) ? input.messages : [input]
    if (list.length === 0 || list.length > PRODUCE_MAX) throw bad(`messages must hold 1-${PRODUCE_MAX} messages`)
    const messages = list.map((m) => toPublish(m, encoding))
    const partition = messages[0]?.partition
    const positions = await broker.produce(params(r).name!, messages, partition === undefined ? {} : { partition })
    return { positions }
  })
  route('GET', '/streams/:name/messages', async (r) => {
    const q = query(r)
    const stream = broker.stream(params(r).name!)
    const partition = intQuery(q, 'partition', 0, 0, stream.partitions.length - 1)
    const log = stream.partitionLog(partition)
    const limit = intQuery(q, 'limit', 20, 1, PEEK_MAX)
    const encoding = encodingOf(q.encoding)
    let offset =
      q.offset === 'latest'
        ? Math.max(log.logStartOffset, log.highWatermark - limit)
        : intQuery(q, 'offset', log.logStartOffset, 0, Number.MAX_SAFE_INTEGER)
    if (q.timestamp !== undefined) offset = (await log.offsetForTimestamp(Number(q.timestamp))) ?? log.highWatermark
    const out: StoredMessage[] = []
    while (out.length < limit && offset < log.highWatermark) {
      const { messages, nextOffset } = await broker.readMessages(stream.name, partition, offset, 256 * 1024)
      out.push(...messages.slice(0, limit - out.length))
      if (nextOffset <= offset) break
      offset = nextOffset
    }
    const nextOffset = out.length > 0 ? out[out.length - 1]!.offset + 1 : offset
    return {
      partition,
      messages: out.map((m) => describeMessage(broker, m, encoding)),
      nextOffset,
      highWatermark: log.highWatermark,
    }
  })

  // queues
  route('GET', '/queues', (r) =>
    pageMap(
      broker.listQueues().map((q) => q.name),
      query(r),
      (n) => describeQueue(broker, n),
    ),
  )
  route(
    'POST',
    '/queues',
    async (r) => {
      const input = body(r)
      if (typeof input.name !== 'string') throw bad('name is required')
      const { name, ...config } = input
      await broker.createQueue(name, config as Partial<QueueConfig>)
      return describeQueue(broker, name)
    },
    201,
  )
  route('GET', '/queues/:name', (r) => describeQueue(broker, params(r).name!))
  route('DELETE', '/queues/:name', async (r) => {
    const name = params(r).name!
    broker.queue(name)
    const removed = await broker.deleteQueue(name, {
      ifEmpty: query(r).ifEmpty === 'true',
      ifUnused: query(r).ifUnused === 'true',
    })
    await broker.topics.unsubscribeDestination({ kind: 'queue', name })
    await broker.storage.metadata.delete('sqs-queue', name)
    return { deleted: name, messages: removed }
  })
  route('POST', '/queues/:name/messages', async (r) => {
    const input = body(r)
    const encoding = encodingOf(input.encoding)
    const list = Array.isArray(input.messages) ? input.messages : [input]
    if (list.length === 0 || list.length > PRODUCE_MAX) throw bad(`messages must hold 1-${PRODUCE_MAX} messages`)
    return {
      positions: await broker.sendToQueue(
        params(r).name!,
        list.map((m) => toPublish(m, encoding)),
      ),
    }
  })
  route('GET', '/queues/:name/messages', async (r) => {
    const q = query(r)
    const encoding = encodingOf(q.encoding)
    const messages = await peekQueue(broker, params(r).name!, intQuery(q, 'limit', 20, 1, PEEK_MAX))
    return { messages: messages.map((m) => describeMessage(broker, m, encoding)) }
  })
  route('POST', '/queues/:name/purge', async (r) => ({ purged: await broker.queue(params(r).name!).purge() }))
  route('POST', '/queues/:name/redrive', async (r) => {
    const input = body(r)
    const name = params(r).name!
    broker.queue(name)
    if (input.destination !== undefined && typeof input.destination !== 'string')
      throw bad('destination must be a queue name')
    if (typeof input.destination === 'string') broker.queue(input.destination)
    return { moved: await sqs.moveMessages(name, input.destination as string | undefined) }
  })

  // exchanges and bindings
  route('GET', '/exchanges', (r) => page(broker.router.listExchanges(), query(r), (e) => e.name))
  route(
    'POST',
    '/exchanges',
    async (r) => {
      const input = body(r)
      if (typeof input.name !== 'string' || typeof input.type !== 'string') throw bad('name and type are required')
      return broker.declareExchange(input as { name: string; type: string })
    },
    201,
  )
  route('GET', '/exchanges/:name', (r) => {
    const exchange = broker.router.getExchange(params(r).name!)
    if (exchange === undefined)
      throw new WharfError('EXCHANGE_NOT_FOUND', `exchange '${params(r).name}' does not exist`)
    return { ...exchange, bindings: broker.router.listBindings({ source: exchange.name }) }
  })
  route('DELETE', '/exchanges/:name', async (r) => {
    await broker.deleteExchange(params(r).name!, { ifUnused: query(r).ifUnused === 'true' })
    return { deleted: params(r).name }
  })
  route('GET', '/bindings', (r) =>
    page(
      broker.router.listBindings(),
      query(r),
      (b) => `${b.source} ${b.key} ${'name' in b.destination ? b.destination.name : b.destination.id}`,
    ),
  )
  route(
    'POST',
    '/bindings',
    async (r) => {
      const binding = bindingOf(body(r))
      await broker.bind(binding)
      return binding
    },
    201,
  )
  route('DELETE', '/bindings', async (r) => ({ removed: await broker.unbind(bindingOf(body(r))) }))

  // consumer groups
  route('GET', '/groups', (r) => pageMap(listGroupIds(broker), query(r), (g) => describeGroup(broker, g)))
  route('GET', '/groups/:group', (r) => describeGroup(broker, params(r).group!))
  route('POST', '/groups/:group/reset', async (r) => ({
    group: params(r).group,
    offsets: await resetOffsets(broker, params(r).group!, body(r)),
  }))
}

/** Pages names first (cheap), then describes only the page. */
function pageMap<T>(
  names: string[],
  query: Query,
  describe: (name: string) => T,
): { items: T[]; total: number; limit: number; offset: number } {
  const paged = page(names, query, (n) => n)
  return { ...paged, items: paged.items.map(describe) }
}
