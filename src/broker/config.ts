// Broker options, and stream and queue configuration: defaults, validation (typed INVALID_CONFIG errors)
// and mapping to storage.

import type { Durability, LogConfig, StorageEngine } from '../storage/api.js'
import { WharfError } from '../util/errors.js'
import type { JmsOptions } from './jms/options.js'
import type { ProducerTransactionOptions } from './producer-transactions/options.js'
import type { QuotaWindow } from './quotas/types.js'
import { DELIVERY_DELAY_MAX_MS, type ScheduleLimits } from './schedule/limits.js'
import type { SchemaLimits } from './schema/limits.js'
import type { ConfiguredUser } from './security/security.js'
import type { TransactionLimits } from './transactions/limits.js'

export type { SchemaLimits }
export { DELIVERY_DELAY_MAX_MS }

export interface BrokerOptions {
  storage: StorageEngine
  /** Producer transactions (Kafka transactional ids): timeout cap and bounds (producer-transactions/). */
  producerTransactions?: ProducerTransactionOptions
  /** Kafka group.initial.rebalance.delay.ms (default 3000). */
  initialRebalanceDelayMs?: number
  /** Durability of streams created without one. */
  defaultDurability?: Durability
  /** Period of the shared maintenance tick (lease expiry, delays, TTL), ms. */
  tickMs?: number
  now?: () => number
  warn?: (message: string, details?: Record<string, unknown>) => void
  /** Topology changes and consumer-group rebalances, for the operator's log (never called per message). */
  info?: (message: string, details?: Record<string, unknown>) => void
  /** Users and ACL rules applied at open (security/security.ts bootstrap). */
  security?: SecurityBootstrap
  /** Most '#' wildcards in one AMQP topic binding key (routing/exchange.ts). */
  topicWildcardsMax?: number | undefined
  /** Bounds on registered schemas (schema/limits.ts). */
  schemaLimits?: Partial<SchemaLimits> | undefined
  /** JMS destination settings: virtual topic prefixes, temporaries per connection (jms/options.ts). */
  jms?: JmsOptions | undefined
  /** Bounds of the scheduler (schedule/scheduler.ts): jobs, their bytes, the longest delay, the cron zone. */
  scheduleLimits?: Partial<ScheduleLimits> | undefined
  /** Bounds on transactions (transactions/transaction.ts). */
  transactionLimits?: Partial<TransactionLimits> | undefined
  /** How client quota rates are measured (Kafka quota.window.num, quota.window.size.seconds; quotas/). */
  quotaWindow?: Partial<QuotaWindow> | undefined
}

export interface SecurityBootstrap {
  users?: readonly ConfiguredUser[]
  acls?: ReadonlyArray<Record<string, unknown>>
}

export interface StreamConfig {
  partitions: number
  /** -1 keeps forever. */
  retentionMs: number
  /** Per partition; -1 is unlimited. */
  retentionBytes: number
  /** Delete segments once every queue subscription has acked past them. */
  workQueue: boolean
  durability: Durability
  compact: boolean
  maxMessageBytes: number
  segmentBytes: number
  /** Schema registry subject that validates record values. */
  schemaSubject: string | null
  /** Message-id dedup window (ms); 0 disables. */
  dedupWindowMs: number
  /** Transient streams are deleted when the broker restarts (non-durable AMQP queues). */
  transient: boolean
}

export const defaultStreamConfig: StreamConfig = {
  partitions: 1,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  workQueue: false,
  durability: 'always',
  compact: false,
  maxMessageBytes: 1024 * 1024,
  segmentBytes: 64 * 1024 * 1024,
  schemaSubject: null,
  dedupWindowMs: 0,
  transient: false,
}

/**
 * The largest message a queue's own stream takes unless altered: queues are where AMQP, STOMP and JMS clients
 * send whole documents (RabbitMQ takes 128 MiB, Artemis any size), while Kafka topics keep Kafka's 1 MiB.
 */
export const QUEUE_MESSAGE_BYTES_DEFAULT = 16 * 1024 * 1024

export const PARTITIONS_MAX = 4096
export const PRIORITY_LEVELS_MAX = 10

/**
 * What a full queue does: drop-head drops its oldest messages (RabbitMQ's default); drop-new drops the message
 * arriving (Mosquitto's max_queued_messages) without telling the publisher, whose publish still reaches every
 * other destination; reject-publish refuses the publish (QUEUE_FULL), reject-publish-dlx dead-letters it too.
 */
