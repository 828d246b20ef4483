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
  type PropertyType,
  parsePropertyText,
  propertyText,
  typesHeader,
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

/** Basic properties that are plain strings under a neutral name. */
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
/** The neutral name of each mapped shortstr property, by its flag bit. */
const NEUTRAL_OF_FLAG = new Map<number, string>(STRING_PROPERTIES.map(([field, name]) => [F[field], name]))
/** The flag bit that sets each neutral name (so a headers-table entry of that name is left out). */
const FLAG_OF_NEUTRAL = new Map<string, number>([
  ...STRING_PROPERTIES.map(([field, name]) => [name, F[field]] as [string, number]),
  [JmsHeader.persistent, F.deliveryMode],
  [JmsHeader.timestamp, F.timestamp],
])
/** Flags of the properties that have a neutral form: a publish with none of them costs one flag-word read. */
const MAPPED_FLAGS = F.headers | F.deliveryMode | F.timestamp | [...NEUTRAL_OF_FLAG.keys()].reduce((a, b) => a | b, 0)
/** The lowest property flag (cluster-id); lower bits are reserved or the continuation bit. */
const LAST_FLAG = F.clusterId
/** AMQP delivery-mode 2 is persistent (RabbitMQ counts only 2 as persistent). */
const PERSISTENT_MODE = 2
const TRUE = Buffer.from('true')
const FALSE = Buffer.from('false')
const SHORTSTR_BYTES_MAX = 255

/**
 * The neutral headers of an AMQP publish, read from its raw property bytes (already validated by the decoder),
 * or undefined when no mapped property is present. Basic properties come first and win: a headers-table entry
 * under the same name as a set basic property (`correlation-id`, …) is left out rather than stored twice with
 * two values. String values are views of `raw`, so the caller passes the copy it keeps (not the frame's bytes);
 * one walk over the bytes, no decoded strings re-encoded.
 */
export function neutralHeaders(raw: Buffer): RecordHeader[] | undefined {
  if (raw.length < 2) return undefined
  const flags = raw.readUInt16BE(0)
  if ((flags & MAPPED_FLAGS) === 0) return undefined
  let at = 2
  // Bit 0 of a flag word announces another one (never set by RabbitMQ's 14 properties, allowed by the spec).
  for (let word = flags; (word & 1) !== 0; at += 2) word = raw.readUInt16BE(at)
  const out: RecordHeader[] = []
  let table = -1
  for (let bit = 0x8000; bit >= LAST_FLAG; bit >>>= 1) {
    if ((flags & bit) === 0) continue
    if (bit === F.headers) {
      table = at
      at += 4 + raw.readUInt32BE(at)
    } else if (bit === F.deliveryMode) {
      out.push({ key: JmsHeader.persistent, value: raw[at] === PERSISTENT_MODE ? TRUE : FALSE })
      at += 1
    } else if (bit === F.priority) {
      at += 1
    } else if (bit === F.timestamp) {
      // AMQP carries whole seconds; JMSTimestamp (and STOMP's `timestamp`) is milliseconds.
      out.push({ key: JmsHeader.timestamp, value: asciiBytes(String(raw.readBigUInt64BE(at) * 1000n)) })
      at += 8
    } else {
      const length = raw[at]!
      const name = NEUTRAL_OF_FLAG.get(bit)
      if (name !== undefined) out.push({ key: name, value: raw.subarray(at + 1, at + 1 + length) })
      at += 1 + length
    }
  }
  if (table >= 0 && raw.readUInt32BE(table) > 0) tableHeaders(raw, table, flags, out)
  return out.length === 0 ? undefined : out
}

/** Whether a neutral name is already set by a basic property of this publish. */
function takenByBasic(flags: number, name: string): boolean {
  const flag = FLAG_OF_NEUTRAL.get(name)
  return flag !== undefined && (flags & flag) !== 0
}

/** Short ASCII text (numbers) as bytes: cheaper than Buffer.from's encoder for a few characters. */
function asciiBytes(text: string): Buffer {
  const out = Buffer.allocUnsafe(text.length)
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i)
  return out
}

