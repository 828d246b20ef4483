// The broker's protocol-neutral message model. Every protocol adapter maps its frames onto these shapes;
// everything the broker itself must know about a message (priority, expiry, delay, FIFO group, dedup id,
// dead-letter history) travels as reserved `wharf.*` record headers so that it is durable with the record.
import type { RecordHeader } from '../record/index.js'

export type { RecordHeader }

/** A message as a producer hands it to the broker. */
export interface PublishMessage {
  key?: Buffer | string | null
  value: Buffer | string | null
  headers?: RecordHeader[]
  /** Create time (ms); defaults to now. */
  timestamp?: number
  /** Queue semantics, stored as reserved headers: */
  priority?: number
  /** Message expires this long after publish (per-message TTL). */
  ttlMs?: number
  /** Not delivered to queue consumers before this long after publish. */
  delayMs?: number
  /** FIFO message group: at most one message of a group in flight per queue. */
  groupId?: string
  /** Deduplication id: a second publish with the same id within the stream's window is dropped. */
  dedupId?: string
}

/** A message as stored and delivered: a decoded record of a stream partition. */
export interface StoredMessage {
  stream: string
  partition: number
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  /** All record headers, reserved ones included. */
  headers: RecordHeader[]
}

/** Reserved header names; values are UTF-8 decimal text unless noted. */
export const Reserved = {
  priority: 'wharf.priority',
  expiresAt: 'wharf.expires-at',
  deliverAt: 'wharf.deliver-at',
  groupId: 'wharf.group',
  dedupId: 'wharf.dedup',
  /** JSON array of DeathRecord, newest first (RabbitMQ x-death semantics). */
  deaths: 'wharf.deaths',
  /** Routing key the message was published with (exchange publishes). */
  routingKey: 'wharf.routing-key',
  /** Exchange the message was published to. */
  exchange: 'wharf.exchange',
} as const

export const RESERVED_PREFIX = 'wharf.'

export type DeathReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit'

/** One dead-lettering event, as RabbitMQ's x-death entries record them. */
export interface DeathRecord {
  queue: string
  reason: DeathReason
  count: number
  /** ms since epoch of the first time this (queue, reason) happened. */
  time: number
  exchange?: string
  routingKeys?: string[]
}

export function headerValue(headers: readonly RecordHeader[], name: string): Buffer | null | undefined {
  for (const header of headers) if (header.key === name) return header.value
  return undefined
}

export function headerText(headers: readonly RecordHeader[], name: string): string | undefined {
  const value = headerValue(headers, name)
  return value == null ? undefined : value.toString('utf8')
}

export function headerNumber(headers: readonly RecordHeader[], name: string): number | undefined {
  const text = headerText(headers, name)
  if (text === undefined) return undefined
  const n = Number(text)
  return Number.isFinite(n) ? n : undefined
}

/** Headers without the reserved ones (what a foreign-protocol consumer usually wants to see). */
export function userHeaders(headers: readonly RecordHeader[]): RecordHeader[] {
  return headers.filter((h) => !h.key.startsWith(RESERVED_PREFIX))
}
