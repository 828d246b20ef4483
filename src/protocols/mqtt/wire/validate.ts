// The semantic checks mqtt-packet leaves to the server: topic rules, UTF-8, duplicated properties,
// properties that a packet type may not carry. Each throws MqttError with the reason to answer with.
import { isUtf8 } from 'node:buffer'
import { validateTopicFilter, validateTopicName } from '../../../broker/routing/match/index.js'
import { MqttError, Reason } from './errors.js'

/** UTF-8 of U+FFFD: a decoded string may only contain U+FFFD if these bytes were on the wire. */
const replacementBytes = Buffer.from([0xef, 0xbf, 0xbd])

/**
 * mqtt-packet decodes invalid UTF-8 to U+FFFD, which MQTT-1.5.4-1 says must close the connection. A
 * genuine U+FFFD is encoded as EF BF BD on the wire, so a U+FFFD in a string of a frame that holds no
 * such bytes proves the string was not valid UTF-8.
 */
export function checkDecodedText(text: string | undefined, frameHasReplacement: boolean, what: string): void {
  if (text === undefined) return
  if (text.includes('\ufffd') && !frameHasReplacement)
    throw new MqttError(Reason.malformedPacket, `${what} is not valid UTF-8`)
  if (text.includes('\u0000')) throw new MqttError(Reason.malformedPacket, `${what} contains U+0000`)
}

export function frameHasReplacementChar(frame: Buffer): boolean {
  return frame.includes(replacementBytes)
}

export function checkTopicName(topic: string, maxTopicBytes: number): void {
  const reason = validateTopicName(topic)
  if (reason !== null) throw new MqttError(Reason.topicNameInvalid, reason)
  if (Buffer.byteLength(topic) > maxTopicBytes)
    throw new MqttError(Reason.topicNameInvalid, `topic name longer than ${maxTopicBytes} bytes`)
}

/** Reason a filter is refused in a SUBACK, or null (shared subscriptions are checked by their parser). */
export function topicFilterReason(filter: string, maxTopicBytes: number): string | null {
  const reason = validateTopicFilter(filter)
  if (reason !== null) return reason
  if (Buffer.byteLength(filter) > maxTopicBytes) return `topic filter longer than ${maxTopicBytes} bytes`
  return null
}

/** Properties that may appear several times; any other one that mqtt-packet turned into an array was duplicated. */
const repeatable = new Set(['userProperties', 'subscriptionIdentifier'])

export function checkProperties(properties: object | undefined, allowed: ReadonlySet<string>, what: string): void {
  if (properties === undefined) return
  for (const [name, value] of Object.entries(properties)) {
    if (!allowed.has(name)) throw new MqttError(Reason.protocolError, `${what} may not carry property ${name}`)
    if (Array.isArray(value) && !repeatable.has(name))
      throw new MqttError(Reason.protocolError, `${what} repeats property ${name}`)
  }
}

export const publishProperties: ReadonlySet<string> = new Set([
  'payloadFormatIndicator',
  'messageExpiryInterval',
  'topicAlias',
  'responseTopic',
  'correlationData',
  'userProperties',
  'contentType',
])
export const connectProperties: ReadonlySet<string> = new Set([
  'sessionExpiryInterval',
  'receiveMaximum',
  'maximumPacketSize',
  'topicAliasMaximum',
  'requestResponseInformation',
  'requestProblemInformation',
  'userProperties',
  'authenticationMethod',
  'authenticationData',
])
export const willProperties: ReadonlySet<string> = new Set([
  'willDelayInterval',
  'payloadFormatIndicator',
  'messageExpiryInterval',
  'contentType',
  'responseTopic',
  'correlationData',
  'userProperties',
])
export const subscribeProperties: ReadonlySet<string> = new Set(['subscriptionIdentifier', 'userProperties'])
export const unsubscribeProperties: ReadonlySet<string> = new Set(['userProperties'])
export const ackProperties: ReadonlySet<string> = new Set(['reasonString', 'userProperties'])
export const disconnectProperties: ReadonlySet<string> = new Set([
  'sessionExpiryInterval',
  'reasonString',
  'userProperties',
  'serverReference',
])

/** Payload Format Indicator 1 promises UTF-8 [MQTT-3.3.2-4]; the server may check it (reason 0x99). */
export function checkPayloadFormat(indicator: boolean | undefined, payload: Buffer): void {
  if (indicator === true && !isUtf8(payload))
    throw new MqttError(Reason.payloadFormatInvalid, 'payload is not UTF-8 although Payload Format Indicator is 1')
}

export function checkPacketId(id: number | undefined): number {
  if (id === undefined || !Number.isInteger(id) || id < 1 || id > 0xffff)
    throw new MqttError(Reason.protocolError, 'packet identifier must be 1-65535')
  return id
}
