// AMQP 0-9-1 properties ↔ the broker's neutral form (docs/properties.md). A publish keeps its property bytes in
// `amqp.props` for AMQP consumers; so that STOMP, MQTT, Kafka and SQS consumers (and selectors) see them too, the
// mapped basic properties are also written under the neutral JMS names and every headers-table entry of a
// JMS-representable type as a typed property. The field-table letters are read straight from the stored bytes
// because the decoded table has lost them (10 as `b`, `s`, `I` or `l` all decode to the number 10).
// The other way, a message published over another protocol is delivered with a headers table built from its
// typed properties (int → `I`, long → `l`, …) and its neutral JMS headers as basic properties.
import { isUtf8 } from 'node:buffer'
import {
  isPropertyName,
  JmsHeader,
  type Property,
  type PropertyType,
  parsePropertyText,
  propertyHeaders,
  typesOf,
} from '../../broker/properties/properties.js'
import type { RecordHeader } from '../../record/index.js'
import {
  BASIC_PROPERTY_FLAGS,
  type BasicProperties,
  type FieldTable,
  type FieldType,
  type FieldValue,
  Reader,
  typed,
} from './codec/index.js'

type StringProperty = 'contentType' | 'correlationId' | 'replyTo' | 'type' | 'messageId' | 'appId' | 'userId'

/** Basic properties that are plain strings under a neutral name, in the order the neutral headers are written. */
const STRING_PROPERTIES: ReadonlyArray<readonly [StringProperty, string]> = [
  ['contentType', JmsHeader.contentType],
  ['correlationId', JmsHeader.correlationId],
  ['replyTo', JmsHeader.replyTo],
  ['type', JmsHeader.type],
  ['messageId', JmsHeader.messageId],
  ['appId', JmsHeader.appId],
  ['userId', JmsHeader.userId],
]
const PROPERTY_OF_NEUTRAL = new Map<string, StringProperty>(STRING_PROPERTIES.map(([field, name]) => [name, field]))

const F = BASIC_PROPERTY_FLAGS
/** Flags of the properties that have a neutral form: a publish with none of them costs one flag-word read. */
const MAPPED_FLAGS =
  F.headers |
  F.deliveryMode |
  F.timestamp |
  F.contentType |
  F.correlationId |
  F.replyTo |
  F.type |
  F.messageId |
  F.appId |
  F.userId
/** AMQP delivery-mode 2 is persistent (RabbitMQ counts only 2 as persistent). */
const PERSISTENT_MODE = 2
const TRUE = Buffer.from('true')
const FALSE = Buffer.from('false')
const SHORTSTR_BYTES_MAX = 255

/**
 * The neutral headers of an AMQP publish (its raw property bytes and their decoded form), or undefined when no
 * mapped property is present. Basic properties come first and win: a headers-table entry under the same name
 * as a set basic property (`correlation-id`, …) is left out rather than stored twice with two values.
 */
export function neutralHeaders(propsRaw: Buffer, props: BasicProperties): RecordHeader[] | undefined {
  if (propsRaw.length < 2 || (propsRaw.readUInt16BE(0) & MAPPED_FLAGS) === 0) return undefined
  const out: RecordHeader[] = []
  for (const [field, name] of STRING_PROPERTIES) {
    const value = props[field]
    if (value !== undefined) out.push({ key: name, value: Buffer.from(value) })
  }
  if (props.deliveryMode !== undefined)
    out.push({ key: JmsHeader.persistent, value: props.deliveryMode === PERSISTENT_MODE ? TRUE : FALSE })
  // AMQP carries whole seconds; JMSTimestamp (and STOMP's `timestamp`) is milliseconds.
  if (props.timestamp !== undefined)
    out.push({ key: JmsHeader.timestamp, value: Buffer.from(String(BigInt(props.timestamp) * 1000n)) })
  if (props.headers !== undefined && hasEntries(props.headers)) {
    const at = headersTableAt(propsRaw)
    if (at >= 0) {
      const taken = out.length === 0 ? undefined : new Set(out.map((h) => h.key))
      const entries = tableProperties(propsRaw, at, taken)
      for (const h of propertyHeaders(entries)) out.push(h)
    }
  }
  return out.length === 0 ? undefined : out
}

