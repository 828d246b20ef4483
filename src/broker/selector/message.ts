// What a selector reads from a message: typed properties (properties.ts) and the JMS header identifiers
// mapped onto Wharf's neutral headers. Works on a stored message (queue consumers) and on a message being
// published (binding selectors at routing time), which differ only in where priority and timestamp are.
import { headerText, type RecordHeader, Reserved } from '../message.js'
import {
  isPropertyName,
  JmsHeader,
  type PropertyType,
  parsePropertyText,
  TYPES_HEADER,
  typesOf,
} from '../properties/properties.js'

/**
 * The value of an identifier: null when absent (SQL NULL). Longs and exact literals are bigints; other
 * numbers (int-like properties, floats, doubles) are numbers.
 */
export type Value = null | boolean | string | number | bigint

/** The parts of a StoredMessage or a PublishMessage a selector reads. */
export interface SelectorMessage {
  readonly headers?: readonly RecordHeader[]
  /** JMSTimestamp (ms since epoch). */
  readonly timestamp?: number
  /** A publish's priority before it is stored as `wharf.priority`. */
  readonly priority?: number
  /** A publish's group before it is stored as `wharf.group`. */
  readonly groupId?: string
}

/** What only the delivery knows (queue consumers); absent at routing time. */
export interface DeliveryFacts {
  /** JMSXDeliveryCount: 1 on the first delivery. */
  readonly deliveryCount: number
  readonly redelivered: boolean
}

/** JMSPriority of a message that sets none (JMS's default). */
export const DEFAULT_PRIORITY = 4

const NO_HEADERS: readonly RecordHeader[] = []

/**
 * Parsed `wharf.types` headers by their text: the messages of one producer carry the same one, so a selector
 * over a queue parses it once, not once per message. Bounded; cleared when full.
 */
const typesCache = new Map<string, ReadonlyMap<string, PropertyType>>()
const TYPES_CACHE_MAX = 512
let lastTypes: { raw: Buffer; types: ReadonlyMap<string, PropertyType> } | null = null

function typesFor(headers: readonly RecordHeader[]): ReadonlyMap<string, PropertyType> | undefined {
  let raw: Buffer | null = null
  for (let i = headers.length - 1; i >= 0; i--) {
    if (headers[i]!.key !== TYPES_HEADER) continue
    raw = headers[i]!.value
    break
  }
  if (raw === null) return undefined
  // Consecutive messages of one producer: compare bytes with the last one, no string made.
  if (lastTypes !== null && raw.equals(lastTypes.raw)) return lastTypes.types
  const text = raw.toString('latin1')
  let types = typesCache.get(text)
  if (types === undefined) {
    types = typesOf([{ key: TYPES_HEADER, value: raw }])
    if (typesCache.size >= TYPES_CACHE_MAX) typesCache.clear()
    typesCache.set(text, types)
  }
  lastTypes = { raw: Buffer.from(raw), types }
  return types
}

/**
 * One evaluation's view of a message. Properties are read as MessageProperties reads them (the first header
 * of a name, typed by `wharf.types`, a text that does not parse as its type read as a string). A long is a
 * bigint; byte, short and int stay numbers (they are exact either way, and compare with bigints as numbers).
 */
export class SelectorContext {
  message: SelectorMessage = { headers: NO_HEADERS }
  facts: DeliveryFacts | undefined = undefined
  #types: ReadonlyMap<string, PropertyType> | undefined | null = null

  reset(message: SelectorMessage, facts: DeliveryFacts | undefined): void {
    this.message = message
    this.facts = facts
    this.#types = null
  }

  get headers(): readonly RecordHeader[] {
    return this.message.headers ?? NO_HEADERS
  }

  /** A property by a name that passes isPropertyName (readerOf checks it once). */
  property(name: string): Value {
    for (const h of this.headers) {
      if (h.key !== name) continue
      if (h.value === null) return null
      const text = h.value.toString('utf8')
      if (this.#types === null) this.#types = typesFor(this.headers)
      const type = this.#types?.get(name)
      if (type === undefined || type === 'string') return text
      const value = parsePropertyText(type, text)
      if (value === undefined) return text
      return value
    }
    return null
  }
}

export type Reader = (ctx: SelectorContext) => Value

const text =
  (name: string): Reader =>
  (ctx) =>
    headerText(ctx.headers, name) ?? null

/**
 * JMS header identifiers. Any other name, JMSX* included, is a property; JMSXGroupID falls back to the
 * broker's own group (FIFO queues, AMQP/SQS group ids) when no property sets it.
 */
const HEADERS = new Map<string, Reader>(
  Object.entries({
    JMSPriority: (ctx) => {
      const stored = headerText(ctx.headers, Reserved.priority)
      const n = stored === undefined ? ctx.message.priority : Number(stored)
      return BigInt(n !== undefined && Number.isSafeInteger(n) ? n : DEFAULT_PRIORITY)
    },
    JMSTimestamp: (ctx) => {
      const t = ctx.message.timestamp
      return t === undefined || !Number.isSafeInteger(t) ? null : BigInt(t)
    },
    JMSCorrelationID: text(JmsHeader.correlationId),
    JMSType: text(JmsHeader.type),
    JMSMessageID: text(JmsHeader.messageId),
    // Without a `persistent` header a message is NON_PERSISTENT, as STOMP messages are in ActiveMQ and Artemis.
    JMSDeliveryMode: (ctx) =>
      headerText(ctx.headers, JmsHeader.persistent) === 'true' ? 'PERSISTENT' : 'NON_PERSISTENT',
    JMSXDeliveryCount: (ctx) => (ctx.facts === undefined ? null : BigInt(ctx.facts.deliveryCount)),
    JMSRedelivered: (ctx) => ctx.facts?.redelivered ?? null,
    JMSXGroupID: (ctx) =>
      ctx.property(JmsHeader.groupId) ?? headerText(ctx.headers, Reserved.groupId) ?? ctx.message.groupId ?? null,
  } satisfies Record<string, Reader>),
)

export function readerOf(name: string): Reader {
  const header = HEADERS.get(name)
  if (header !== undefined) return header
  // Reserved and adapter-owned headers (wharf.*, amqp.*, mqtt.*) are not properties: always NULL.
  return isPropertyName(name) ? (ctx) => ctx.property(name) : () => null
}
