// Outbound PUBLISH encoding and writing, within what the client accepts (v5 Maximum Packet Size, Topic
// Alias Maximum). 3.1.1 deliveries, and v5 ones without properties, take the hot path: the header is built
// here and the stored payload written after it uncopied. Everything else goes through mqtt-packet.
import type { IPublishPacket, QoS } from 'mqtt-packet'
import type { StoredMessage } from '../../../broker/message.js'
import { encodePacket, encodePublishHeader } from '../wire/codec.js'
import { outboundProperties } from '../wire/message.js'
import type { Output } from './output.js'
import type { ConnectionCore } from './state.js'

type WriterContext = ConnectionCore & { readonly output: Output }

const emptyPayload = Buffer.alloc(0)
/** A v5 PUBLISH without properties: property length 0. */
const noProperties = Buffer.from([0])

/** What a PUBLISH needs of a message's topic (a DeliveryView, or a retained message's topic). */
export interface PublishTopic {
  topic: string
  topicBytes: Buffer | undefined
  hasV5Properties: boolean
}

/** How one PUBLISH goes out, beside its topic and message. */
export interface PublishOptions {
  qos: QoS
  retain: boolean
  /** A resend (QoS > 0 only). */
  dup: boolean
  /** Packet identifier; undefined for QoS 0. */
  messageId: number | undefined
  /** v5 Subscription Identifiers of the subscriptions the message matched. */
  subscriptionIds: number[] | undefined
  /** v5 Message Expiry Interval left, in seconds. */
  expiry: number | undefined
}

export class PublishWriter {
  readonly #c: WriterContext
  /** The client's Maximum Packet Size (v5); larger PUBLISHes are dropped, not sent. */
  clientMaxPacket = Number.POSITIVE_INFINITY
  /** Outbound topic aliases (v5): the client's Topic Alias Maximum and the aliases handed out so far. */
  clientAliasMax = 0
  readonly #outAliases = new Map<string, number>()
  /** The options prepare() hands out: one object per connection, not one per PUBLISH. */
  readonly #next: PublishOptions = {
    qos: 0,
    retain: false,
    dup: false,
    messageId: undefined,
    subscriptionIds: undefined,
    expiry: undefined,
  }

  constructor(c: WriterContext) {
    this.#c = c
  }

  /**
   * The options for the next send(), reset to a plain PUBLISH of `qos` (no retain, dup, packet id,
   * subscription ids or expiry); fill in the rest. Valid until the next prepare().
   */
  prepare(qos: QoS): PublishOptions {
    const next = this.#next
    next.qos = qos
    next.retain = false
    next.dup = false
    next.messageId = undefined
    next.subscriptionIds = undefined
    next.expiry = undefined
    return next
  }

  /**
   * Writes a PUBLISH; false when it exceeds the client's Maximum Packet Size and was not sent. Without v5
   * properties (every 3.1.1 delivery) the header is built here and the payload written after it as is:
   * the stored payload buffer, shared by every subscriber, is never copied or re-encoded.
   */
  send(view: PublishTopic, message: StoredMessage, options: PublishOptions): boolean {
    const { qos, retain, dup, messageId, subscriptionIds: ids, expiry } = options
    const c = this.#c
    const payload = message.value ?? emptyPayload
    const v5 = c.version === 5
    const topicBytes = view.topicBytes
    if (
      topicBytes !== undefined &&
      topicBytes.length <= 0xffff &&
      (!v5 || (!view.hasV5Properties && ids === undefined && expiry === undefined && this.clientAliasMax === 0))
    ) {
      const header = encodePublishHeader(
        topicBytes,
        payload.length,
        qos,
        retain,
        qos > 0 && dup,
        messageId ?? 0,
        v5 ? noProperties : null,
        this.clientMaxPacket,
      )
      if (header === null) {
        c.hub.stats.dropped++
        return false
      }
      countDelivery(c, payload.length, qos > 0 && dup)
      c.output.write(header)
      if (payload.length > 0) c.output.write(payload)
      return true
    }
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic: view.topic,
      payload,
      qos,
      retain,
      dup: qos > 0 && dup,
    }
    if (messageId !== undefined) packet.messageId = messageId
    if (v5) {
      const properties = outboundProperties(message, expiry)
      if (ids !== undefined) {
        const all = properties ?? {}
        all.subscriptionIdentifier = ids.length === 1 ? ids[0]! : ids
        packet.properties = all
      } else if (properties !== undefined) packet.properties = properties
      if (this.clientAliasMax > 0) this.#alias(packet)
    }
    const bytes = encodePacket(packet, c.version)
    if (bytes.length > this.clientMaxPacket) {
      c.hub.stats.dropped++
      return false
    }
    countDelivery(c, payload.length, qos > 0 && dup)
    c.output.write(bytes)
    return true
  }

  /**
   * Outbound topic alias (v5, when the client accepts them): the first PUBLISH of a topic carries topic and
   * alias, later ones only the alias. Aliases are handed out first come, first served up to the client's
   * maximum and never remapped, so a resend can never meet a stale mapping.
   */
  #alias(packet: IPublishPacket): void {
    let alias = this.#outAliases.get(packet.topic)
    if (alias === undefined) {
      if (this.#outAliases.size >= this.clientAliasMax) return
      alias = this.#outAliases.size + 1
      this.#outAliases.set(packet.topic, alias)
    } else packet.topic = ''
    packet.properties = { ...packet.properties, topicAlias: alias }
  }
}

function countDelivery(c: WriterContext, bytes: number, redelivered: boolean): void {
  const traffic = c.hub.traffic
  traffic.delivered(1, bytes)
  if (redelivered) traffic.messagesRedelivered++
}