function hasEntries(table: FieldTable): boolean {
  for (const _ in table) return true
  return false
}

/** Offset of the headers table in raw property bytes (flag words, then content-type, content-encoding). */
function headersTableAt(raw: Buffer): number {
  const first = raw.readUInt16BE(0)
  if ((first & F.headers) === 0) return -1
  let flags = first
  let at = 2
  // Bit 0 of a flag word announces another one (never set by RabbitMQ's 14 properties, allowed by the spec).
  while ((flags & 1) !== 0) {
    flags = raw.readUInt16BE(at)
    at += 2
  }
  if ((first & F.contentType) !== 0) at += 1 + raw[at]!
  if ((first & F.contentEncoding) !== 0) at += 1 + raw[at]!
  return at
}

/**
 * The typed properties of a headers table's top-level entries. Names another adapter owns (`wharf.*`, `amqp.*`,
 * `mqtt.*`), names already taken by a basic property and repeated names (first wins) are skipped, as are the
 * values JMS has no type for (see propertyAt).
 */
function tableProperties(raw: Buffer, at: number, taken: Set<string> | undefined): Array<[string, Property]> {
  const reader = new Reader(raw, at)
  const length = reader.long()
  reader.need(length)
  reader.end = reader.pos + length
  const out: Array<[string, Property]> = []
  const seen = new Set<string>()
  while (reader.pos < reader.end) {
    const name = reader.shortstr()
    const property = propertyAt(reader, reader.octet())
    if (property === undefined || !isPropertyName(name) || taken?.has(name) || seen.has(name)) continue
    seen.add(name)
    out.push([name, property])
  }
  return out
}

/**
 * Reads one field value (the reader is past its letter) as a JMS property; undefined for the AMQP-only ones:
 * nested tables and arrays (JMS properties are scalars), void (an absent JMS property already reads as NULL)
 * and byte arrays that are not UTF-8 text. Unsigned letters widen to the next signed type (B → short,
 * u → int, i → long), decimals become their exact decimal text and timestamps milliseconds as a long.
 */
function propertyAt(reader: Reader, letter: number): Property | undefined {
  const buf = reader.buf
  switch (letter) {
    case 0x74 /* t */:
      return { type: 'boolean', value: reader.octet() !== 0 }
    case 0x62 /* b */:
      reader.need(1)
      return { type: 'byte', value: buf.readInt8(reader.pos++) }
    case 0x42 /* B */:
      return { type: 'short', value: reader.octet() }
    case 0x73 /* s */:
      reader.need(2)
      reader.pos += 2
      return { type: 'short', value: buf.readInt16BE(reader.pos - 2) }
    case 0x75 /* u */:
      return { type: 'int', value: reader.short() }
    case 0x49 /* I */:
      reader.need(4)
      reader.pos += 4
      return { type: 'int', value: buf.readInt32BE(reader.pos - 4) }
    case 0x69 /* i */:
      return { type: 'long', value: BigInt(reader.long()) }
    case 0x6c /* l */:
      reader.need(8)
      reader.pos += 8
      return { type: 'long', value: buf.readBigInt64BE(reader.pos - 8) }
    case 0x66 /* f */:
      reader.need(4)
      reader.pos += 4
      return { type: 'float', value: buf.readFloatBE(reader.pos - 4) }
    case 0x64 /* d */:
      reader.need(8)
      reader.pos += 8
      return { type: 'double', value: buf.readDoubleBE(reader.pos - 8) }
    case 0x44 /* D */:
      {
        const scale = reader.octet()
        return { type: 'string', value: decimalText(reader.long(), scale) }
      }
    case 0x53 /* S */:
      return { type: 'string', value: reader.longstr().toString('utf8') }
    case 0x78 /* x */:
      {
        const bytes = reader.longstr()
        return isUtf8(bytes) ? { type: 'string', value: bytes.toString('utf8') } : undefined
      }
    case 0x54 /* T */:
      reader.need(8)
      reader.pos += 8
      return { type: 'long', value: buf.readBigUInt64BE(reader.pos - 8) * 1000n }
    case 0x41 /* A */:
    case 0x46 /* F */:
      reader.longstr()
      return undefined
    case 0x56 /* V */:
      return undefined
    default:
      // Unreachable for bytes the content-header decoder accepted; stop rather than misread the rest.
      reader.pos = reader.end
      return undefined
  }
}