export type Overflow = 'drop-head' | 'drop-new' | 'reject-publish' | 'reject-publish-dlx'

/**
 * Where dead messages go: an exchange, or a queue (`create`: declared with the defaults on the first dead
 * message when missing, as ActiveMQ creates its DLQs).
 */
export type DeadLetterTarget = { exchange: string; routingKey?: string | null } | { queue: string; create?: boolean }

/** JMS message groups pinned per queue by default (ActiveMQ's CachedMessageGroupMap holds 1024). */
export const MESSAGE_GROUPS_MAX_DEFAULT = 1024

export interface QueueConfig {
  /** Stream the queue reads; defaults to a stream of the queue's own name. */
  stream: string
  durable: boolean
  /** Default lease per delivery (visibility timeout); null = held until acked or the owner goes away. */
  leaseMs: number | null
  /** Deliveries after which a message is dead-lettered (or dropped); null = unlimited. */
  maxDeliveries: number | null
  deadLetter: DeadLetterTarget | null
  messageTtlMs: number | null
  maxLength: number | null
  /** Limit on the body bytes of the messages maxLength counts (RabbitMQ x-max-length-bytes); null = none. */
  maxLengthBytes: number | null
  /** What a full queue does (maxLength or maxLengthBytes, whichever is hit first). */
  overflow: Overflow
  /** 0 = no priorities; else priorities 0..maxPriority map onto min(maxPriority + 1, 10) partitions. */
  maxPriority: number
  /** SQS FIFO: at most one in-flight message per message group. */
  fifo: boolean
  singleActiveConsumer: boolean
  /** Owner id (connection) of an exclusive queue; deleted when the owner goes away. */
  exclusiveOwner: string | null
  /** Deleted when its last consumer goes away (after it had one). */
  autoDelete: boolean
  /** Deleted after being unused (no consumers, no gets) for this long. */
  expiresMs: number | null
  /** Default delivery delay for new messages (SQS DelaySeconds). */
  deliveryDelayMs: number
  /**
   * JMS message groups (JMSXGroupID, queue/groups.ts): at most this many groups pinned to consumers (least
   * recently used idle ones are forgotten beyond); 0 turns groups off. Not on fifo queues (SQS groups).
   */
  messageGroupsMax: number
  /**
   * Redelivery delay: a returned message (nack with requeue, lease expiry, owner gone) is not delivered
   * again before redeliveryDelayMs × redeliveryBackoff^(deliveries − 1), at most redeliveryDelayMaxMs.
   * 0 = at once.
   */
  redeliveryDelayMs: number
  redeliveryBackoff: number
  redeliveryDelayMaxMs: number
}

export const defaultQueueConfig: Omit<QueueConfig, 'stream'> = {
  durable: true,
  leaseMs: null,
  maxDeliveries: null,
  deadLetter: null,
  messageTtlMs: null,
  maxLength: null,
  maxLengthBytes: null,
  overflow: 'drop-head',
  maxPriority: 0,
  fifo: false,
  singleActiveConsumer: false,
  exclusiveOwner: null,
  autoDelete: false,
  expiresMs: null,
  deliveryDelayMs: 0,
  messageGroupsMax: MESSAGE_GROUPS_MAX_DEFAULT,
  redeliveryDelayMs: 0,
  redeliveryBackoff: 1,
  redeliveryDelayMaxMs: 3600 * 1000,
}

function fail(message: string): never {
  throw new WharfError('INVALID_CONFIG', message)
}

