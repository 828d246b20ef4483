// SQS message attributes ↔ record headers, and receipt handles. Attributes are stored as plain record
// headers (name → value bytes) so consumers on other protocols see them as ordinary headers; types other
// than String ride in one reserved header, and Number attributes are also typed properties where that is
// lossless (docs/properties.md). Receipt handles are opaque and tamper-evident: the lease's
// position signed with a per-broker HMAC secret.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { type RecordHeader, type StoredMessage, userHeaders } from '../../../broker/message.js'
import {
  isAdapterHeader,
  type Property,
  type PropertyType,
  parsePropertyText,
  propertyHeaders,
  propertyText,
  typesOf,
} from '../../../broker/properties/properties.js'
import type { DeliveryRef } from '../../../broker/queue/types.js'
import { SqsError } from './errors.js'
import type { SqsAttributeValue } from './md5.js'

/** Reserved headers (the `wharf.` prefix keeps them out of other protocols' user headers). */
export const SqsHeader = {
  messageId: 'wharf.sqs.id',
  types: 'wharf.sqs.types',
  traceHeader: 'wharf.sqs.trace',
  /** MD5 of the body (16 raw bytes), computed once at send for SendMessage's reply and reused by every receive. */
  bodyMd5: 'wharf.sqs.md5',
  /** The FIFO MessageDeduplicationId as given (or content-derived), for the receive-side system attribute. */
  dedupId: 'wharf.sqs.dedup',
} as const

const ATTRIBUTES_MAX = 10
const ATTRIBUTE_NAME = /^(?!aws\.|amazon\.)(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/i
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i

/**
 * SQS accepts #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF (XML 1.0 characters).
 * One regex scan (native) instead of a per-code-point loop: this runs on every message body. With the
 * `u` flag a lone surrogate is its own code point (0xD800-0xDFFF), outside the class, so it fails as AWS
 * rejects it.
 */
const DISALLOWED_TEXT = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

export function checkText(value: string, what: string): void {
  if (DISALLOWED_TEXT.test(value)) {
    throw new SqsError(
      'InvalidMessageContents',
      `Invalid characters found in ${what}. Deleted or replace them: see https://www.w3.org/TR/REC-xml/#charsets`,
    )
  }
}

/** Wire form (JSON: BinaryValue is base64 text) → validated attributes with Buffers. */
export function parseMessageAttributes(input: unknown, field = 'MessageAttributes'): Record<string, SqsAttributeValue> {
  if (input === undefined || input === null) return {}
  if (typeof input !== 'object' || Array.isArray(input))
    throw new SqsError('InvalidParameterValue', `${field} must be a map`)
  const entries = Object.entries(input as Record<string, unknown>)
  if (entries.length > ATTRIBUTES_MAX)
    throw new SqsError(
      'InvalidParameterValue',
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [${ATTRIBUTES_MAX}].`,
    )
  const out: Record<string, SqsAttributeValue> = {}
  for (const [name, raw] of entries) {
    // wharf.*, amqp.* and mqtt.* are the broker's and adapters' headers (AWS reserves aws. and amazon. likewise).
    if (!ATTRIBUTE_NAME.test(name) || isAdapterHeader(name))
      throw new SqsError('InvalidParameterValue', `Message (user) attribute name '${name}' is invalid.`)
    const value = raw as { DataType?: unknown; StringValue?: unknown; BinaryValue?: unknown }
    const type = value?.DataType
    if (typeof type !== 'string' || !/^(String|Number|Binary)(\.[A-Za-z0-9_.-]{1,256})?$/.test(type)) {
      throw new SqsError('InvalidParameterValue', `The type of message (user) attribute '${name}' is invalid.`)
    }
    if (type.startsWith('Binary')) {
      if (typeof value.BinaryValue !== 'string' && !Buffer.isBuffer(value.BinaryValue)) {
        throw new SqsError(
          'InvalidParameterValue',
          `Message (user) attribute '${name}' must contain a non-empty message attribute value for message attribute type '${type}'.`,
        )
      }
      out[name] = {
        DataType: type,
        BinaryValue: Buffer.isBuffer(value.BinaryValue) ? value.BinaryValue : Buffer.from(value.BinaryValue, 'base64'),
      }
      continue
    }
    if (typeof value.StringValue !== 'string' || value.StringValue === '') {
      throw new SqsError(
        'InvalidParameterValue',
        `Message (user) attribute '${name}' must contain a non-empty message attribute value for message attribute type '${type}'.`,
      )
    }
    if (type.startsWith('Number') && !NUMBER.test(value.StringValue)) {
      throw new SqsError(
        'InvalidParameterValue',
        `Can't cast the value of message (user) attribute '${name}' to a number.`,
      )
    }
    checkText(value.StringValue, `the value of message attribute '${name}'`)
    out[name] = { DataType: type, StringValue: value.StringValue }
  }
  return out
}

