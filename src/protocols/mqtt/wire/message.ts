// PUBLISH ↔ broker message. The MQTT topic and the v5 properties travel as reserved `mqtt.*` record
// headers, so an MQTT subscriber gets them back exactly while AMQP/Kafka consumers see the payload and
// can read them. User properties are plain record headers (name → UTF-8 value): they are the
// application's headers on every protocol (string properties), and other protocols' headers and typed
// properties become user properties here in text form (docs/properties.md); the broker's and adapters' own
// headers (`wharf.*`, `amqp.*`) never do.
import type { IPublishPacket, QoS, UserProperties } from 'mqtt-packet'
import {
  headerText,
  type PublishMessage,
  type RecordHeader,
  Reserved,
  type StoredMessage,
} from '../../../broker/message.js'
import { isAdapterHeader } from '../../../broker/properties/properties.js'
import { amqpRoutingKeyToMqttTopic, mqttTopicToAmqpRoutingKey } from '../../../broker/routing/match/index.js'

export const H = {
  topic: 'mqtt.topic',
  qos: 'mqtt.qos',
  retain: 'mqtt.retain',
  from: 'mqtt.from',
  contentType: 'mqtt.content-type',
  responseTopic: 'mqtt.response-topic',
  correlationData: 'mqtt.correlation-data',
  payloadFormat: 'mqtt.payload-format',
  expiry: 'mqtt.expiry',
} as const

const MQTT_PREFIX = 'mqtt.'
const qosText = [Buffer.from('0'), Buffer.from('1'), Buffer.from('2')] as const
const one = Buffer.from('1')

export type PublishProperties = NonNullable<IPublishPacket['properties']>

export interface InboundPublish {
  topic: string
  qos: QoS
  retain: boolean
  payload: Buffer
  properties: PublishProperties | undefined
  clientId: string
}

export function toBrokerMessage(p: InboundPublish, timestamp: number): { routingKey: string; message: PublishMessage } {
  const headers: RecordHeader[] = [
    { key: H.topic, value: Buffer.from(p.topic) },
    { key: H.qos, value: qosText[p.qos] },
    { key: H.from, value: Buffer.from(p.clientId) },
  ]
  if (p.retain) headers.push({ key: H.retain, value: one })
  const props = p.properties
  let ttlMs: number | undefined
  if (props !== undefined) {
    if (props.contentType !== undefined) headers.push({ key: H.contentType, value: Buffer.from(props.contentType) })
    if (props.responseTopic !== undefined)
      headers.push({ key: H.responseTopic, value: Buffer.from(props.responseTopic) })
    if (props.correlationData !== undefined)
      headers.push({ key: H.correlationData, value: Buffer.from(props.correlationData) })
    if (props.payloadFormatIndicator === true) headers.push({ key: H.payloadFormat, value: one })
    if (props.messageExpiryInterval !== undefined) {
      headers.push({ key: H.expiry, value: Buffer.from(String(props.messageExpiryInterval)) })
      ttlMs = props.messageExpiryInterval * 1000
    }
    if (props.userProperties !== undefined) {
      for (const [name, value] of Object.entries(props.userProperties)) {
        // A user property is a string property; the broker's and other adapters' headers (`wharf.types`,
        // `wharf.priority`, `amqp.props`, …) are not a client's to set.
        if (isAdapterHeader(name)) continue
        for (const v of Array.isArray(value) ? value : [value])
          headers.push({ key: name, value: Buffer.from(String(v)) })
      }
    }
  }
  const message: PublishMessage = { value: p.payload, headers, timestamp }
  if (ttlMs !== undefined) message.ttlMs = ttlMs
  return { routingKey: mqttTopicToAmqpRoutingKey(p.topic), message }
}

/** The MQTT topic of a stored message: its own, or the AMQP routing key mapped back (RabbitMQ convention). */
export function topicOf(message: { readonly headers: readonly RecordHeader[] }): string {
  return (
    headerText(message.headers, H.topic) ??
    amqpRoutingKeyToMqttTopic(headerText(message.headers, Reserved.routingKey) ?? '')
  )
}

