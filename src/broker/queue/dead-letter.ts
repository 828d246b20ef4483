// Dead-lettering as RabbitMQ does it: the dead copy keeps key, value and headers, drops the expiry and delay
// that killed or held it, and records (queue, reason, count, first time, exchange, routing keys) in a death
// history (`wharf.deaths`, newest first), which the AMQP adapter turns into x-death.
import {
  type DeathReason,
  type DeathRecord,
  headerText,
  type PublishMessage,
  Reserved,
  type StoredMessage,
} from '../message.js'

export function parseDeaths(message: Pick<StoredMessage, 'headers'>): DeathRecord[] {
  const text = headerText(message.headers, Reserved.deaths)
  if (text === undefined) return []
  try {
    const parsed = JSON.parse(text)
    return Array.isArray(parsed) ? parsed : []
  } catch {
    return []
  }
}

/** The message to publish to the dead-letter target, with its death history updated. */
export function deadLetterMessage(
  queueName: string,
  message: StoredMessage,
  reason: DeathReason,
  now: number,
): PublishMessage {
  const deaths = parseDeaths(message)
  const existing = deaths.find((d) => d.queue === queueName && d.reason === reason)
  if (existing) existing.count++
  else {
    deaths.unshift({
      queue: queueName,
      reason,
      count: 1,
      time: now,
      exchange: headerText(message.headers, Reserved.exchange) ?? '',
      routingKeys: [headerText(message.headers, Reserved.routingKey) ?? queueName],
    })
  }
  const headers = message.headers.filter(
    (h) => h.key !== Reserved.deaths && h.key !== Reserved.expiresAt && h.key !== Reserved.deliverAt,
  )
  headers.push({ key: Reserved.deaths, value: Buffer.from(JSON.stringify(deaths)) })
  return { key: message.key, value: message.value, headers, timestamp: message.timestamp }
}
