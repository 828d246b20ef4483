// queue.declare arguments → broker QueueConfig and basic.consume's x-priority, with RabbitMQ's validation texts. Numbers are compared by
// value (amqplib sends 10 as int8 today and int32 tomorrow), so equivalence checks use the derived config,
// not the argument letters.
import type { QueueConfig } from '../../broker/config.js'
import { AmqpTyped, type FieldTable, type FieldValue } from './codec/index.js'
import { amqpError } from './errors.js'

export type QueueType = 'classic' | 'quorum' | 'stream'

export interface DeclaredQueue {
  type: QueueType
  config: Partial<QueueConfig>
  /** Stream retention from x-max-age / x-max-length-bytes (stream queues; the latter is config.maxLengthBytes otherwise). */
  retentionMs?: number
  retentionBytes?: number
}

function asInteger(value: FieldValue): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value
  if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(value)
  return undefined
}

function asString(value: FieldValue): string | undefined {
  if (typeof value === 'string') return value
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  return undefined
}

function invalid(queue: string, arg: string, value: FieldValue): never {
  throw amqpError.precondition(`invalid arg '${arg}' for queue '${queue}' in vhost '/': ${describe(value)}`)
}

function describe(value: FieldValue): string {
  if (typeof value === 'bigint') return `{value_negative,${value}}`
  if (Buffer.isBuffer(value)) return `'${value.toString('utf8')}'`
  return JSON.stringify(value) ?? String(value)
}

/** RabbitMQ's name of a field's type (decoding keeps the value, not the letter: integral numbers pass as integers). */
function typeName(value: FieldValue): string {
  if (typeof value === 'string') return 'longstr'
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'number') return Number.isInteger(value) ? 'long' : 'double'
  if (typeof value === 'bigint') return 'long'
  if (value === null || value === undefined) return 'void'
  if (Buffer.isBuffer(value)) return 'binary'
  if (value instanceof Date) return 'timestamp'
  if (value instanceof AmqpTyped) return 'decimal' // the only typed value decoding produces
  if (Array.isArray(value)) return 'array'
  return 'table'
}

/**
 * basic.consume's x-priority (default 0, any integer, negative too). Anything else is refused as RabbitMQ
 * does (rabbit_amqqueue check_int_arg): 406 "invalid arg 'x-priority' for queue ...: {unacceptable_type,T}".
 */
export function consumerPriority(queue: string, args: FieldTable): number {
  const raw = args['x-priority']
  if (raw === undefined) return 0
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw
  if (typeof raw === 'bigint') return Number(raw) // beyond 2^53 only the order matters
  throw amqpError.precondition(
    `invalid arg 'x-priority' for queue '${queue}' in vhost '/': {unacceptable_type,${typeName(raw)}}`,
  )
}

const AGE_UNITS: Record<string, number> = {
  Y: 365 * 86_400_000,
  M: 30 * 86_400_000,
  D: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
}

/** x-max-age / x-stream-offset interval strings: "7D", "1h", "30s". */
export function parseInterval(text: string): number | undefined {
  const match = /^(\d+)([YMDhms])$/.exec(text)
  if (!match) return undefined
  return Number(match[1]) * AGE_UNITS[match[2]!]!
}