function intIn(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`)
  }
  return value
}

function checkKeys(config: object, allowed: object, what: string): void {
  for (const key of Object.keys(config)) if (!(key in allowed)) fail(`unknown ${what} setting '${key}'`)
}

export function validateStreamConfig(
  partial: Partial<StreamConfig>,
  base: StreamConfig = defaultStreamConfig,
): StreamConfig {
  checkKeys(partial, defaultStreamConfig, 'stream')
  const config = { ...base, ...stripUndefined(partial) }
  intIn(config.partitions, 'partitions', 1, PARTITIONS_MAX)
  intIn(config.retentionMs, 'retentionMs', -1, Number.MAX_SAFE_INTEGER)
  intIn(config.retentionBytes, 'retentionBytes', -1, Number.MAX_SAFE_INTEGER)
  intIn(config.maxMessageBytes, 'maxMessageBytes', 1, 64 * 1024 * 1024)
  intIn(config.segmentBytes, 'segmentBytes', 1024, 1024 * 1024 * 1024)
  intIn(config.dedupWindowMs, 'dedupWindowMs', 0, 24 * 3600 * 1000)
  if (!['always', 'interval', 'never'].includes(config.durability)) fail('durability must be always, interval or never')
  for (const key of ['workQueue', 'compact', 'transient'] as const) {
    if (typeof config[key] !== 'boolean') fail(`${key} must be a boolean`)
  }
  if (config.schemaSubject !== null && (typeof config.schemaSubject !== 'string' || config.schemaSubject === '')) {
    fail('schemaSubject must be a non-empty string or null')
  }
  return config
}

export function validateQueueConfig(name: string, partial: Partial<QueueConfig>): QueueConfig {
  checkKeys(partial, { ...defaultQueueConfig, stream: '' }, 'queue')
  const config: QueueConfig = { ...defaultQueueConfig, stream: name, ...stripUndefined(partial) }
  type OptionalInt = 'leaseMs' | 'maxDeliveries' | 'messageTtlMs' | 'maxLength' | 'maxLengthBytes' | 'expiresMs'
  const optionalInt = (key: OptionalInt, min: number) => {
    if (config[key] !== null) intIn(config[key], key, min, Number.MAX_SAFE_INTEGER)
  }
  optionalInt('leaseMs', 0)
  optionalInt('maxDeliveries', 1)
  optionalInt('messageTtlMs', 0)
  optionalInt('maxLength', 0)
  optionalInt('maxLengthBytes', 0)
  optionalInt('expiresMs', 1)
  intIn(config.maxPriority, 'maxPriority', 0, 255)
  intIn(config.deliveryDelayMs, 'deliveryDelayMs', 0, DELIVERY_DELAY_MAX_MS)
  intIn(config.messageGroupsMax, 'messageGroupsMax', 0, 1_000_000)
  intIn(config.redeliveryDelayMs, 'redeliveryDelayMs', 0, DELIVERY_DELAY_MAX_MS)
  intIn(config.redeliveryDelayMaxMs, 'redeliveryDelayMaxMs', 0, DELIVERY_DELAY_MAX_MS)
  const backoff = config.redeliveryBackoff
  if (typeof backoff !== 'number' || !Number.isFinite(backoff) || backoff < 1 || backoff > 100)
    fail(`redeliveryBackoff must be a number in [1, 100], got ${JSON.stringify(backoff)}`)
  if (!['drop-head', 'drop-new', 'reject-publish', 'reject-publish-dlx'].includes(config.overflow)) {
    fail('overflow must be drop-head, drop-new, reject-publish or reject-publish-dlx')
  }
  for (const key of ['durable', 'fifo', 'singleActiveConsumer', 'autoDelete'] as const) {
    if (typeof config[key] !== 'boolean') fail(`${key} must be a boolean`)
  }
  if (typeof config.stream !== 'string' || config.stream === '') fail('stream must be a non-empty string')
  const dl = config.deadLetter
  if (dl !== null && (typeof dl !== 'object' || (!('exchange' in dl) && !('queue' in dl)))) {
    fail('deadLetter must be { exchange, routingKey? } or { queue, create? }')
  }
  if (dl !== null && 'queue' in dl && dl.create !== undefined && typeof dl.create !== 'boolean')
    fail('deadLetter.create must be a boolean')
  return config
}

/** Number of priority partitions a queue's stream needs. */
export function priorityLevels(maxPriority: number): number {
  return maxPriority === 0 ? 1 : Math.min(maxPriority + 1, PRIORITY_LEVELS_MAX)
}

/** Priority partition of a message: higher partition = higher priority. */
export function priorityPartition(priority: number | undefined, maxPriority: number): number {
  const levels = priorityLevels(maxPriority)
  if (levels === 1 || priority === undefined || priority <= 0) return 0
  const clamped = Math.min(priority, maxPriority)
  return Math.min(levels - 1, Math.floor((clamped * (levels - 1)) / maxPriority))
}

export function toLogConfig(config: StreamConfig): Partial<LogConfig> {
  return {
    durability: config.durability,
    retentionMs: config.workQueue ? -1 : config.retentionMs,
    retentionBytes: config.retentionBytes,
    compact: config.compact,
    segmentBytes: config.segmentBytes,
    // A batch carries at least one message plus its overhead; larger producer batches are allowed.
    maxBatchBytes: Math.max(config.maxMessageBytes + 1024, 8 * 1024 * 1024),
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}
