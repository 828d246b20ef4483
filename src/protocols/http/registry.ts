// Confluent-compatible schema registry over broker.schemas, served at the root of the HTTP port (where
// Confluent clients expect it). Bodies and replies use application/vnd.schemaregistry.v1+json (plain JSON
// is accepted too); errors are {error_code, message} with Confluent's codes, the HTTP status being the
// code's first three digits (40401 → 404).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Broker } from '../../broker/broker.js'
import {
  type CompatibilityLevel,
  compatibilityLevels,
  type SchemaInput,
  SchemaRegistryError,
  type SubjectVersion,
  schemaTypes,
  type VersionSpec,
} from '../../broker/schema/index.js'
import { type ErrorCode, isWharfError } from '../../util/errors.js'
import type { Logger } from '../../util/logger.js'

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

/** The paths (and route patterns) this registry serves: error shapes and access rules go by it. */
export const REGISTRY_PATH = /^\/(subjects|schemas|config|compatibility|mode)(\/|$)/

/** Confluent codes for broker errors that carry none of their own. */
const codeOf: Partial<Record<ErrorCode, number>> = {
  SCHEMA_NOT_FOUND: 40403,
  INVALID_SCHEMA: 42201,
  INVALID_ARGUMENT: 42201,
  INVALID_CONFIG: 42203,
  LIMIT_EXCEEDED: 42201,
  SCHEMA_INCOMPATIBLE: 40901,
}

class RegistryHttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

export function sendRegistryError(reply: FastifyReply, code: number, message: string): FastifyReply {
  const status = Math.floor(code / 100)
  return reply
    .code(status >= 400 && status < 600 ? status : code)
    .header('content-type', CONTENT_TYPE)
    .send(JSON.stringify({ error_code: code, message }))
}

function parseBody(request: FastifyRequest): Record<string, unknown> {
  const raw = request.body as Buffer | undefined
  if (raw === undefined || raw.length === 0) throw new RegistryHttpError(400, 'Request body is empty')
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new RegistryHttpError(400, 'Unrecognized request body: not valid JSON')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new RegistryHttpError(422, 'Request body must be a JSON object')
  return parsed as Record<string, unknown>
}

function schemaInput(body: Record<string, unknown>): SchemaInput {
  if (typeof body.schema !== 'string')
    throw new RegistryHttpError(42201, 'Invalid schema: the schema field must be a string')
  const input: SchemaInput = { schema: body.schema }
  if (body.schemaType !== undefined && body.schemaType !== null) {
    if (!schemaTypes.includes(body.schemaType as never))
      throw new RegistryHttpError(42201, `Invalid schema: unsupported schemaType ${String(body.schemaType)}`)
    input.schemaType = body.schemaType as SchemaInput['schemaType']
  }
  if (body.references !== undefined && body.references !== null) {
    if (!Array.isArray(body.references))
      throw new RegistryHttpError(42201, 'Invalid schema: references must be an array')
    input.references = body.references as SchemaInput['references']
  }
  return input
}

function versionOf(text: string | undefined): VersionSpec {
  if (text === 'latest' || text === '-1') return 'latest'
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1)
    throw new SchemaRegistryError('INVALID_ARGUMENT', 42202, `The specified version '${text}' is not valid`)
  return n
}

/** Confluent omits schemaType for AVRO and empty references. */
function shape(
  v: SubjectVersion | { schema: string; schemaType: string; references: unknown[] },
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...v }
  if (out.schemaType === 'AVRO') delete out.schemaType
  if (Array.isArray(out.references) && out.references.length === 0) delete out.references
  return out
}

function levelOf(body: Record<string, unknown>): CompatibilityLevel {
  const level = body.compatibility ?? body.compatibilityLevel
  if (typeof level !== 'string' || !compatibilityLevels.includes(level.toUpperCase() as CompatibilityLevel)) {
    throw new SchemaRegistryError(
      'INVALID_CONFIG',
      42203,
      `Invalid compatibility level. Valid values are none, backward, forward, full, and their transitive forms`,
    )
  }
  return level.toUpperCase() as CompatibilityLevel
}

