// AMQP message ↔ broker message. A publish keeps its content-header property bytes verbatim in the record
// header `amqp.props`, so all 14 basic properties and the headers table come back exactly as published
// (field-table letters included) without decoding them on the hot path. Beside them it writes the neutral
// form other protocols read (properties.ts, docs/properties.md). What the broker itself must know
// (priority, per-message TTL) is derived once at publish time. Deliveries reuse the stored bytes unless the
// broker added something the consumer must see (x-death, x-stream-offset); only then are they re-encoded.
// Also the routing keys a CC or BCC header adds (sender-selected distribution).
import { type PublishMessage, Reserved, type StoredMessage } from '../../broker/message.js'
import type { RecordHeader } from '../../record/index.js'
import { WharfError } from '../../util/errors.js'
import {
  AmqpTyped,
  type BasicProperties,
  type ContentMethodName,
  type Decimal,
  decodeContentHeader,
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeMessage,
  encodeMethodFrame,
  type FieldTable,
  type FieldValue,
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_OVERHEAD_BYTES,
  type MethodInit,
  typed,
} from './codec/index.js'
import { amqpError } from './errors.js'
import { neutralHeaders, propertiesFromHeaders } from './properties.js'

/** Record header holding the raw basic-properties bytes (flags word + properties) of an AMQP publish. */
export const PROPS_HEADER = 'amqp.props'
/** class-id (2) + weight (2) + body-size (8) ahead of the property flags in a content header payload. */
const CONTENT_HEADER_FIXED_BYTES = 12
const EMPTY_PROPS = Buffer.from([0, 0])
/** Shared, never written to: the octet that ends every frame. */
const FRAME_END_BYTE = Buffer.from([FRAME_END])

/** The properties part of a content header payload (a view; the caller copies if it keeps it). */
export function propsBytesOf(headerPayload: Buffer): Buffer {
  return headerPayload.subarray(CONTENT_HEADER_FIXED_BYTES)
}

/** Builds the broker message of a basic.publish. Throws 406 on an invalid expiration, as RabbitMQ does. */
export function toPublishMessage(propsRaw: Buffer, props: BasicProperties, body: Buffer): PublishMessage {
  const message: PublishMessage = { value: body }
  if (!propsRaw.equals(EMPTY_PROPS)) {
    const stored = Buffer.from(propsRaw)
    const headers: RecordHeader[] = [{ key: PROPS_HEADER, value: stored }]
    // AMQP consumers read amqp.props only; the neutral copy is for every other protocol and for selectors.
    const neutral = neutralHeaders(stored)
    if (neutral !== undefined) for (const h of neutral) headers.push(h)
    message.headers = headers
  }
  if (props.priority !== undefined) message.priority = props.priority
  if (props.expiration !== undefined) message.ttlMs = parseExpiration(props.expiration)
  return message
}

function parseExpiration(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw amqpError.precondition(`invalid expiration '${text}'`)
  return Number(text)
}

/** Last value of a header: a dead-lettered message is re-stamped with the dead-letter exchange's values. */
function lastHeader(headers: readonly RecordHeader[], key: string): Buffer | null | undefined {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]!.key === key) return headers[i]!.value
  return undefined
}

export function exchangeOf(message: StoredMessage): string {
  return lastHeader(message.headers, Reserved.exchange)?.toString('utf8') ?? ''
}

export function routingKeyOf(message: StoredMessage, fallback: string): string {
  return lastHeader(message.headers, Reserved.routingKey)?.toString('utf8') ?? fallback
}

/** The basic properties in the stored bytes of amqp.props. */
function decodeRawProperties(raw: Buffer): BasicProperties {
  const payload = Buffer.alloc(CONTENT_HEADER_FIXED_BYTES + raw.length)
  payload.writeUInt16BE(60, 0)
  raw.copy(payload, CONTENT_HEADER_FIXED_BYTES)
  return decodeContentHeader(payload).properties
}

/** Properties of a stored message: decoded from amqp.props, or built from another protocol's headers. */
export function decodeProperties(message: StoredMessage): BasicProperties {
  const raw = lastHeader(message.headers, PROPS_HEADER)
  return raw ? decodeRawProperties(raw) : propertiesFromHeaders(message.headers)
}

/** Basic property names as the AMQP 0-9-1 spec (and RabbitMQ's management UI) spells them. */
const PROPERTY_NAMES: ReadonlyArray<[keyof BasicProperties, string]> = [
  ['contentType', 'content-type'],
  ['contentEncoding', 'content-encoding'],
  ['headers', 'headers'],
  ['deliveryMode', 'delivery-mode'],
  ['priority', 'priority'],
  ['correlationId', 'correlation-id'],
  ['replyTo', 'reply-to'],
  ['expiration', 'expiration'],
  ['messageId', 'message-id'],
  ['timestamp', 'timestamp'],
  ['type', 'type'],
  ['userId', 'user-id'],
  ['appId', 'app-id'],
  ['clusterId', 'cluster-id'],
]

