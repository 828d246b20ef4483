// Typed message properties (JMS's eight types) kept in ordinary record headers, so that every protocol sees
// them without decoding anything: a property is a header whose name is the property name and whose value is
// the value as UTF-8 text (what STOMP headers, MQTT 5 user properties and Kafka header viewers show). The type
// of every property that is not a string rides in one reserved header, `wharf.types`, a JSON object from name
// to type; a header it does not name is a string. AMQP 0-9-1 field tables and AMQP 1.0 application-properties
// are typed, so their adapters read the types back from here; text-only protocols ignore them.
import { RESERVED_PREFIX, type RecordHeader } from '../message.js'

export type PropertyType = 'boolean' | 'byte' | 'short' | 'int' | 'long' | 'float' | 'double' | 'string'

/** long is a bigint (64 bits, lossless); byte/short/int/float/double are numbers (float already rounded to 32 bits). */
export type PropertyValue = boolean | number | bigint | string

export interface Property {
  readonly type: PropertyType
  readonly value: PropertyValue
}

/** Reserved header with the types of the non-string properties: `{"count":"int","ok":"boolean"}`. */
export const TYPES_HEADER = `${RESERVED_PREFIX}types`

/**
 * Header namespaces that belong to one adapter (its own encodings, e.g. the raw AMQP 0-9-1 properties) and are
 * therefore not properties. Adapters never let a client set a header in them.
 */
export const ADAPTER_PREFIXES: readonly string[] = [RESERVED_PREFIX, 'amqp.', 'mqtt.']

/**
 * Neutral names of the JMS message headers, as plain record headers. STOMP sends them under these names, AMQP
 * adapters map their properties to and from them, and selectors read JMSCorrelationID, JMSType, JMSMessageID
 * and JMSDeliveryMode from them.
 */
export const JmsHeader = {
  correlationId: 'correlation-id',
  type: 'type',
  messageId: 'message-id',
  replyTo: 'reply-to',
  contentType: 'content-type',
  /** "true" or "false" (STOMP `persistent`); JMSDeliveryMode PERSISTENT / NON_PERSISTENT. */
  persistent: 'persistent',
  groupId: 'JMSXGroupID',
  groupSeq: 'JMSXGroupSeq',
  /** JMSTimestamp: ms since the epoch as decimal text (STOMP's `timestamp`). */
  timestamp: 'timestamp',
  /** JMS-defined properties for the sending application and the authenticated user. */
  appId: 'JMSXAppID',
  userId: 'JMSXUserID',
} as const

const TYPES = new Set<PropertyType>(['boolean', 'byte', 'short', 'int', 'long', 'float', 'double', 'string'])

const INTEGER_RANGES: Partial<Record<PropertyType, readonly [number, number]>> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  int: [-2147483648, 2147483647],
}
const LONG_MIN = -(2n ** 63n)
const LONG_MAX = 2n ** 63n - 1n

export function isPropertyType(type: string): type is PropertyType {
  return TYPES.has(type as PropertyType)
}

/** True for header names in a namespace an adapter or the broker owns (never a client's to set or see). */
export function isAdapterHeader(name: string): boolean {
  for (const prefix of ADAPTER_PREFIXES) if (name.startsWith(prefix)) return true
  return false
}

/** True for header names that carry an application property (not reserved, not an adapter's own). */
export function isPropertyName(name: string): boolean {
  return name.length > 0 && !isAdapterHeader(name)
}

/** Builds a property, checking that the value fits its type; throws a TypeError if not. */
export function property(type: PropertyType, value: PropertyValue): Property {
  const checked = checkValue(type, value)
  if (checked === undefined) throw new TypeError(`${String(value)} is not a valid ${type}`)
  return { type, value: checked }
}

function checkValue(type: PropertyType, value: PropertyValue): PropertyValue | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : undefined
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined
    case 'long': {
      if (typeof value === 'number' && !Number.isSafeInteger(value)) return undefined
      if (typeof value !== 'bigint' && typeof value !== 'number') return undefined
      const big = BigInt(value)
      return big >= LONG_MIN && big <= LONG_MAX ? big : undefined
    }
    case 'float':
      return typeof value === 'number' ? Math.fround(value) : undefined
    case 'double':
      return typeof value === 'number' ? value : undefined
    default: {
      const range = INTEGER_RANGES[type]!
      const n = typeof value === 'bigint' ? Number(value) : value
      return typeof n === 'number' && Number.isInteger(n) && n >= range[0] && n <= range[1] ? n : undefined
    }
  }
}

/**
 * The header text of a value: decimal for numbers (shortest form that reads back exactly), true/false. A float
 * is written as the shortest decimal that rounds to the same 32-bit value (`0.1`, not the double expansion
 * `0.10000000149011612`), as Java's Float.toString does; parsePropertyText('float', …) reads it back exactly.
 */
