// AMQP 1.0 message ↔ broker message. A transfer's bytes are a sequence of sections (Part 3.2). The record
// value is the body: the bytes of a single `data` section, or the text of an `amqp-value` string; any other
// body (several data sections, an amqp-sequence, a typed amqp-value) is kept encoded and flagged, so an AMQP
// 1.0 consumer gets it back as sent. The message-annotations, properties and application-properties sections
// are kept encoded in `amqp.sections` for AMQP 1.0 consumers, and also written in the neutral form every
// other protocol reads: the JMS header names (message-id, correlation-id, reply-to, type ← subject,
// content-type, JMSXGroupID) and typed properties (src/broker/properties). The header section becomes the
// broker's priority, expiry and the `persistent` header; a delivery gets a fresh one with its delivery count.
import { type PublishMessage, Reserved, type StoredMessage } from '../../broker/message.js'
import {
  isPropertyName,
  JmsHeader,
  MessageProperties,
  type Property,
  property,
  propertyHeaders,
} from '../../broker/properties/properties.js'
import type { RecordHeader } from '../../record/index.js'
import { Decoder } from './codec/decoder.js'
import { Encoder, encodeValue } from './codec/encoder.js'
import { type AnyInit, type Composite, fromDescribed, toDescribed } from './codec/generated/types.js'
import { dataSectionHead, headerSection } from './codec/per-message.js'
import { Amqp10DecodeError, AmqpMap, Described, keyText, Typed, type Value } from './codec/values.js'
import { amqpReplyTo, DEST_TYPE, destinationType, neutralReplyTo, REPLY_TYPE } from './jms-annotations.js'

/** Encoded message-annotations, properties and application-properties sections of an AMQP 1.0 publish. */
export const SECTIONS_HEADER = 'amqp.sections'
/**
 * How the record value maps back to a body: `sections` (the encoded body sections as sent) or `string` (an
 * amqp-value string's UTF-8 text); absent for a single data section and for other protocols' messages.
 */
export const BODY_HEADER = 'amqp.body'
/** The encoded footer section (it follows the body, so it is kept apart from the bare message's sections). */
export const FOOTER_HEADER = 'amqp.footer'

const BARE = new Set(['message-annotations', 'properties', 'application-properties'])
/** The neutral headers the properties section carries (not repeated as application-properties). */
const MAPPED = new Set<string>(Object.values(JmsHeader))
const EMPTY = Buffer.alloc(0)

interface Parsed {
  header?: Composite & { kind: 'header' }
  properties?: Composite & { kind: 'properties' }
  applicationProperties?: AmqpMap
  messageAnnotations?: AmqpMap
  footer?: Buffer
  /** Encoded bytes of the sections kept for AMQP 1.0 consumers. */
  kept: Buffer[]
  body: Buffer
  bodyKind: 'data' | 'string' | 'sections'
}

/** Splits a message into its sections; a malformed message is a decode error (the link rejects it). */
export function parseMessage(bytes: Buffer): Parsed {
  const d = new Decoder(bytes)
  const parsed: Parsed = { kept: [], body: Buffer.alloc(0), bodyKind: 'data' }
  const bodies: Array<{ kind: string; value: unknown; bytes: Buffer }> = []
  while (d.remaining > 0) {
    const start = d.pos
    const value = d.value()
    if (!(value instanceof Described)) throw new Amqp10DecodeError('a message section must be a described value')
    if (value.value === null && isAmqpValue(value.descriptor)) {
      // An amqp-value section holds any value, null included (the generated decoder wants one).
      bodies.push({ kind: 'amqp-value', value: null, bytes: bytes.subarray(start, d.pos) })
      continue
    }
    const section = fromDescribed(value)
    if (section instanceof Described) throw new Amqp10DecodeError('unknown message section')
    const raw = bytes.subarray(start, d.pos)
    switch (section.kind) {
      case 'header':
        parsed.header = section
        break
      case 'properties':
        parsed.properties = section
        break
      case 'application-properties':
        parsed.applicationProperties = section.value
        break
      case 'message-annotations':
        parsed.messageAnnotations = section.value
        break
      case 'data':
      case 'amqp-sequence':
      case 'amqp-value':
        bodies.push({ kind: section.kind, value: section.value, bytes: raw })
        break
      case 'footer':
        parsed.footer = raw
        break
      case 'delivery-annotations':
        // Per hop (Part 3.2.2): meant for this broker, not forwarded.
        break
      default:
        throw new Amqp10DecodeError(`${section.kind} is not a message section`)
    }
    if (BARE.has(section.kind)) parsed.kept.push(raw)
  }
  const only = bodies.length === 1 ? bodies[0]! : undefined
  if (only?.kind === 'data') parsed.body = only.value as Buffer
  else if (only?.kind === 'amqp-value' && typeof only.value === 'string') {
    parsed.body = Buffer.from(only.value)
    parsed.bodyKind = 'string'
  } else if (bodies.length > 0) {
    parsed.body = Buffer.concat(bodies.map((b) => b.bytes))
    parsed.bodyKind = 'sections'
  }
  return parsed
}