/** A field value as JSON: bytes as base64, 64-bit integers as decimal text, typed values unwrapped. */
function jsonOf(value: FieldValue | Decimal): unknown {
  if (value instanceof AmqpTyped) return jsonOf(value.value)
  if (Buffer.isBuffer(value)) return value.toString('base64')
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(jsonOf)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = jsonOf(v as FieldValue)
    return out
  }
  return value ?? null
}

/**
 * The AMQP properties of a stored AMQP publish by their spec names, JSON-safe, for the admin API's message
 * view; undefined for a message that carries none (published over another protocol).
 */
export function propertiesByName(headers: readonly RecordHeader[]): Record<string, unknown> | undefined {
  const raw = lastHeader(headers, PROPS_HEADER)
  if (!raw) return undefined
  const props = decodeRawProperties(raw)
  const out: Record<string, unknown> = {}
  for (const [field, name] of PROPERTY_NAMES) if (props[field] !== undefined) out[name] = jsonOf(props[field])
  return out
}

const FIELD_OF = new Map(PROPERTY_NAMES.map(([field, name]) => [name, field]))
const OCTET_PROPERTIES = new Set<keyof BasicProperties>(['deliveryMode', 'priority'])
const SHORTSTR_BYTES_MAX = 255

function badProperty(message: string): WharfError {
  return new WharfError('INVALID_ARGUMENT', message)
}

/** A headers-table value from JSON: strings, numbers, booleans and null, nested objects and arrays of them. */
function fieldValueOf(name: string, value: unknown, depth = 0): FieldValue {
  if (depth > 8) throw badProperty(`headers.${name} nests too deep`)
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (Array.isArray(value)) return value.map((v) => fieldValueOf(name, v, depth + 1))
  if (typeof value === 'object') {
    const table: FieldTable = {}
    for (const [k, v] of Object.entries(value)) table[k] = fieldValueOf(`${name}.${k}`, v, depth + 1)
    return table
  }
  throw badProperty(`headers.${name} must be a string, number, boolean, null, object or array`)
}

/**
 * A publish carrying AMQP properties given by their spec names (`{'content-type': 'text/plain', 'delivery-mode':
 * 2, headers: {…}}`), stored exactly as a basic.publish with those properties is (the admin API's publish).
 * Unknown names and ill-typed values are INVALID_ARGUMENT naming the property.
 */
export function publishWithProperties(properties: Record<string, unknown>, body: Buffer): PublishMessage {
  const props: BasicProperties = {}
  const target = props as Record<string, unknown>
  for (const [name, value] of Object.entries(properties)) {
    const field = FIELD_OF.get(name)
    if (field === undefined)
      throw badProperty(`unknown AMQP property '${name}'; known: ${PROPERTY_NAMES.map(([, n]) => n).join(', ')}`)
    if (value === undefined || value === null || value === '') continue
    if (field === 'headers') {
      if (typeof value !== 'object' || Array.isArray(value)) throw badProperty('headers must be an object')
      target.headers = fieldValueOf('', value) as FieldTable
    } else if (OCTET_PROPERTIES.has(field)) {
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 255)
        throw badProperty(`${name} must be an integer in [0, 255]`)
      target[field] = value
    } else if (field === 'timestamp') {
      if (!Number.isInteger(value) || (value as number) < 0) throw badProperty('timestamp must be epoch seconds')
      target[field] = value
    } else {
      if (typeof value !== 'string' || Buffer.byteLength(value) > SHORTSTR_BYTES_MAX)
        throw badProperty(`${name} must be a string of at most ${SHORTSTR_BYTES_MAX} bytes`)
      if (field === 'expiration' && !/^\d{1,15}$/.test(value))
        throw badProperty('expiration must be milliseconds as decimal text')
      target[field] = value
    }
  }
  const frame = encodeContentHeaderFrame(0, body.length, props)
  // The frame's payload after the fixed part, without the frame header (7 bytes) and frame-end octet.
  const raw = frame.subarray(FRAME_OVERHEAD_BYTES - 1 + CONTENT_HEADER_FIXED_BYTES, frame.length - 1)
  return toPublishMessage(raw, props, body)
}

interface DeathRecordJson {
  queue: string
  reason: string
  count: number
  time: number
  exchange?: string
  routingKeys?: string[]
}

