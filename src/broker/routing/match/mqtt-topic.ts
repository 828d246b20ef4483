// MQTT topic name and filter rules (MQTT 3.1.1 §4.7, MQTT 5.0 §4.7–4.8), shared subscriptions and
// the RabbitMQ MQTT plugin's mapping between MQTT topics and AMQP routing keys. Pure string checks
// by char code; each validator returns a reason for the protocol adapter's error, or null.
import { WharfError } from '../../../util/errors.js'

/** Topic names and filters are UTF-8 strings with a 16-bit length prefix [MQTT-1.5.3]. */
export const topicBytesMax = 65535

const slash = 47
const plus = 43
const hash = 35
const dollar = 36

/**
 * Scans for U+0000, unpaired surrogates (not encodable as UTF-8 [MQTT-1.5.4-1]) and the UTF-8
 * length; returns a reason or null.
 */
function checkEncoding(text: string, what: string): string | null {
  if (text.length === 0) return `${what} must not be empty` // [MQTT-4.7.3-1]
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 0) return `${what} must not contain U+0000` // [MQTT-4.7.3-2]
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff) {
      const low = text.charCodeAt(i + 1)
      if (!(low >= 0xdc00 && low <= 0xdfff)) return `${what} contains an unpaired surrogate`
      bytes += 4
      i++
    } else if (code >= 0xdc00 && code <= 0xdfff) return `${what} contains an unpaired surrogate`
    else bytes += 3
  }
  if (bytes > topicBytesMax) return `${what} is longer than ${topicBytesMax} bytes`
  return null
}

/** Reason why name is not a valid PUBLISH topic name, or null. */
export function validateTopicName(name: string): string | null {
  const reason = checkEncoding(name, 'topic name')
  if (reason !== null) return reason
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i)
    if (code === plus || code === hash) return 'topic name must not contain wildcards' // [MQTT-3.3.2-2]
  }
  return null
}

/** Reason why filter is not a valid SUBSCRIBE topic filter, or null. */
export function validateTopicFilter(filter: string): string | null {
  const reason = checkEncoding(filter, 'topic filter')
  if (reason !== null) return reason
  for (let i = 0; i < filter.length; i++) {
    const code = filter.charCodeAt(i)
    const alone =
      (i === 0 || filter.charCodeAt(i - 1) === slash) && (i === filter.length - 1 || filter.charCodeAt(i + 1) === slash)
    if (code === hash) {
      // '#' must occupy a whole level and be the last character [MQTT-4.7.1-2].
      if (!alone || i !== filter.length - 1) return "'#' must be the last level and alone in it"
    } else if (code === plus && !alone) return "'+' must occupy a whole level" // [MQTT-4.7.1-3]
  }
  return null
}

/** True when a topic name starts with '$' and so is hidden from wildcard-first filters [MQTT-4.7.2-1]. */
export function isDollarTopic(topic: string): boolean {
  return topic.charCodeAt(0) === dollar
}

const sharePrefix = '$share/'

/**
 * Splits a shared subscription filter `$share/<group>/<filter>` [MQTT-4.8.2]. Returns null when
 * filter is not a shared subscription at all; throws WharfError('INVALID_ARGUMENT') when it starts
 * with `$share/` but is malformed (empty group, '+', '#' in the group, missing or invalid filter),
 * which MQTT 5 answers with reason 0x8F (Topic Filter invalid) and MQTT 3.1.1 with a SUBACK failure.
 */
export function parseSharedSubscription(filter: string): { group: string; filter: string } | null {
  if (!filter.startsWith(sharePrefix)) return null
  const groupEnd = filter.indexOf('/', sharePrefix.length)
  if (groupEnd === -1) throw new WharfError('INVALID_ARGUMENT', 'shared subscription has no topic filter')
  const group = filter.slice(sharePrefix.length, groupEnd)
  if (group.length === 0) throw new WharfError('INVALID_ARGUMENT', 'shared subscription group must not be empty')
  for (let i = 0; i < group.length; i++) {
    const code = group.charCodeAt(i)
    if (code === plus || code === hash) {
      throw new WharfError('INVALID_ARGUMENT', "shared subscription group must not contain '+' or '#'") // [MQTT-4.8.2-2]
    }
  }
  const inner = filter.slice(groupEnd + 1)
  const reason = validateTopicFilter(inner)
  if (reason !== null) throw new WharfError('INVALID_ARGUMENT', `shared subscription: ${reason}`)
  return { group, filter: inner }
}

// RabbitMQ's MQTT plugin (rabbit_mqtt_util to_amqp/to_mqtt) maps '/' ↔ '.', '+' ↔ '*', '#' ↔ '#'.
// The mapping is lossy by design: a '.' inside an MQTT level becomes a level separator on the AMQP
// side, and '*' in an AMQP routing key becomes '+', exactly as RabbitMQ does it.

export function mqttTopicToAmqpRoutingKey(topic: string): string {
  return topic.replaceAll('/', '.')
}

export function amqpRoutingKeyToMqttTopic(routingKey: string): string {
  return routingKey.replaceAll('*', '+').replaceAll('.', '/')
}

export function mqttFilterToAmqpPattern(filter: string): string {
  return filter.replaceAll('/', '.').replaceAll('+', '*')
}

export function amqpPatternToMqttFilter(pattern: string): string {
  return pattern.replaceAll('*', '+').replaceAll('.', '/')
}