/** Bytes an attribute set counts towards MaximumMessageSize (name + type + value, as AWS counts). */
export function attributesSize(attributes: Record<string, SqsAttributeValue>): number {
  let size = 0
  for (const [name, a] of Object.entries(attributes)) {
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(a.DataType) +
      (a.BinaryValue?.length ?? Buffer.byteLength(a.StringValue ?? ''))
  }
  return size
}

/**
 * SQS data types the Amazon SQS Java Messaging Library gives the JMS property types (booleans as `1`/`0`);
 * `Number` alone is typed by its text (see numberProperty).
 */
const JMS_DATA_TYPES: Readonly<Record<string, PropertyType>> = {
  'Number.Boolean': 'boolean',
  'Number.byte': 'byte',
  'Number.short': 'short',
  'Number.int': 'int',
  'Number.long': 'long',
  'Number.float': 'float',
  'Number.double': 'double',
}
const DATA_TYPE_OF: ReadonlyMap<PropertyType, string> = new Map(
  Object.entries(JMS_DATA_TYPES).map(([dataType, type]) => [type, dataType]),
)

/**
 * The typed property of a Number attribute when the mapping is lossless: its text is exactly what the property's
 * text would be (so `42` is an int, `5000000000` a long, `0.5` a double, but `+5`, `1.50` or a 30-digit number
 * stay strings, which SQS still returns as Number from `wharf.sqs.types`).
 */
function numberProperty(dataType: string, text: string): Property | undefined {
  const jms = JMS_DATA_TYPES[dataType]
  if (jms === 'boolean') return text === '1' || text === '0' ? { type: 'boolean', value: text === '1' } : undefined
  const candidates: readonly PropertyType[] =
    jms !== undefined ? [jms] : dataType === 'Number' ? ['int', 'long', 'double'] : []
  for (const type of candidates) {
    const value = parsePropertyText(type, text)
    if (value !== undefined && propertyText(value, type) === text) return { type, value }
  }
  return undefined
}

export function attributesToHeaders(attributes: Record<string, SqsAttributeValue>, headers: RecordHeader[]): void {
  const types: Record<string, string> = {}
  let typed = false
  const properties: Array<[string, Property]> = []
  for (const [name, a] of Object.entries(attributes)) {
    const property = a.StringValue === undefined ? undefined : numberProperty(a.DataType, a.StringValue)
    if (property !== undefined) properties.push([name, property])
    else headers.push({ key: name, value: a.BinaryValue ?? Buffer.from(a.StringValue ?? '', 'utf8') })
    if (a.DataType !== 'String') {
      types[name] = a.DataType
      typed = true
    }
  }
  // Numbers also become typed properties (the one encoding every protocol reads, docs/properties.md); the exact
  // SQS data type stays in wharf.sqs.types so that ReceiveMessage returns what was sent.
  if (properties.length > 0) for (const h of propertyHeaders(properties)) headers.push(h)
  if (typed) headers.push({ key: SqsHeader.types, value: Buffer.from(JSON.stringify(types)) })
}

/**
 * Headers → attributes: every user header except another adapter's own (`amqp.props`); typed by the SQS types
 * header, else by the typed properties (an int → `Number.int`, a boolean → `Number.Boolean` 1/0, as the SQS
 * JMS library writes them), else String when the bytes are valid UTF-8 (headers set by Kafka/AMQP/MQTT
 * producers) and Binary otherwise.
 */
export function headersToAttributes(message: StoredMessage): Record<string, SqsAttributeValue> {
  let types: Record<string, string> = {}
  for (const h of message.headers) {
    if (h.key === SqsHeader.types && h.value !== null) {
      try {
        types = JSON.parse(h.value.toString('utf8')) as Record<string, string>
      } catch {
        types = {}
      }
    }
  }
  let properties: ReadonlyMap<string, PropertyType> | undefined
  const out: Record<string, SqsAttributeValue> = {}
  for (const h of userHeaders(message.headers)) {
    if (h.value === null || h.key.startsWith('amqp.')) continue
    let type = types[h.key]
    if (type === undefined) {
      properties ??= typesOf(message.headers)
      const property = properties.get(h.key)
      const dataType = property === undefined ? undefined : DATA_TYPE_OF.get(property)
      // NaN and the infinities are doubles but not SQS numbers.
      if (dataType !== undefined && (property === 'boolean' || NUMBER.test(h.value.toString('utf8')))) type = dataType
    }
    type ??= isUtf8(h.value) ? 'String' : 'Binary'
    if (type.startsWith('Binary')) out[h.key] = { DataType: type, BinaryValue: h.value }
    else if (type === 'Number.Boolean') {
      const text = h.value.toString('utf8')
      out[h.key] = { DataType: type, StringValue: text === 'true' ? '1' : text === 'false' ? '0' : text }
    } else out[h.key] = { DataType: type, StringValue: h.value.toString('utf8') }
  }
  return out
}