/** RabbitMQ's x-death array from the broker's wharf.deaths JSON (newest first). */
function xDeath(json: string): FieldValue[] {
  let deaths: DeathRecordJson[]
  try {
    deaths = JSON.parse(json)
    if (!Array.isArray(deaths)) return []
  } catch {
    return []
  }
  return deaths.map((d) => ({
    count: typed('l', d.count),
    reason: d.reason,
    queue: d.queue,
    time: typed('T', Math.floor(d.time / 1000)),
    exchange: d.exchange ?? '',
    'routing-keys': (d.routingKeys ?? []).map((k) => k as FieldValue),
  }))
}

/** Extra headers a delivery carries on top of the stored properties. */
export interface DeliveryExtras {
  streamOffset?: number
}

/**
 * A whole delivery (method, content header, bodies) as one buffer or a few to write together. The stored
 * property bytes are copied as they are unless x-death or x-stream-offset must be added.
 */
export function encodeDelivery<N extends ContentMethodName>(
  channel: number,
  name: N,
  args: MethodInit[N],
  message: StoredMessage,
  frameMax: number,
  extras?: DeliveryExtras,
): Buffer | Buffer[] {
  const body = message.value ?? Buffer.alloc(0)
  const deaths = lastHeader(message.headers, Reserved.deaths)
  const raw = lastHeader(message.headers, PROPS_HEADER)
  if (raw && !deaths && extras?.streamOffset === undefined) return encodeRaw(channel, name, args, raw, body, frameMax)
  const props = decodeProperties(message)
  if (deaths || extras?.streamOffset !== undefined) {
    const headers: FieldTable = { ...(props.headers ?? {}) }
    if (deaths) {
      headers['x-death'] = xDeath(deaths.toString('utf8'))
      // RabbitMQ drops the per-message TTL of a dead-lettered message so that it does not expire again.
      delete props.expiration
    }
    if (extras?.streamOffset !== undefined) headers['x-stream-offset'] = typed('l', extras.streamOffset)
    props.headers = headers
  }
  return encodeMessage(channel, name, args, props, body, frameMax)
}

function encodeRaw<N extends ContentMethodName>(
  channel: number,
  name: N,
  args: MethodInit[N],
  raw: Buffer,
  body: Buffer,
  frameMax: number,
): Buffer | Buffer[] {
  const method = encodeMethodFrame(channel, name, args, frameMax)
  const headerSize = CONTENT_HEADER_FIXED_BYTES + raw.length
  // A body that fits one frame is not copied: [method + content header + body frame header, body, frame-end]
  // go out in one writev, and a fanned-out message's body bytes are shared by every delivery.
  const single = body.length > 0 && body.length <= frameMax - FRAME_OVERHEAD_BYTES
  const prefix = Buffer.allocUnsafe(method.length + FRAME_OVERHEAD_BYTES + headerSize + (single ? 7 : 0))
  method.copy(prefix, 0)
  let at = method.length
  prefix[at] = FRAME_HEADER
  prefix.writeUInt16BE(channel, at + 1)
  prefix.writeUInt32BE(headerSize, at + 3)
  prefix.writeUInt16BE(60, at + 7)
  prefix.writeUInt16BE(0, at + 9)
  prefix.writeUInt32BE(Math.floor(body.length / 0x100000000), at + 11)
  prefix.writeUInt32BE(body.length >>> 0, at + 15)
  raw.copy(prefix, at + 19)
  at += FRAME_OVERHEAD_BYTES + headerSize
  prefix[at - 1] = FRAME_END
  if (body.length === 0) return prefix
  if (!single) return Buffer.concat([prefix, encodeBodyFrames(channel, body, frameMax)])
  prefix[at] = FRAME_BODY
  prefix.writeUInt16BE(channel, at + 1)
  prefix.writeUInt32BE(body.length, at + 3)
  return [prefix, body, FRAME_END_BYTE]
}

/**
 * The routing keys of a CC or BCC header: an array whose longstr entries count (others are skipped); any
 * other type is refused, as RabbitMQ does (406 "invalid message: {unacceptable_type_in_header,...}").
 */
export function routingKeysOf(headers: NonNullable<BasicProperties['headers']>, name: 'CC' | 'BCC'): string[] {
  const value = headers[name]
  if (value === undefined) return []
  if (!Array.isArray(value))
    throw amqpError.precondition(`invalid message: {unacceptable_type_in_header,"${name}",${fieldTypeName(value)}}`)
  const keys: string[] = []
  for (const v of value) {
    if (typeof v === 'string') keys.push(v)
    else if (Buffer.isBuffer(v)) keys.push(v.toString('utf8'))
  }
  return keys
}

/** RabbitMQ's name of a field type, as far as the decoded value tells (integers lose their width). */
function fieldTypeName(value: unknown): string {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return 'longstr'
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'number') return Number.isInteger(value) ? 'long' : 'double'
  if (typeof value === 'bigint') return 'long'
  if (value === null) return 'void'
  if (value instanceof Date) return 'timestamp'
  return 'table'
}