export function propertyText(value: PropertyValue, type?: PropertyType): string {
  if (type === 'float' && typeof value === 'number' && Number.isFinite(value)) return floatText(value)
  return String(value)
}

function floatText(value: number): string {
  for (let digits = 1; digits < 9; digits++) {
    const shorter = Number(value.toPrecision(digits))
    if (Math.fround(shorter) === value) return String(shorter)
  }
  return String(value)
}

/** Reads a header's text as the given type; undefined when the text is not a value of that type. */
export function parsePropertyText(type: PropertyType, text: string): PropertyValue | undefined {
  switch (type) {
    case 'string':
      return text
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : undefined
    case 'long':
      return /^-?\d{1,19}$/.test(text) ? checkValue('long', BigInt(text)) : undefined
    case 'float':
    case 'double': {
      if (!/^(-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|-?Infinity|NaN)$/.test(text)) return undefined
      return checkValue(type, Number(text))
    }
    default:
      return /^-?\d{1,10}$/.test(text) ? checkValue(type, Number(text)) : undefined
  }
}

/**
 * Record headers for a set of properties: one plain header each, plus `wharf.types` when any is not a string.
 * Names must pass isPropertyName (the caller's adapter refuses the others with its own error).
 */
export function propertyHeaders(properties: Iterable<readonly [string, Property]>): RecordHeader[] {
  const headers: RecordHeader[] = []
  const types: Array<[string, PropertyType]> = []
  for (const [name, { type, value }] of properties) {
    headers.push({ key: name, value: Buffer.from(propertyText(value, type)) })
    if (type !== 'string') types.push([name, type])
  }
  if (types.length > 0) headers.push(typesHeader(types))
  return headers
}

/**
 * The `wharf.types` header naming these (non-string) property types, for adapters that write the property
 * headers themselves (e.g. as views of bytes they already hold).
 */
export function typesHeader(types: Iterable<readonly [string, PropertyType]>): RecordHeader {
  let json = '{'
  for (const [name, type] of types)
    json += `${json.length === 1 ? '' : ','}${PLAIN_NAME.test(name) ? `"${name}"` : JSON.stringify(name)}:"${type}"`
  json += '}'
  // A publisher sends the same shape again and again: reuse the bytes (headers are never written to).
  if (json !== lastTypes.json) lastTypes = { json, bytes: Buffer.from(json) }
  return { key: TYPES_HEADER, value: lastTypes.bytes }
}

/** Names JSON needs not escape (the common ones; any other goes through JSON.stringify). */
const PLAIN_NAME = /^[\w.:/@$ -]*$/
let lastTypes = { json: '', bytes: Buffer.alloc(0) }

/** The types recorded in `wharf.types` (the last one wins), or an empty map. Bad JSON counts as none. */
export function typesOf(headers: readonly RecordHeader[]): ReadonlyMap<string, PropertyType> {
  let raw: Buffer | null | undefined
  for (let i = headers.length - 1; i >= 0 && raw === undefined; i--)
    if (headers[i]!.key === TYPES_HEADER) raw = headers[i]!.value
  if (!raw) return EMPTY_TYPES
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.toString('utf8'))
  } catch {
    return EMPTY_TYPES
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return EMPTY_TYPES
  const out = new Map<string, PropertyType>()
  for (const [name, type] of Object.entries(parsed))
    if (typeof type === 'string' && isPropertyType(type)) out.set(name, type)
  return out
}

const EMPTY_TYPES: ReadonlyMap<string, PropertyType> = new Map()

/**
 * The properties of a message, read lazily: the types header is parsed on the first typed lookup, once.
 * A header whose text does not parse as its recorded type reads as a string (never lost, never thrown).
 * The first header of a name wins (STOMP's rule for repeated headers).
 */
export class MessageProperties {
  private types: ReadonlyMap<string, PropertyType> | null = null

  constructor(private readonly headers: readonly RecordHeader[]) {}

  get(name: string): Property | undefined {
    if (!isPropertyName(name)) return undefined
    for (const h of this.headers) {
      if (h.key !== name) continue
      if (h.value === null) return undefined
      return this.typed(name, h.value.toString('utf8'))
    }
    return undefined
  }

  /** Every property in header order (the first of each name). */
  all(): Map<string, Property> {
    const out = new Map<string, Property>()
    for (const h of this.headers) {
      if (h.value === null || out.has(h.key) || !isPropertyName(h.key)) continue
      out.set(h.key, this.typed(h.key, h.value.toString('utf8')))
    }
    return out
  }

  private typed(name: string, text: string): Property {
    this.types ??= typesOf(this.headers)
    const type = this.types.get(name)
    if (type === undefined || type === 'string') return { type: 'string', value: text }
    const value = parsePropertyText(type, text)
    return value === undefined ? { type: 'string', value: text } : { type, value }
  }
}
