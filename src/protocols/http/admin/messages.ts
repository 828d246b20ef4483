// Message bodies in the REST admin API, shared by the stream and queue routes: the produce/send request
// (`{messages: [{key?, value, headers?, partition?, encoding?}]}`) into PublishMessages, and stored records
// into the peek/browse view, including the decoded form of Confluent schema-framed keys and values.
import type { Broker } from '../../../broker/broker.js'
import type { PublishMessage, RecordHeader, StoredMessage } from '../../../broker/message.js'
import { frameId } from '../../../broker/schema/index.js'
import { isWharfError } from '../../../util/errors.js'
import { type AdminContext, bad } from './context.js'

export const PEEK_MAX = 1000
const PRODUCE_MAX = 1000

// ---- payload encoding: JSON values, UTF-8 text or base64 bytes ----

export type Encoding = 'json' | 'text' | 'base64'

export function encodingOf(value: unknown, fallback: Encoding = 'json'): Encoding {
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

/** The messages of a produce/send body: `{messages: [...]}` or one message as the body itself. */
export function publishMessages(input: Record<string, unknown>): Array<PublishMessage & { partition?: number }> {
  const encoding = encodingOf(input.encoding)
  const list = Array.isArray(input.messages) ? input.messages : [input]
  if (list.length === 0 || list.length > PRODUCE_MAX) throw bad(`messages must hold 1-${PRODUCE_MAX} messages`)
  return list.map((m) => toPublish(m, encoding))
}

/**
 * One stored message in the peek/browse view. `headers` holds every record header as text, Wharf's own
 * (`wharf.*`, a protocol's stored properties) included; `properties` holds the publishing protocol's
 * properties by name when a listener recognises them (AMQP's content-type, delivery-mode, headers table…).
 */
export function describeMessage(
  { broker, protocolProperties }: Pick<AdminContext, 'broker' | 'protocolProperties'>,
  m: StoredMessage,
  encoding: Encoding,
): Record<string, unknown> {
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
  const properties = protocolProperties(m.headers)
  if (properties !== undefined) out.properties = properties
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