function isUtf8(value: Buffer): boolean {
  return Buffer.from(value.toString('utf8'), 'utf8').equals(value)
}

/** MessageAttributeNames filter: "All", ".*", "prefix.*" or exact names. */
export function selectAttributes(
  all: Record<string, SqsAttributeValue>,
  names: readonly string[],
): Record<string, SqsAttributeValue> {
  if (names.length === 0) return {}
  if (names.includes('All') || names.includes('.*')) return all
  const out: Record<string, SqsAttributeValue> = {}
  for (const [name, value] of Object.entries(all)) {
    if (names.some((n) => n === name || (n.endsWith('.*') && name.startsWith(n.slice(0, -1))))) out[name] = value
  }
  return out
}

/** Message id: stored at send; messages that came from elsewhere get one derived from their position. */
export function messageIdOf(message: StoredMessage): string {
  for (const h of message.headers)
    if (h.key === SqsHeader.messageId && h.value !== null) return h.value.toString('utf8')
  const hex = createHash('md5')
    .update(`${message.stream}\u0000${message.partition}\u0000${message.offset}`)
    .digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/**
 * A delivery reference (queue, partition, offset, lease id) bound to one queue incarnation. Any broker of a
 * cluster settles it (the queue's server checks the lease); lease ids are unique across brokers and restarts
 * (QueueCatalog), so a handle from before a restart or a move names no current lease.
 */
export interface ReceiptHandle extends DeliveryRef {
  /** The SQS queue's creation time: a handle does not survive the queue being deleted and recreated. */
  incarnation: number
}

const MAC_BYTES = 16
/** partition u32, offset f64, leaseId f64, incarnation f64; then the queue name (UTF-8). */
const FIXED_BYTES = 4 + 8 + 8 + 8
const HANDLE_TEXT_MAX = 2048

/**
 * Binary payload + truncated HMAC-SHA256 (the secret is shared by the brokers of a cluster), base64url as one
 * token. Binary rather than JSON because a handle is encoded for every received message and decoded for every
 * delete; the format needs no compatibility across versions, since no lease outlives a restart anyway.
 */
export class ReceiptHandles {
  readonly #secret: Buffer
  constructor(secret: Buffer) {
    this.#secret = secret
  }

  encode(handle: ReceiptHandle): string {
    const queueBytes = Buffer.byteLength(handle.queue, 'utf8')
    const payloadBytes = FIXED_BYTES + queueBytes
    const out = Buffer.allocUnsafe(payloadBytes + MAC_BYTES)
    out.writeUInt32BE(handle.partition, 0)
    out.writeDoubleBE(handle.offset, 4)
    out.writeDoubleBE(handle.leaseId, 12)
    out.writeDoubleBE(handle.incarnation, 20)
    out.write(handle.queue, FIXED_BYTES, 'utf8')
    this.#mac(out.subarray(0, payloadBytes)).copy(out, payloadBytes, 0, MAC_BYTES)
    return out.toString('base64url')
  }

  /** Throws ReceiptHandleIsInvalid for anything not produced by encode() with our secret. */
  decode(text: unknown): ReceiptHandle {
    const bad = () =>
      new SqsError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${String(text).slice(0, 200)}" is not a valid receipt handle.`,
      )
    if (typeof text !== 'string' || text.length > HANDLE_TEXT_MAX) throw bad()
    const bytes = Buffer.from(text, 'base64url')
    if (bytes.length < FIXED_BYTES + MAC_BYTES) throw bad()
    const payloadBytes = bytes.length - MAC_BYTES
    const payload = bytes.subarray(0, payloadBytes)
    if (!timingSafeEqual(bytes.subarray(payloadBytes), this.#mac(payload).subarray(0, MAC_BYTES))) throw bad()
    return {
      queue: payload.toString('utf8', FIXED_BYTES),
      incarnation: payload.readDoubleBE(20),
      partition: payload.readUInt32BE(0),
      offset: payload.readDoubleBE(4),
      leaseId: payload.readDoubleBE(12),
    }
  }

  #mac(payload: Buffer): Buffer {
    return createHmac('sha256', this.#secret).update(payload).digest()
  }
}