/** Published QoS; messages from other protocols count as QoS 1 (RabbitMQ maps persistent delivery to 1). */
export function qosOf(message: { readonly headers?: readonly RecordHeader[] | undefined }): QoS {
  const text = message.headers === undefined ? undefined : headerText(message.headers, H.qos)
  return text === '0' ? 0 : text === '2' ? 2 : 1
}

/** Seconds of life left: undefined = never expires, ≤ 0 = expired. */
export function remainingExpiry(message: StoredMessage, now: number): number | undefined {
  const text = headerText(message.headers, H.expiry)
  if (text === undefined) return undefined
  return Number(text) - Math.floor((now - message.timestamp) / 1000)
}

/** v5 properties of an outbound PUBLISH (topic alias and subscription identifiers are added by the caller). */
export function outboundProperties(message: StoredMessage, expiry: number | undefined): PublishProperties | undefined {
  let props: PublishProperties | undefined
  let user: UserProperties | undefined
  for (const { key, value } of message.headers) {
    if (value === null) continue
    if (key.startsWith(MQTT_PREFIX)) {
      switch (key) {
        case H.contentType:
          props ??= {}
          props.contentType = value.toString()
          break
        case H.responseTopic:
          props ??= {}
          props.responseTopic = value.toString()
          break
        case H.correlationData:
          props ??= {}
          props.correlationData = value
          break
        case H.payloadFormat:
          props ??= {}
          props.payloadFormatIndicator = true
          break
      }
      continue
    }
    if (isAdapterHeader(key)) continue
    user ??= {}
    const existing = user[key]
    const text = value.toString()
    if (existing === undefined) user[key] = text
    else if (Array.isArray(existing)) existing.push(text)
    else user[key] = [existing, text]
  }
  if (user !== undefined) {
    props ??= {}
    props.userProperties = user
  }
  if (expiry !== undefined) {
    props ??= {}
    props.messageExpiryInterval = Math.max(1, expiry)
  }
  return props
}

/** What a delivery needs from a stored message's headers, found in one pass without decoding text. */
export interface DeliveryView {
  /** The MQTT topic: decoded once per topic buffer (shared by every subscriber's copy of a publish). */
  topic: string
  /** Topic bytes as stored (UTF-8), written to the wire without re-encoding. */
  topicBytes: Buffer
  qos: QoS
  /** Publisher's client id, bytes (for No Local). */
  from: Buffer | undefined
  retain: boolean
  /** Whether any header becomes a v5 property (user properties, content type, …). */
  hasV5Properties: boolean
  expiryText: Buffer | undefined
}

const topicCache = new WeakMap<Buffer, string>()
const qos0 = qosText[0][0]
const qos2 = qosText[2][0]

export function deliveryView(message: StoredMessage): DeliveryView {
  let topicBytes: Buffer | undefined
  let qos: QoS = 1
  let from: Buffer | undefined
  let retain = false
  let hasV5Properties = false
  let expiryText: Buffer | undefined
  let routingKey: Buffer | undefined
  for (const { key, value } of message.headers) {
    if (value === null) continue
    switch (key) {
      case H.topic:
        topicBytes = value
        break
      case H.qos:
        qos = value.length === 1 && value[0] === qos0 ? 0 : value.length === 1 && value[0] === qos2 ? 2 : 1
        break
      case H.from:
        from = value
        break
      case H.retain:
        retain = value.length === 1 && value[0] === one[0]
        break
      case H.expiry:
        expiryText = value
        break
      case Reserved.routingKey:
        routingKey = value
        break
      case H.contentType:
      case H.responseTopic:
      case H.correlationData:
      case H.payloadFormat:
        hasV5Properties = true
        break
      default:
        if (!isAdapterHeader(key)) hasV5Properties = true
    }
  }
  let topic: string
  if (topicBytes !== undefined) {
    let cached = topicCache.get(topicBytes)
    if (cached === undefined) {
      cached = topicBytes.toString('utf8')
      topicCache.set(topicBytes, cached)
    }
    topic = cached
  } else {
    topic = amqpRoutingKeyToMqttTopic(routingKey?.toString('utf8') ?? '')
    topicBytes = Buffer.from(topic)
  }
  return { topic, topicBytes, qos, from, retain, hasV5Properties, expiryText }
}