/** One headers-table entry in the neutral form: its text bytes and its type. */
interface Entry {
  type: PropertyType
  text: Buffer
}

/**
 * Appends the typed properties of a headers table's top-level entries (and their `wharf.types`). Names another
 * adapter owns (`wharf.*`, `amqp.*`, `mqtt.*`), names a basic property already set and repeated names (first
 * wins) are skipped, as are the values JMS has no type for (see entryAt).
 */
function tableHeaders(raw: Buffer, at: number, flags: number, out: RecordHeader[]): void {
  const reader = new Reader(raw, at)
  const length = reader.long()
  reader.need(length)
  reader.end = reader.pos + length
  const first = out.length
  const types: Array<[string, PropertyType]> = []
  while (reader.pos < reader.end) {
    const name = reader.shortstr()
    const entry = entryAt(reader, reader.octet())
    if (entry === undefined || !isPropertyName(name) || takenByBasic(flags, name) || repeated(out, first, name))
      continue
    out.push({ key: name, value: entry.text })
    if (entry.type !== 'string') types.push([name, entry.type])
  }
  if (types.length > 0) out.push(typesHeader(types))
}

function repeated(out: readonly RecordHeader[], from: number, name: string): boolean {
  for (let i = from; i < out.length; i++) if (out[i]!.key === name) return true
  return false
}

function numberEntry(type: PropertyType, value: number | bigint): Entry {
  return { type, text: asciiBytes(propertyText(value, type)) }
}

/**
 * Reads one field value (the reader is past its letter) as a JMS property; undefined for the AMQP-only ones:
 * nested tables and arrays (JMS properties are scalars), void (an absent JMS property already reads as NULL)
 * and byte arrays that are not UTF-8 text. Unsigned letters widen to the next signed type (B → short,
 * u → int, i → long), decimals become their exact decimal text and timestamps milliseconds as a long.
 * Strings are views of the stored bytes, not copies.
 */
function entryAt(reader: Reader, letter: number): Entry | undefined {
  const buf = reader.buf
  switch (letter) {
    case 0x74 /* t */:
      return { type: 'boolean', text: reader.octet() !== 0 ? TRUE : FALSE }
    case 0x62 /* b */:
      reader.need(1)
      return numberEntry('byte', buf.readInt8(reader.pos++))
    case 0x42 /* B */:
      return numberEntry('short', reader.octet())
    case 0x73 /* s */:
      reader.need(2)
      reader.pos += 2
      return numberEntry('short', buf.readInt16BE(reader.pos - 2))
    case 0x75 /* u */:
      return numberEntry('int', reader.short())
    case 0x49 /* I */:
      reader.need(4)
      reader.pos += 4
      return numberEntry('int', buf.readInt32BE(reader.pos - 4))
    case 0x69 /* i */:
      return numberEntry('long', reader.long())
    case 0x6c /* l */:
      reader.need(8)
      reader.pos += 8
      return numberEntry('long', buf.readBigInt64BE(reader.pos - 8))
    case 0x66 /* f */:
      reader.need(4)
      reader.pos += 4
      return numberEntry('float', buf.readFloatBE(reader.pos - 4))
    case 0x64 /* d */:
      reader.need(8)
      reader.pos += 8
      return numberEntry('double', buf.readDoubleBE(reader.pos - 8))
    case 0x44 /* D */:
      {
        const scale = reader.octet()
        return { type: 'string', text: asciiBytes(decimalText(reader.long(), scale)) }
      }
    case 0x53 /* S */:
      return { type: 'string', text: reader.longstr() }
    case 0x78 /* x */:
      {
        const bytes = reader.longstr()
        return isUtf8(bytes) ? { type: 'string', text: bytes } : undefined
      }
    case 0x54 /* T */:
      reader.need(8)
      reader.pos += 8
      return numberEntry('long', buf.readBigUInt64BE(reader.pos - 8) * 1000n)
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