export function queueArguments(
  queue: string,
  flags: { durable: boolean; exclusive: boolean; autoDelete: boolean },
  args: FieldTable,
): DeclaredQueue {
  const config: Partial<QueueConfig> = { durable: flags.durable, autoDelete: flags.autoDelete }
  const declared: DeclaredQueue = { type: 'classic', config }
  const int = (name: string, min: number): number | undefined => {
    const raw = args[name]
    if (raw === undefined) return undefined
    const n = asInteger(raw)
    if (n === undefined || n < min) invalid(queue, name, raw)
    return n
  }
  const type = args['x-queue-type']
  if (type !== undefined) {
    const text = asString(type)
    if (text !== 'classic' && text !== 'quorum' && text !== 'stream') invalid(queue, 'x-queue-type', type)
    declared.type = text
  }
  if (declared.type !== 'classic') {
    for (const [flag, bad] of [
      ['exclusive', flags.exclusive],
      ['auto_delete', flags.autoDelete],
      ['durable', !flags.durable],
    ] as const) {
      if (bad) throw amqpError.precondition(`invalid property '${flag}' for queue '${queue}' in vhost '/'`)
    }
  }
  const ttl = int('x-message-ttl', 0)
  if (ttl !== undefined) config.messageTtlMs = ttl
  const expires = int('x-expires', 1)
  if (expires !== undefined) config.expiresMs = expires
  const maxLength = int('x-max-length', 0)
  if (maxLength !== undefined) config.maxLength = maxLength
  const overflowRaw = args['x-overflow']
  if (overflowRaw !== undefined) {
    const overflow = asString(overflowRaw)
    if (overflow !== 'drop-head' && overflow !== 'reject-publish' && overflow !== 'reject-publish-dlx')
      invalid(queue, 'x-overflow', overflowRaw)
    config.overflow = overflow
  }
  const dlxRaw = args['x-dead-letter-exchange']
  if (dlxRaw !== undefined) {
    const exchange = asString(dlxRaw)
    if (exchange === undefined) invalid(queue, 'x-dead-letter-exchange', dlxRaw)
    const keyRaw = args['x-dead-letter-routing-key']
    const routingKey = keyRaw === undefined ? null : asString(keyRaw)
    if (routingKey === undefined) invalid(queue, 'x-dead-letter-routing-key', keyRaw ?? null)
    config.deadLetter = { exchange, routingKey }
  } else if (args['x-dead-letter-routing-key'] !== undefined) {
    throw amqpError.precondition(
      `invalid arg 'x-dead-letter-routing-key' for queue '${queue}' in vhost '/': {missing_dead_letter_exchange}`,
    )
  }
  const maxPriority = int('x-max-priority', 0)
  if (maxPriority !== undefined) {
    if (maxPriority > 255) invalid(queue, 'x-max-priority', args['x-max-priority'])
    config.maxPriority = maxPriority
  }
  const sac = args['x-single-active-consumer']
  if (sac !== undefined) {
    if (typeof sac !== 'boolean') invalid(queue, 'x-single-active-consumer', sac)
    config.singleActiveConsumer = sac
  }
  const limitRaw = args['x-delivery-limit']
  if (limitRaw !== undefined) {
    const limit = asInteger(limitRaw)
    if (limit === undefined) invalid(queue, 'x-delivery-limit', limitRaw)
    // -1 = unlimited; RabbitMQ counts redeliveries, the broker counts deliveries.
    config.maxDeliveries = limit < 0 ? null : limit + 1
  }
  const maxAge = args['x-max-age']
  if (maxAge !== undefined) {
    const ms = asString(maxAge) === undefined ? undefined : parseInterval(asString(maxAge)!)
    if (ms === undefined) invalid(queue, 'x-max-age', maxAge)
    declared.retentionMs = ms
  }
  // Streams: retention. Classic/quorum queues: a limit on the body bytes they hold (x-overflow applies).
  const maxBytes = int('x-max-length-bytes', 0)
  if (maxBytes !== undefined) {
    declared.retentionBytes = maxBytes
    if (declared.type !== 'stream') config.maxLengthBytes = maxBytes
  }
  return declared
}

/** Fields whose difference makes a redeclare inequivalent, with the argument name RabbitMQ reports. */
const EQUIVALENCE: Array<[keyof QueueConfig, string]> = [
  ['durable', 'durable'],
  ['autoDelete', 'auto_delete'],
  ['messageTtlMs', 'x-message-ttl'],
  ['expiresMs', 'x-expires'],
  ['maxLength', 'x-max-length'],
  ['maxLengthBytes', 'x-max-length-bytes'],
  ['overflow', 'x-overflow'],
  ['deadLetter', 'x-dead-letter-exchange'],
  ['maxPriority', 'x-max-priority'],
  ['singleActiveConsumer', 'x-single-active-consumer'],
  ['maxDeliveries', 'x-delivery-limit'],
]

const DEFAULTS: Partial<QueueConfig> = {
  durable: true,
  autoDelete: false,
  messageTtlMs: null,
  expiresMs: null,
  maxLength: null,
  maxLengthBytes: null,
  overflow: 'drop-head',
  deadLetter: null,
  maxPriority: 0,
  singleActiveConsumer: false,
  maxDeliveries: null,
}

/** Throws 406 when a redeclare differs from the existing queue's settings. */
export function assertEquivalent(queue: string, existing: QueueConfig, wanted: Partial<QueueConfig>): void {
  for (const [field, arg] of EQUIVALENCE) {
    const want = field in wanted ? wanted[field] : DEFAULTS[field]
    const have = existing[field]
    if (JSON.stringify(normalize(want)) !== JSON.stringify(normalize(have))) {
      throw amqpError.precondition(
        `inequivalent arg '${arg}' for queue '${queue}' in vhost '/': received '${show(want)}' but current is '${show(have)}'`,
      )
    }
  }
}

function normalize(value: unknown): unknown {
  if (value && typeof value === 'object' && 'exchange' in value) {
    const dl = value as { exchange: string; routingKey?: string | null }
    return { exchange: dl.exchange, routingKey: dl.routingKey ?? null }
  }
  return value ?? null
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'none'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}
