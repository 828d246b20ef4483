// SEND ↔ broker message ↔ MESSAGE. The body is the record value; every application header of a SEND (the
// JMS ones `content-type`, `correlation-id`, `reply-to`, `type`, `persistent`, `expires` and custom ones)
// is a plain record header of the same name, which is what AMQP 0-9-1 consumers see in their headers table,
// MQTT 5 subscribers as user properties and Kafka consumers as record headers; their headers come back to
// STOMP the same way. `priority` and `expires` also set the broker's priority and per-message expiry.
// SEND headers are properties of type string (ActiveMQ's STOMP rule); MESSAGE frames show every property as
// text, AMQP 0-9-1 ones included (its adapter writes them in the neutral form, docs/properties.md).
// Frame-control headers (destination, receipt, transaction, content-length) are not kept, and a client cannot
// set the broker's reserved `wharf.*` headers nor another protocol's (`amqp.*`, `mqtt.*`).
import type { PublishMessage, RecordHeader, StoredMessage } from '../../../broker/message.js'
import { isAdapterHeader, JmsHeader } from '../../../broker/properties/properties.js'
import type { HeaderList } from './encode.js'
import { StompFrameError } from './frame.js'
import { isScheduleHeader, scheduledDelay } from './schedule.js'

/** SEND headers that steer the frame, not the message. */
const controlHeaders = new Set(['destination', 'receipt', 'transaction', 'content-length'])
/** MQTT 5 properties that mean the same as a STOMP header. */
const fromMqtt: Record<string, string> = {
  'mqtt.content-type': 'content-type',
  'mqtt.response-topic': 'reply-to',
}

/** RabbitMQ's STOMP header for the AMQP message-id property. */
const AMQP_MESSAGE_ID = 'amqp-message-id'
const PRIORITY = 'wharf.priority'
const EXPIRES_AT = 'wharf.expires-at'

/** Record headers the broker or other adapters own (`wharf.types` among them): never taken from a client, never shown to one. */
function foreign(name: string): boolean {
  return isAdapterHeader(name)
}

export function toPublishMessage(headers: ReadonlyMap<string, string>, body: Buffer, now: number): PublishMessage {
  const record: RecordHeader[] = []
  for (const [name, value] of headers) {
    if (controlHeaders.has(name) || foreign(name) || isScheduleHeader(name)) continue
    // RabbitMQ's STOMP sets the AMQP message-id from amqp-message-id; stored under the neutral name.
    record.push({ key: name === AMQP_MESSAGE_ID ? JmsHeader.messageId : name, value: Buffer.from(value) })
  }
  const message: PublishMessage = { value: body, headers: record, timestamp: now }
  const delayMs = scheduledDelay(headers, now)
  if (delayMs !== undefined && delayMs > 0) message.delayMs = delayMs
  const priority = headers.get('priority')
  if (priority !== undefined) {
    const n = Number(priority)
    if (!Number.isInteger(n) || n < 0 || n > 9) throw new StompFrameError(`invalid priority '${priority}' (0-9)`)
    message.priority = n
  }
  const expires = headers.get('expires')
  if (expires !== undefined && expires !== '0') {
    // JMS expiration: an absolute time in ms since the epoch; 0 is "never".
    const at = Number(expires)
    if (!Number.isSafeInteger(at) || at < 0) throw new StompFrameError(`invalid expires '${expires}'`)
    message.ttlMs = Math.max(1, at - now)
  }
  return message
}

/** Application headers of a MESSAGE frame, after the ones the subscription adds. */
export function messageHeaders(message: StoredMessage, out: HeaderList): void {
  let contentType = false
  let hasTimestamp = false
  for (const { key, value } of message.headers) {
    if (value === null) continue
    if (key === PRIORITY) {
      out.push(['priority', value.toString('utf8')])
      continue
    }
    if (key === EXPIRES_AT || key === 'priority' || key === 'content-length') continue
    const alias = fromMqtt[key]
    if (alias !== undefined) {
      if (alias === 'content-type') contentType = true
      out.push([alias, value.toString('utf8')])
      continue
    }
    if (key === JmsHeader.messageId) {
      // The MESSAGE's own message-id is the subscription's ack id, so the JMS message id (AMQP message-id, a
      // SEND's message-id header) goes out under RabbitMQ's STOMP name for it.
      out.push([AMQP_MESSAGE_ID, value.toString('utf8')])
      continue
    }
    if (foreign(key) || controlHeaders.has(key) || key === 'subscription' || key === 'ack' || key === AMQP_MESSAGE_ID)
      continue
    if (key === 'content-type') {
      if (contentType) continue
      contentType = true
    }
    if (key === 'timestamp') hasTimestamp = true
    out.push([key, value.toString('utf8')])
  }
  // ActiveMQ sends the JMS timestamp of every message.
  if (!hasTimestamp) out.push(['timestamp', String(message.timestamp)])
}
