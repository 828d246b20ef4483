// SQS queue attributes: names, defaults, validation (AWS ranges), and the mapping onto broker queue
// config. SQS-only attributes (retention, max size, wait time, tags, policies, timestamps) live in the
// catalog, kind 'sqs-queue'; the broker queue config carries what the broker enforces.
import type { QueueConfig } from '../../../broker/config.js'
import { SqsError } from './errors.js'

export const ACCOUNT_ID = '000000000000'
export const REGION = 'us-east-1'

export function queueArn(name: string): string {
  return `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${name}`
}

/** Queue name from an SQS ARN (any region/account: a single-tenant broker ignores them). */
export function nameFromArn(arn: string): string | undefined {
  const parts = arn.split(':')
  return parts.length === 6 && parts[0] === 'arn' && parts[2] === 'sqs' && parts[5] !== '' ? parts[5] : undefined
}

export interface SqsQueueRecord {
  /** Every settable attribute, defaults included, as the strings SQS returns. */
  attributes: Record<string, string>
  tags: Record<string, string>
  /** ms since epoch; also the queue's incarnation in receipt handles. */
  created: number
  modified: number
}

export const KIND_SQS_QUEUE = 'sqs-queue'

const defaults: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
}

const fifoDefaults: Record<string, string> = {
  FifoQueue: 'true',
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
}

const ranges: Record<string, [number, number]> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, 1048576],
  MessageRetentionPeriod: [60, 1209600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43200],
  KmsDataKeyReusePeriodSeconds: [60, 86400],
}

const settable = new Set([
  ...Object.keys(ranges),
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'SqsManagedSseEnabled',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
])

export const computedAttributes = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
] as const

/** Every name GetQueueAttributes knows: the settable ones, FifoQueue (fixed at creation) and the computed. */
export function isAttributeName(name: string): boolean {
  return settable.has(name) || name === 'FifoQueue' || (computedAttributes as readonly string[]).includes(name)
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/

export function validateQueueName(name: unknown): string {
  if (typeof name !== 'string')
    throw new SqsError('MissingParameter', 'The request must contain the parameter QueueName.')
  const base = name.endsWith('.fifo') ? name.slice(0, -5) : name
  if (!QUEUE_NAME.test(base) || name.length > 80) {
    throw new SqsError(
      'InvalidParameterValue',
      'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
    )
  }
  return name
}

function invalid(name: string, value: string, why = ''): SqsError {
  return new SqsError(
    'InvalidAttributeValue',
    `Invalid value for the parameter ${name}.${why ? ` Reason: ${why}` : ''} (${value.slice(0, 100)})`,
  )
}

export interface RedrivePolicy {
  deadLetterQueue: string
  maxReceiveCount: number
}

export function parseRedrivePolicy(text: string): RedrivePolicy {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw invalid('RedrivePolicy', text, 'Redrive policy is not a valid JSON map.')
  }
  const policy = parsed as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown }
  const count = Number(policy?.maxReceiveCount)
  const dlq = typeof policy?.deadLetterTargetArn === 'string' ? nameFromArn(policy.deadLetterTargetArn) : undefined
  if (dlq === undefined) throw invalid('RedrivePolicy', text, 'Invalid value for deadLetterTargetArn.')
  if (!Number.isInteger(count) || count < 1 || count > 1000)
    throw invalid('RedrivePolicy', text, 'Invalid value for maxReceiveCount.')
  return { deadLetterQueue: dlq, maxReceiveCount: count }
}

/**
 * Validates attributes given to CreateQueue/SetQueueAttributes; returns them normalised (booleans
 * lower case, numbers canonical). `creating` allows FifoQueue; `fifo` enables the FIFO-only ones.
 */
export function validateAttributes(
  input: Record<string, string>,
  options: { creating: boolean; fifo: boolean },
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, raw] of Object.entries(input)) {
    if (typeof raw !== 'string') throw invalid(name, String(raw))
    const value = raw
    if (name === 'FifoQueue') {
      if (!options.creating) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`)
      if (value.toLowerCase() !== String(options.fifo))
        throw invalid(
          name,
          value,
          options.fifo
            ? 'FIFO queue names must end with .fifo'
            : 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix',
        )
      out.FifoQueue = 'true'
      continue
    }
    if (!settable.has(name)) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`)
    const range = ranges[name]
    if (range !== undefined) {
      const n = Number(value)
      if (value.trim() === '' || !Number.isInteger(n) || n < range[0] || n > range[1]) throw invalid(name, value)
      out[name] = String(n)
      continue
    }
    if (name === 'ContentBasedDeduplication' || name === 'DeduplicationScope' || name === 'FifoThroughputLimit') {
      if (!options.fifo) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`)
    }
    if (name === 'ContentBasedDeduplication' || name === 'SqsManagedSseEnabled') {
      const lower = value.toLowerCase()
      if (lower !== 'true' && lower !== 'false') throw invalid(name, value)
      out[name] = lower
      continue
    }
    if (name === 'DeduplicationScope' && value !== 'queue' && value !== 'messageGroup') throw invalid(name, value)
    if (name === 'FifoThroughputLimit' && value !== 'perQueue' && value !== 'perMessageGroupId')
      throw invalid(name, value)
    if (name === 'RedrivePolicy' && value !== '') parseRedrivePolicy(value)
    if ((name === 'Policy' || name === 'RedriveAllowPolicy') && value !== '') {
      try {
        JSON.parse(value)
      } catch {
        throw invalid(name, value)
      }
    }
    out[name] = value
  }
  return out
}

export function withDefaults(attributes: Record<string, string>, fifo: boolean): Record<string, string> {
  return { ...defaults, ...(fifo ? fifoDefaults : {}), ...attributes }
}

/** The broker queue settings SQS attributes imply. */
export function brokerConfig(
  attributes: Record<string, string>,
): Pick<QueueConfig, 'leaseMs' | 'deliveryDelayMs' | 'messageTtlMs' | 'maxDeliveries' | 'deadLetter'> {
  const redrive = attributes.RedrivePolicy ? parseRedrivePolicy(attributes.RedrivePolicy) : undefined
  return {
    leaseMs: Number(attributes.VisibilityTimeout ?? defaults.VisibilityTimeout) * 1000,
    deliveryDelayMs: Number(attributes.DelaySeconds ?? 0) * 1000,
    messageTtlMs: Number(attributes.MessageRetentionPeriod ?? defaults.MessageRetentionPeriod) * 1000,
    maxDeliveries: redrive?.maxReceiveCount ?? null,
    deadLetter: redrive ? { queue: redrive.deadLetterQueue } : null,
  }
}