function isAmqpValue(descriptor: Value): boolean {
  return descriptor instanceof Typed && (descriptor.value === 0x77n || descriptor.value === 'amqp:amqp-value:*')
}

/** The broker message of a transfer (its bytes whole, after the last `more`). */
export function toPublishMessage(bytes: Buffer, now: number): PublishMessage {
  return toPublish(bytes, now).message
}

/** A publish, with where an anonymous relay sends it: `properties.to`, a topic when x-opt-jms-dest says so. */
export interface Publish {
  message: PublishMessage
  to: string | undefined
  toTopic: boolean
}

export function toPublish(bytes: Buffer, now: number): Publish {
  const m = parseMessage(bytes)
  const headers: RecordHeader[] = []
  if (m.kept.length > 0) headers.push({ key: SECTIONS_HEADER, value: Buffer.concat(m.kept) })
  if (m.bodyKind !== 'data') headers.push({ key: BODY_HEADER, value: Buffer.from(m.bodyKind) })
  if (m.footer !== undefined) headers.push({ key: FOOTER_HEADER, value: m.footer })
  const message: PublishMessage = { value: m.body, headers, timestamp: now }
  const h = m.header
  if (h?.priority !== undefined) message.priority = Math.min(h.priority, 9)
  if (h?.ttl !== undefined) message.ttlMs = h.ttl
  headers.push({ key: JmsHeader.persistent, value: Buffer.from(h?.durable === true ? 'true' : 'false') })
  const p = m.properties
  if (p !== undefined) {
    const text = (key: string, v: unknown) => {
      const t = idText(v)
      if (t !== undefined) headers.push({ key, value: Buffer.from(t) })
    }
    text(JmsHeader.messageId, p.messageId)
    text(JmsHeader.correlationId, p.correlationId)
    const replyTo = idText(p.replyTo)
    if (replyTo !== undefined) {
      const kind = destinationType(m.messageAnnotations, REPLY_TYPE)
      headers.push({ key: JmsHeader.replyTo, value: Buffer.from(neutralReplyTo(replyTo, kind)) })
    }
    if (p.userId !== undefined) headers.push({ key: JmsHeader.userId, value: p.userId })
    if (p.subject !== undefined) headers.push({ key: JmsHeader.type, value: Buffer.from(p.subject) })
    if (p.contentType !== undefined) headers.push({ key: JmsHeader.contentType, value: Buffer.from(p.contentType) })
    if (p.groupId !== undefined) headers.push({ key: JmsHeader.groupId, value: Buffer.from(p.groupId) })
    if (p.groupSequence !== undefined)
      headers.push({ key: JmsHeader.groupSeq, value: Buffer.from(String(p.groupSequence)) })
    if (p.absoluteExpiryTime !== undefined && message.ttlMs === undefined && p.absoluteExpiryTime > 0)
      message.ttlMs = Math.max(1, p.absoluteExpiryTime - now)
    if (p.creationTime !== undefined && p.creationTime > 0) message.timestamp = p.creationTime
  }
  if (m.applicationProperties !== undefined)
    headers.push(...propertyHeaders(neutralProperties(m.applicationProperties)))
  const delay = annotation(m.messageAnnotations, 'x-opt-delivery-delay')
  const at = annotation(m.messageAnnotations, 'x-opt-delivery-time')
  if (delay !== undefined && delay > 0) message.delayMs = delay
  else if (at !== undefined && at > now) message.delayMs = at - now
  const to = idText(p?.to)
  const dest = destinationType(m.messageAnnotations, DEST_TYPE)
  return { message, to, toTopic: dest === 'topic' || dest === 'temporary-topic' }
}

function annotation(map: AmqpMap | undefined, key: string): number | undefined {
  const v = map?.get(key)
  if (v instanceof Typed && (typeof v.value === 'number' || typeof v.value === 'bigint')) return Number(v.value)
  return undefined
}

/** A message-id or address as text: strings as they are, numbers in decimal, uuids and binaries in hex. */
function idText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string') return v
  if (Buffer.isBuffer(v)) return v.toString('hex')
  if (v instanceof Typed) return Buffer.isBuffer(v.value) ? v.value.toString('hex') : String(v.value)
  return undefined
}

/** application-properties as typed properties; AMQP types JMS lacks become the nearest wider one. */
function neutralProperties(map: AmqpMap): Array<[string, Property]> {
  const out: Array<[string, Property]> = []
  for (const [k, v] of map.entries) {
    const name = keyText(k)
    if (name === undefined || !isPropertyName(name)) continue
    const p = neutralOf(v)
    if (p !== undefined) out.push([name, p])
  }
  return out
}

