// What a selector reads from a message: typed properties (properties.ts) and the JMS header identifiers
// mapped onto Wharf's neutral headers. Works on a stored message (queue consumers) and on a message being
// published (binding selectors at routing time), which differ only in where priority and timestamp are.
import { headerText, type RecordHeader, Reserved } from '../message.js'
import { JmsHeader, MessageProperties } from '../properties/properties.js'

/** The value of an identifier: null when absent (SQL NULL); exact numbers are bigints, approximate numbers. */
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

/** One evaluation's view of a message; properties are decoded on first use. */
export class SelectorContext {
  message: SelectorMessage = { headers: NO_HEADERS }
  facts: DeliveryFacts | undefined = undefined
  #properties: MessageProperties | null = null

  reset(message: SelectorMessage, facts: DeliveryFacts | undefined): void {
    this.message = message
    this.facts = facts
    this.#properties = null
  }

  get headers(): readonly RecordHeader[] {
    return this.message.headers ?? NO_HEADERS
  }

  property(name: string): Value {
    this.#properties ??= new MessageProperties(this.headers)
    const p = this.#properties.get(name)
    if (p === undefined) return null
    switch (p.type) {
      case 'byte':
      case 'short':
      case 'int':
        return BigInt(p.value as number)
      default:
        return p.value
    }
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
  return HEADERS.get(name) ?? ((ctx) => ctx.property(name))
}