export function registerRegistry(app: FastifyInstance, broker: Broker, logger: Logger): void {
  const schemas = () => broker.schemas
  const route = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    handler: (request: FastifyRequest) => Promise<unknown> | unknown,
  ) => {
    app.route({
      method,
      url,
      handler: async (request, reply) => {
        try {
          const result = await handler(request)
          // A change is answered once every broker sharing the registry has it: a client goes on through any.
          if (method !== 'GET') await broker.clusterLink.settle()
          return reply.code(200).header('content-type', CONTENT_TYPE).send(JSON.stringify(result))
        } catch (error) {
          if (error instanceof RegistryHttpError) return sendRegistryError(reply, error.code, error.message)
          if (error instanceof SchemaRegistryError) return sendRegistryError(reply, error.registryCode, error.message)
          if (isWharfError(error) && codeOf[error.code] !== undefined)
            return sendRegistryError(reply, codeOf[error.code]!, error.message)
          logger.error({ err: error, url: request.url }, 'schema registry request failed')
          return sendRegistryError(reply, 50001, 'Error in the backend data store')
        }
      },
    })
  }
  const p = (request: FastifyRequest) => request.params as Record<string, string>
  const q = (request: FastifyRequest) => request.query as Record<string, string | undefined>
  const deleted = (request: FastifyRequest) => ({ deleted: q(request).deleted === 'true' })

  route('GET', '/schemas/types', () => schemaTypes)
  route('GET', '/schemas/ids/:id', (r) => {
    const id = Number(p(r).id)
    if (!Number.isInteger(id)) throw new SchemaRegistryError('SCHEMA_NOT_FOUND', 40403, 'Schema not found')
    return shape(schemas().getById(id))
  })
  route('GET', '/schemas/ids/:id/schema', (r) => JSON.parse(schemas().getById(Number(p(r).id)).schema))
  route('GET', '/schemas/ids/:id/versions', (r) => schemas().versionsById(Number(p(r).id), deleted(r)))
  route('GET', '/subjects', (r) => schemas().listSubjects(deleted(r)))
  route('GET', '/subjects/:subject/versions', (r) => schemas().listVersions(p(r).subject!, deleted(r)))
  route('POST', '/subjects/:subject/versions', async (r) => ({
    id: (await schemas().register(p(r).subject!, schemaInput(parseBody(r)))).id,
  }))
  route('POST', '/subjects/:subject', (r) =>
    shape(schemas().lookup(p(r).subject!, schemaInput(parseBody(r)), deleted(r))),
  )
  route('GET', '/subjects/:subject/versions/:version', (r) =>
    shape(schemas().getVersion(p(r).subject!, versionOf(p(r).version), deleted(r))),
  )
  route('GET', '/subjects/:subject/versions/:version/schema', (r) =>
    JSON.parse(schemas().getVersion(p(r).subject!, versionOf(p(r).version)).schema),
  )
  route('GET', '/subjects/:subject/versions/:version/referencedby', () => [])
  route('DELETE', '/subjects/:subject', (r) =>
    schemas().deleteSubject(p(r).subject!, { permanent: q(r).permanent === 'true' }),
  )
  route('DELETE', '/subjects/:subject/versions/:version', (r) =>
    schemas().deleteVersion(p(r).subject!, versionOf(p(r).version), { permanent: q(r).permanent === 'true' }),
  )
  route('GET', '/config', () => ({ compatibilityLevel: schemas().getCompatibility() }))
  route('PUT', '/config', async (r) => ({ compatibility: await schemas().setCompatibility(levelOf(parseBody(r))) }))
  route('GET', '/config/:subject', (r) => {
    const own = schemas().getCompatibility(p(r).subject!)
    if (own !== undefined) return { compatibilityLevel: own }
    // kafkajs-registry relies on this 40408 to decide that it may set the subject's level itself.
    if (q(r).defaultToGlobal === 'true') return { compatibilityLevel: schemas().getCompatibility() }
    throw new RegistryHttpError(40408, `Subject '${p(r).subject}' does not have subject-level compatibility configured`)
  })
  route('PUT', '/config/:subject', async (r) => ({
    compatibility: await schemas().setCompatibility(levelOf(parseBody(r)), p(r).subject!),
  }))
  route('DELETE', '/config/:subject', async (r) => ({
    compatibilityLevel: await schemas().deleteCompatibility(p(r).subject!),
  }))
  route('POST', '/compatibility/subjects/:subject/versions/:version', (r) => {
    const result = schemas().testCompatibility(p(r).subject!, versionOf(p(r).version), schemaInput(parseBody(r)))
    return q(r).verbose === 'true'
      ? { is_compatible: result.compatible, messages: result.messages }
      : { is_compatible: result.compatible }
  })
  route('POST', '/compatibility/subjects/:subject/versions', (r) => {
    const result = schemas().testCompatibility(p(r).subject!, undefined, schemaInput(parseBody(r)))
    return q(r).verbose === 'true'
      ? { is_compatible: result.compatible, messages: result.messages }
      : { is_compatible: result.compatible }
  })
  route('GET', '/mode', () => ({ mode: 'READWRITE' }))
}