function neutralOf(v: Value): Property | undefined {
  if (typeof v === 'string') return property('string', v)
  if (typeof v === 'boolean') return property('boolean', v)
  if (!(v instanceof Typed)) return undefined
  switch (v.type) {
    case 'byte':
    case 'short':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return property(v.type, v.value as number | bigint)
    case 'ubyte':
      return property('short', v.value as number)
    case 'ushort':
      return property('int', v.value as number)
    case 'uint':
    case 'timestamp':
      return property('long', BigInt(v.value as number))
    case 'ulong':
      return (v.value as bigint) < 2n ** 63n ? property('long', v.value as bigint) : undefined
    case 'symbol':
      return property('string', v.value as string)
    case 'char':
      return property('string', String.fromCodePoint(v.value as number))
    default:
      return undefined
  }
}

/** The sections of a delivery: a fresh header, then the kept (or rebuilt) bare message, then the body. */
export function encodeDelivery(message: StoredMessage, deliveryCount: number): Buffer {
  const headers = message.headers
  let kept: Buffer | null | undefined
  let footer: Buffer | null | undefined
  let bodyKind = 'data'
  let priority: number | undefined
  let durable = false
  let expiresAt: number | undefined
  for (const h of headers) {
    if (h.key === SECTIONS_HEADER) kept = h.value
    else if (h.key === BODY_HEADER) bodyKind = h.value?.toString() ?? 'data'
    else if (h.key === FOOTER_HEADER) footer = h.value
    else if (h.key === Reserved.priority) priority = Number(h.value?.toString())
    else if (h.key === Reserved.expiresAt) expiresAt = Number(h.value?.toString())
    else if (h.key === JmsHeader.persistent) durable = h.value?.toString() === 'true'
  }
  const validPriority = priority !== undefined && Number.isInteger(priority) && priority >= 0 && priority <= 0xff
  const ttl =
    expiresAt !== undefined && Number.isFinite(expiresAt)
      ? Math.max(0, Math.min(2 ** 32 - 1, expiresAt - Date.now()))
      : undefined
  const header = headerSection(
    durable,
    validPriority ? priority : undefined,
    ttl,
    deliveryCount > 1 ? deliveryCount - 1 : undefined,
  )
  let bare: Buffer = EMPTY
  if (kept) bare = kept
  else {
    const e = new Encoder(128)
    encodeNeutral(e, message)
    bare = e.result()
  }
  const body = message.value ?? EMPTY
  const tail = footer ?? EMPTY
  if (bodyKind === 'sections') return Buffer.concat([header, bare, body, tail])
  if (bodyKind === 'string') {
    const value = encodeValue(toDescribed({ kind: 'amqp-value', value: body.toString('utf8') }))
    return Buffer.concat([header, bare, value, tail])
  }
  return Buffer.concat([header, bare, dataSectionHead(body.length), body, tail])
}

/** properties and application-properties built from the neutral headers of another protocol's message. */
function encodeNeutral(e: Encoder, message: StoredMessage): void {
  const text = (name: string) => {
    for (const h of message.headers) if (h.key === name && h.value !== null) return h.value.toString('utf8')
    return undefined
  }
  const props: AnyInit = { kind: 'properties', creationTime: message.timestamp }
  const id = text(JmsHeader.messageId)
  if (id !== undefined) props.messageId = id
  const correlation = text(JmsHeader.correlationId)
  if (correlation !== undefined) props.correlationId = correlation
  const replyTo = text(JmsHeader.replyTo)
  const reply = replyTo === undefined ? undefined : amqpReplyTo(replyTo)
  if (reply !== undefined) props.replyTo = reply.address
  const subject = text(JmsHeader.type)
  if (subject !== undefined) props.subject = subject
  const contentType = text(JmsHeader.contentType)
  if (contentType !== undefined) props.contentType = contentType
  const group = text(JmsHeader.groupId)
  if (group !== undefined) props.groupId = group
  const seq = Number(text(JmsHeader.groupSeq))
  if (Number.isInteger(seq) && seq >= 0 && seq < 2 ** 32) props.groupSequence = seq
  const user = text(JmsHeader.userId)
  if (user !== undefined) props.userId = Buffer.from(user)
  if (reply?.type !== undefined)
    e.value(toDescribed({ kind: 'message-annotations', value: new AmqpMap([[REPLY_TYPE, reply.type]]) }))
  e.value(toDescribed(props))
  const entries: Array<[Value, Value]> = []
  for (const [name, p] of new MessageProperties(message.headers).all()) {
    if (MAPPED.has(name)) continue
    entries.push([name, typedOf(p)])
  }
  if (entries.length > 0) e.value(toDescribed({ kind: 'application-properties', value: new AmqpMap(entries) }))
}

function typedOf(p: Property): Value {
  switch (p.type) {
    case 'string':
    case 'boolean':
      return p.value as string | boolean
    default:
      return new Typed(p.type, p.value as number | bigint)
  }
}