/** An AMQP decimal (value / 10^scale) as exact decimal text: (12345, 2) → "123.45". */
export function decimalText(value: number, scale: number): string {
  if (scale === 0) return String(value)
  const digits = String(value).padStart(scale + 1, '0')
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
}

const LETTER: Record<Exclude<PropertyType, 'string' | 'boolean'>, FieldType> = {
  byte: 'b',
  short: 's',
  int: 'I',
  long: 'l',
  float: 'f',
  double: 'd',
}

/**
 * Basic properties of a message published over another protocol: the neutral JMS headers become basic
 * properties, every other header an entry of the headers table, typed as `wharf.types` records it (a header
 * whose text does not parse as its recorded type stays a longstr). The first header of a name wins.
 */
export function propertiesFromHeaders(headers: readonly RecordHeader[]): BasicProperties {
  const table: FieldTable = {}
  const props: BasicProperties = {}
  let types: ReadonlyMap<string, PropertyType> | undefined
  let any = false
  for (const h of headers) {
    // The broker's own headers and the raw AMQP properties are not application headers; MQTT's (`mqtt.topic`,
    // …) stay visible in the table, as they always were.
    if (h.key.startsWith('wharf.') || h.key.startsWith('amqp.')) continue
    if (h.value !== null && basicProperty(props, h.key, h.value)) continue
    if (Object.hasOwn(table, h.key)) continue
    any = true
    if (h.value === null) {
      setEntry(table, h.key, null)
      continue
    }
    const text = h.value.toString('utf8')
    types ??= typesOf(headers)
    const type = types.get(h.key)
    const value = type === undefined || type === 'string' ? undefined : parsePropertyText(type, text)
    if (value === undefined) setEntry(table, h.key, text)
    else if (type === 'boolean') setEntry(table, h.key, value as boolean)
    else setEntry(table, h.key, typed(LETTER[type as keyof typeof LETTER], value as number | bigint))
  }
  if (any) props.headers = table
  return props
}

/** A plain assignment of "__proto__" (a header name any client may send) would replace the table's prototype. */
function setEntry(table: FieldTable, key: string, value: FieldValue): void {
  if (key === '__proto__')
    Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true })
  else table[key] = value
}

/** Sets the basic property a neutral header names; false when the header is not one (or does not fit one). */
function basicProperty(props: BasicProperties, name: string, value: Buffer): boolean {
  const field = PROPERTY_OF_NEUTRAL.get(name)
  if (field !== undefined) {
    if (props[field] !== undefined) return true
    // A basic property is a shortstr; a longer value (STOMP allows it) stays a headers-table longstr.
    if (value.length > SHORTSTR_BYTES_MAX) return false
    props[field] = value.toString('utf8')
    return true
  }
  if (name === JmsHeader.persistent) {
    if (props.deliveryMode !== undefined) return true
    const text = value.toString('utf8')
    if (text !== 'true' && text !== 'false') return false
    props.deliveryMode = text === 'true' ? PERSISTENT_MODE : 1
    return true
  }
  if (name === JmsHeader.timestamp) {
    if (props.timestamp !== undefined) return true
    const text = value.toString('utf8')
    if (!/^\d{1,15}$/.test(text)) return false
    props.timestamp = Math.floor(Number(text) / 1000)
    return true
  }
  return false
}
