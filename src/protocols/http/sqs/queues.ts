// Queue lifecycle actions: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, Get/SetQueueAttributes,
// Tag/Untag/ListQueueTags, PurgeQueue, and the permission no-ops. An SQS queue is a broker queue plus a
// catalog record (kind 'sqs-queue') with the SQS-only attributes.
import {
  brokerConfig,
  isAttributeName,
  parseRedrivePolicy,
  queueArn,
  type SqsQueueRecord,
  validateAttributes,
  validateQueueName,
  withDefaults,
} from './attributes.js'
import { SqsError } from './errors.js'
import { page, stringList, stringMap } from './params.js'
import {
  type Input,
  type Output,
  queueNameOf,
  queueUrl,
  type RequestContext,
  recordOf,
  type SqsState,
  sqsQueueNames,
} from './state.js'

/** FIFO dedup window, as AWS: a repeated MessageDeduplicationId within 5 minutes is accepted, not delivered. */
const DEDUP_WINDOW_MS = 5 * 60 * 1000

export async function createQueue(s: SqsState, input: Input, context: RequestContext): Promise<Output> {
  const name = validateQueueName(input.QueueName)
  const fifo = name.endsWith('.fifo')
  const requested = stringMap(input.Attributes, 'Attributes')
  if (fifo && requested.FifoQueue === undefined)
    throw new SqsError('InvalidParameterValue', 'The FifoQueue attribute must be true for a queue name ending in .fifo')
  const attributes = validateAttributes(requested, { creating: true, fifo })
  const existing = s.records.get(name)
  if (existing !== undefined && s.broker.getQueue(name) !== undefined) {
    for (const [key, value] of Object.entries(attributes)) {
      if (existing.attributes[key] !== value)
        throw new SqsError(
          'QueueNameExists',
          `A queue already exists with the same name and a different value for attribute ${key}`,
        )
    }
    return { QueueUrl: queueUrl(context.origin, name) }
  }
  if (s.broker.getQueue(name) !== undefined)
    throw new SqsError('QueueNameExists', `A non-SQS queue named ${name} already exists`)
  const full = withDefaults(attributes, fifo)
  await checkRedrive(s, name, full, fifo)
  const now = Date.now()
  const record: SqsQueueRecord = {
    attributes: full,
    tags: stringMap(input.tags ?? input.Tags, 'tags'),
    created: now,
    modified: now,
  }
  await s.broker.createQueue(name, { ...brokerConfig(full), fifo, durable: true })
  if (fifo) await s.broker.alterStream(name, { dedupWindowMs: DEDUP_WINDOW_MS })
  await s.records.put(name, record)
  return { QueueUrl: queueUrl(context.origin, name) }
}

/** A RedrivePolicy must name another existing SQS queue of the same type (FIFO or standard). */
async function checkRedrive(
  s: SqsState,
  name: string,
  attributes: Record<string, string>,
  fifo: boolean,
): Promise<void> {
  if (!attributes.RedrivePolicy) return
  const { deadLetterQueue } = parseRedrivePolicy(attributes.RedrivePolicy)
  if (deadLetterQueue === name)
    throw new SqsError(
      'InvalidParameterValue',
      'Value for parameter RedrivePolicy is invalid. Reason: a queue cannot be its own dead-letter queue.',
    )
  recordOf(s, deadLetterQueue)
  if (deadLetterQueue.endsWith('.fifo') !== fifo) {
    throw new SqsError(
      'InvalidParameterValue',
      'Value for parameter RedrivePolicy is invalid. Reason: Dead-letter target owner must be the same type as the source queue.',
    )
  }
}

export function getQueueUrl(s: SqsState, input: Input, context: RequestContext): Output {
  const name = input.QueueName
  if (typeof name !== 'string')
    throw new SqsError('MissingParameter', 'The request must contain the parameter QueueName.')
  recordOf(s, name)
  return { QueueUrl: queueUrl(context.origin, name) }
}

export function listQueues(s: SqsState, input: Input, context: RequestContext): Output {
  const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : ''
  const names = sqsQueueNames(s).filter((n) => n.startsWith(prefix) && context.access.allows('Describe', 'Topic', n))
  return page(names, input, (n) => queueUrl(context.origin, n), 'QueueUrls')
}

export async function deleteQueue(s: SqsState, input: Input): Promise<Output> {
  const name = queueNameOf(s, input)
  await s.broker.deleteQueue(name)
  await s.broker.topics.unsubscribeDestination({ kind: 'queue', name })
  await s.records.delete(name)
  return {}
}

export async function getQueueAttributes(s: SqsState, input: Input): Promise<Output> {
  const name = queueNameOf(s, input)
  const record = recordOf(s, name)
  const requested = stringList(input.AttributeNames, 'AttributeNames')
  const all = requested.includes('All')
  const stats = await s.broker.queue(name).currentStats()
  const computed: Record<string, string> = {
    ApproximateNumberOfMessages: String(stats.ready),
    ApproximateNumberOfMessagesNotVisible: String(stats.inflight),
    ApproximateNumberOfMessagesDelayed: String(stats.delayed),
    CreatedTimestamp: String(Math.floor(record.created / 1000)),
    LastModifiedTimestamp: String(Math.floor(record.modified / 1000)),
    QueueArn: queueArn(name),
  }
  const everything = { ...record.attributes, ...computed }
  const out: Record<string, string> = {}
  for (const key of all ? Object.keys(everything) : requested) {
    const value = everything[key]
    if (value === undefined) {
      if (!isAttributeName(key)) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${key}.`)
      continue
    }
    out[key] = value
  }
  return Object.keys(out).length === 0 ? {} : { Attributes: out }
}

export async function setQueueAttributes(s: SqsState, input: Input): Promise<Output> {
  const name = queueNameOf(s, input)
  const record = recordOf(s, name)
  const fifo = name.endsWith('.fifo')
  const changes = validateAttributes(stringMap(input.Attributes, 'Attributes'), { creating: false, fifo })
  const next = { ...record.attributes, ...changes }
  if (next.RedrivePolicy === '') delete next.RedrivePolicy
  await checkRedrive(s, name, next, fifo)
  await s.broker.alterQueue(name, brokerConfig(next))
  await s.records.put(name, { ...record, attributes: next, modified: Date.now() })
  return {}
}

export async function tagQueue(s: SqsState, input: Input): Promise<Output> {
  const name = queueNameOf(s, input)
  const record = recordOf(s, name)
  const tags = { ...record.tags, ...stringMap(input.Tags, 'Tags') }
  if (Object.keys(tags).length > 50)
    throw new SqsError('InvalidParameterValue', 'Too many tags added for queue (max 50).')
  await s.records.put(name, { ...record, tags })
  return {}
}

export async function untagQueue(s: SqsState, input: Input): Promise<Output> {
  const name = queueNameOf(s, input)
  const record = recordOf(s, name)
  const tags = { ...record.tags }
  for (const key of stringList(input.TagKeys, 'TagKeys')) delete tags[key]
  await s.records.put(name, { ...record, tags })
  return {}
}

export function listQueueTags(s: SqsState, input: Input): Output {
  return { Tags: recordOf(s, queueNameOf(s, input)).tags }
}

export async function purgeQueue(s: SqsState, input: Input): Promise<Output> {
  await s.broker.queue(queueNameOf(s, input)).purge()
  return {}
}

/** Permissions mean nothing to a single-tenant broker: accepted for an existing queue, ignored. */
export function permissionNoop(s: SqsState, input: Input): Output {
  queueNameOf(s, input)
  return {}
}
