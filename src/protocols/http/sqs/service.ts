// The SQS actions over the broker. Inputs are the decoded JSON 1.0 request bodies (PascalCase, as the
// SDK sends them); outputs are the reply objects. An SQS queue is a broker queue (own stream, queue-mode
// subscription) plus a catalog record with the SQS-only attributes; only queues with that record are
// visible here, so AMQP/MQTT queues do not show up in ListQueues.
import { createHash, randomUUID } from 'node:crypto'
import type { Broker } from '../../../broker/broker.js'
import type { QueueSubscription } from '../../../broker/queue.js'
import type { Delivery } from '../../../broker/queue-types.js'
import {
  type DeathRecord,
  headerText,
  type PublishMessage,
  type RecordHeader,
  Reserved,
} from '../../../broker/types.js'
import type { Logger } from '../../../util/logger.js'
import {
  ACCOUNT_ID,
  brokerConfig,
  computedAttributes,
  KIND_SQS_QUEUE,
  nameFromArn,
  parseRedrivePolicy,
  queueArn,
  type SqsQueueRecord,
  validateAttributes,
  validateQueueName,
  withDefaults,
} from './attributes.js'
import { SqsError, toSqsError } from './errors.js'
import { md5Hex, md5OfAttributes } from './md5.js'
import {
  attributesSize,
  attributesToHeaders,
  checkText,
  headersToAttributes,
  messageIdOf,
  parseMessageAttributes,
  type ReceiptHandles,
  SqsHeader,
  selectAttributes,
} from './message-codec.js'

type Input = Record<string, unknown>
type Output = Record<string, unknown>

const BATCH_MAX = 10
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/
const LIST_MAX = 1000
const FIRST_RECEIVE_MAX = 100_000
const MOVE_TASKS_MAX = 100
const OWNER = 'sqs'
const DEDUP_WINDOW_MS = 5 * 60 * 1000

export interface RequestContext {
  /** Base of queue URLs: `http://host:port` from the Host header. */
  origin: string
  signal: AbortSignal
}

interface PreparedMessage {
  message: PublishMessage
  md5Body: string
  md5Attributes: string | undefined
  md5System: string | undefined
  id: string
}

interface MoveTask {
  handle: string
  source: string
  destination: string | undefined
  status: 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED'
  moved: number
  toMove: number
  started: number
  failureReason?: string
}

export class SqsService {
  readonly #broker: Broker
  readonly #handles: ReceiptHandles
  readonly #logger: Logger
  /** ApproximateFirstReceiveTimestamp is not stored with the record; remembered, bounded, per message. */
  readonly #firstReceive = new Map<string, number>()
  readonly #moveTasks: MoveTask[] = []
  /** Counters for /metrics. */
  readonly counters = { sent: 0, received: 0, deleted: 0 }

  constructor(broker: Broker, handles: ReceiptHandles, logger: Logger) {
    this.#broker = broker
    this.#handles = handles
    this.#logger = logger
  }

  /** Runs one action; every failure comes back as an SqsError. */
  async call(action: string, input: Input, context: RequestContext): Promise<Output> {
    const handler = this.#actions[action]
    if (handler === undefined)
      throw new SqsError('InvalidAction', `The action ${action} is not valid for this endpoint.`)
    try {
      return await handler(input, context)
    } catch (error) {
      const mapped = toSqsError(error)
      if (mapped.errorName === 'InternalError') this.#logger.error({ err: error, action }, 'sqs action failed')
      throw mapped
    }
  }

  readonly #actions: Record<string, (input: Input, context: RequestContext) => Promise<Output>> = {
    CreateQueue: (i, c) => this.createQueue(i, c),
    GetQueueUrl: async (i, c) => this.getQueueUrl(i, c),
    ListQueues: async (i, c) => this.listQueues(i, c),
    DeleteQueue: (i) => this.deleteQueue(i),
    GetQueueAttributes: async (i) => this.getQueueAttributes(i),
    SetQueueAttributes: (i) => this.setQueueAttributes(i),
    TagQueue: (i) => this.tagQueue(i),
    UntagQueue: (i) => this.untagQueue(i),
    ListQueueTags: async (i) => ({ Tags: this.#record(this.#queueName(i)).tags }),
    PurgeQueue: (i) => this.purgeQueue(i),
    SendMessage: (i) => this.sendMessage(i),
    SendMessageBatch: (i) => this.sendMessageBatch(i),
    ReceiveMessage: (i, c) => this.receiveMessage(i, c),
    DeleteMessage: (i) => this.deleteMessage(i),
    DeleteMessageBatch: (i) => this.deleteMessageBatch(i),
    ChangeMessageVisibility: async (i) => this.changeVisibility(i),
    ChangeMessageVisibilityBatch: async (i) => this.changeVisibilityBatch(i),
    ListDeadLetterSourceQueues: async (i, c) => this.listDeadLetterSourceQueues(i, c),
    StartMessageMoveTask: async (i) => this.startMessageMoveTask(i),
    ListMessageMoveTasks: async (i) => this.listMessageMoveTasks(i),
    CancelMessageMoveTask: async (i) => this.cancelMessageMoveTask(i),
    AddPermission: async (i) => this.#permissionNoop(i),
    RemovePermission: async (i) => this.#permissionNoop(i),
  }

  /** Permissions mean nothing to a single-tenant broker: accepted for an existing queue, ignored. */
  #permissionNoop(input: Input): Output {
    this.#queueName(input)
    return {}
  }

  // ---- queues ----

  queueUrl(origin: string, name: string): string {
    return `${origin}/${ACCOUNT_ID}/${name}`
  }

  /** Names of the queues SQS manages (for metrics and SNS). */
  isSqsQueue(name: string): boolean {
    return (
      this.#broker.storage.metadata.get(KIND_SQS_QUEUE, name) !== undefined && this.#broker.getQueue(name) !== undefined
    )
  }

  #record(name: string): SqsQueueRecord {
    const record = this.#broker.storage.metadata.get<SqsQueueRecord>(KIND_SQS_QUEUE, name)
    if (record === undefined || this.#broker.getQueue(name) === undefined) {
      throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.')
    }
    return record
  }

  /** QueueUrl → queue name (the last path segment; the host part is not checked, as ElasticMQ does). */
  #queueName(input: Input): string {
    const url = input.QueueUrl
    if (typeof url !== 'string' || url === '')
      throw new SqsError('MissingParameter', 'The request must contain the parameter QueueUrl.')
    const path = url.split('?')[0]!.replace(/\/+$/, '')
    const name = path.slice(path.lastIndexOf('/') + 1)
    this.#record(name)
    return name
  }

  async createQueue(input: Input, context: RequestContext): Promise<Output> {
    const name = validateQueueName(input.QueueName)
    const fifo = name.endsWith('.fifo')
    const requested = stringMap(input.Attributes, 'Attributes')
    if (fifo && requested.FifoQueue === undefined)
      throw new SqsError(
        'InvalidParameterValue',
        'The FifoQueue attribute must be true for a queue name ending in .fifo',
      )
    const attributes = validateAttributes(requested, { creating: true, fifo })
    const existing = this.#broker.storage.metadata.get<SqsQueueRecord>(KIND_SQS_QUEUE, name)
    if (existing !== undefined && this.#broker.getQueue(name) !== undefined) {
      for (const [key, value] of Object.entries(attributes)) {
        if (existing.attributes[key] !== value)
          throw new SqsError(
            'QueueNameExists',
            `A queue already exists with the same name and a different value for attribute ${key}`,
          )
      }
      return { QueueUrl: this.queueUrl(context.origin, name) }
    }
    if (this.#broker.getQueue(name) !== undefined)
      throw new SqsError('QueueNameExists', `A non-SQS queue named ${name} already exists`)
    const full = withDefaults(attributes, fifo)
    await this.#checkRedrive(name, full, fifo)
    const now = Date.now()
    const record: SqsQueueRecord = {
      attributes: full,
      tags: stringMap(input.tags ?? input.Tags, 'tags'),
      created: now,
      modified: now,
    }
    await this.#broker.createQueue(name, { ...brokerConfig(full), fifo, durable: true })
    if (fifo) await this.#broker.alterStream(name, { dedupWindowMs: DEDUP_WINDOW_MS })
    await this.#broker.storage.metadata.put(KIND_SQS_QUEUE, name, record)
    return { QueueUrl: this.queueUrl(context.origin, name) }
  }

  async #checkRedrive(name: string, attributes: Record<string, string>, fifo: boolean): Promise<void> {
    if (!attributes.RedrivePolicy) return
    const { deadLetterQueue } = parseRedrivePolicy(attributes.RedrivePolicy)
    if (deadLetterQueue === name)
      throw new SqsError(
        'InvalidParameterValue',
        'Value for parameter RedrivePolicy is invalid. Reason: a queue cannot be its own dead-letter queue.',
      )
    this.#record(deadLetterQueue)
    if (deadLetterQueue.endsWith('.fifo') !== fifo) {
      throw new SqsError(
        'InvalidParameterValue',
        'Value for parameter RedrivePolicy is invalid. Reason: Dead-letter target owner must be the same type as the source queue.',
      )
    }
  }

  getQueueUrl(input: Input, context: RequestContext): Output {
    const name = input.QueueName
    if (typeof name !== 'string')
      throw new SqsError('MissingParameter', 'The request must contain the parameter QueueName.')
    this.#record(name)
    return { QueueUrl: this.queueUrl(context.origin, name) }
  }

  #sqsQueueNames(): string[] {
    return this.#broker.storage.metadata
      .list<SqsQueueRecord>(KIND_SQS_QUEUE)
      .map(([name]) => name)
      .filter((name) => this.#broker.getQueue(name) !== undefined)
      .sort()
  }

  listQueues(input: Input, context: RequestContext): Output {
    const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : ''
    const names = this.#sqsQueueNames().filter((n) => n.startsWith(prefix))
    return this.#page(names, input, (n) => this.queueUrl(context.origin, n), 'QueueUrls')
  }

  #page(names: string[], input: Input, url: (name: string) => string, field: string): Output {
    const max = input.MaxResults === undefined ? undefined : intParam(input.MaxResults, 'MaxResults', 1, LIST_MAX)
    let start = 0
    if (input.NextToken !== undefined) {
      const after =
        typeof input.NextToken === 'string' ? Buffer.from(input.NextToken, 'base64url').toString('utf8') : ''
      if (after === '') throw new SqsError('InvalidParameterValue', 'Invalid NextToken')
      start = names.findIndex((n) => n > after)
      if (start < 0) start = names.length
    }
    const page = names.slice(start, start + (max ?? LIST_MAX))
    const out: Output = { [field]: page.map(url) }
    if (max !== undefined && start + page.length < names.length)
      out.NextToken = Buffer.from(page[page.length - 1]!).toString('base64url')
    return out
  }

  async deleteQueue(input: Input): Promise<Output> {
    const name = this.#queueName(input)
    await this.#broker.deleteQueue(name)
    await this.#broker.topics.unsubscribeDestination({ kind: 'queue', name })
    await this.#broker.storage.metadata.delete(KIND_SQS_QUEUE, name)
    return {}
  }

  getQueueAttributes(input: Input): Output {
    const name = this.#queueName(input)
    const record = this.#record(name)
    const requested = stringList(input.AttributeNames, 'AttributeNames')
    const all = requested.includes('All')
    const stats = this.#broker.queueStats(name)
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
        if (!(computedAttributes as readonly string[]).includes(key) && !isKnownAttribute(key))
          throw new SqsError('InvalidAttributeName', `Unknown Attribute ${key}.`)
        continue
      }
      out[key] = value
    }
    return Object.keys(out).length === 0 ? {} : { Attributes: out }
  }

  async setQueueAttributes(input: Input): Promise<Output> {
    const name = this.#queueName(input)
    const record = this.#record(name)
    const fifo = name.endsWith('.fifo')
    const changes = validateAttributes(stringMap(input.Attributes, 'Attributes'), { creating: false, fifo })
    const next = { ...record.attributes, ...changes }
    if (next.RedrivePolicy === '') delete next.RedrivePolicy
    await this.#checkRedrive(name, next, fifo)
    await this.#broker.alterQueue(name, brokerConfig(next))
    await this.#broker.storage.metadata.put(KIND_SQS_QUEUE, name, { ...record, attributes: next, modified: Date.now() })
    return {}
  }

  async tagQueue(input: Input): Promise<Output> {
    const name = this.#queueName(input)
    const record = this.#record(name)
    const tags = { ...record.tags, ...stringMap(input.Tags, 'Tags') }
    if (Object.keys(tags).length > 50)
      throw new SqsError('InvalidParameterValue', 'Too many tags added for queue (max 50).')
    await this.#broker.storage.metadata.put(KIND_SQS_QUEUE, name, { ...record, tags })
    return {}
  }

  async untagQueue(input: Input): Promise<Output> {
    const name = this.#queueName(input)
    const record = this.#record(name)
    const tags = { ...record.tags }
    for (const key of stringList(input.TagKeys, 'TagKeys')) delete tags[key]
    await this.#broker.storage.metadata.put(KIND_SQS_QUEUE, name, { ...record, tags })
    return {}
  }

  async purgeQueue(input: Input): Promise<Output> {
    await this.#broker.queue(this.#queueName(input)).purge()
    return {}
  }

  // ---- sending ----

  /** Validates one SendMessage(-BatchEntry) and turns it into a broker message. */
  #toPublish(name: string, record: SqsQueueRecord, entry: Input): PreparedMessage {
    const body = entry.MessageBody
    if (typeof body !== 'string' || body === '')
      throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.')
    checkText(body, 'the message body')
    const attributes = parseMessageAttributes(entry.MessageAttributes)
    const system = parseMessageAttributes(entry.MessageSystemAttributes, 'MessageSystemAttributes')
    for (const key of Object.keys(system)) {
      if (key !== 'AWSTraceHeader')
        throw new SqsError('InvalidParameterValue', `Message system attribute name '${key}' is invalid.`)
    }
    const size = Buffer.byteLength(body) + attributesSize(attributes)
    const maxSize = Number(record.attributes.MaximumMessageSize)
    if (size > maxSize)
      throw new SqsError(
        'InvalidParameterValue',
        `One or more parameters are invalid. Reason: Message must be shorter than ${maxSize} bytes.`,
      )
    const fifo = name.endsWith('.fifo')
    const message: PublishMessage = { value: body }
    if (entry.DelaySeconds !== undefined && entry.DelaySeconds !== null) {
      const delay = intParam(entry.DelaySeconds, 'DelaySeconds', 0, 900)
      if (fifo && delay > 0)
        throw new SqsError(
          'InvalidParameterValue',
          'Value 0 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.',
        )
      message.delayMs = delay * 1000
    }
    const groupId = optionalId(entry.MessageGroupId, 'MessageGroupId')
    let dedupId = optionalId(entry.MessageDeduplicationId, 'MessageDeduplicationId')
    if (fifo) {
      if (groupId === undefined)
        throw new SqsError('MissingParameter', 'The request must contain the parameter MessageGroupId.')
      if (dedupId === undefined) {
        if (record.attributes.ContentBasedDeduplication !== 'true') {
          throw new SqsError(
            'InvalidParameterValue',
            'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
          )
        }
        dedupId = createHash('sha256').update(body).digest('hex')
      }
      // messageGroup scope: the same dedup id in different groups are different messages.
      message.dedupId = record.attributes.DeduplicationScope === 'messageGroup' ? `${groupId}\u0000${dedupId}` : dedupId
    } else if (dedupId !== undefined) {
      throw new SqsError(
        'InvalidParameterValue',
        'The request include parameter MessageDeduplicationId that is not valid for this queue type',
      )
    }
    if (groupId !== undefined) message.groupId = groupId
    const id = randomUUID()
    const md5Body = md5Hex(body)
    const headers: RecordHeader[] = [
      { key: SqsHeader.messageId, value: Buffer.from(id) },
      { key: SqsHeader.bodyMd5, value: Buffer.from(md5Body, 'hex') },
    ]
    attributesToHeaders(attributes, headers)
    const trace = system.AWSTraceHeader?.StringValue
    if (trace !== undefined) headers.push({ key: SqsHeader.traceHeader, value: Buffer.from(trace) })
    if (dedupId !== undefined) headers.push({ key: 'wharf.sqs.dedup', value: Buffer.from(dedupId) })
    message.headers = headers
    return {
      message,
      md5Body,
      md5Attributes: md5OfAttributes(attributes),
      md5System: md5OfAttributes(system),
      id,
    }
  }

  /** Sends prepared messages in one broker call; duplicates (FIFO dedup) answer with the original id. */
  async #send(
    name: string,
    messages: PublishMessage[],
    ids: string[],
  ): Promise<Array<{ id: string; sequence: string | undefined }>> {
    const queue = this.#broker.queue(name)
    const positions = await this.#broker.sendToQueue(name, messages)
    this.counters.sent += messages.length
    const fifo = name.endsWith('.fifo')
    const out: Array<{ id: string; sequence: string | undefined }> = []
    for (let i = 0; i < positions.length; i++) {
      const position = positions[i]!
      let id = ids[i]!
      if (position.duplicate) id = (await this.#storedId(queue, position.partition, position.offset)) ?? id
      out.push({ id, sequence: fifo ? sequenceNumber(position.offset) : undefined })
    }
    return out
  }

  async #storedId(queue: QueueSubscription, partition: number, offset: number): Promise<string | undefined> {
    const { messages } = await this.#broker.readMessages(queue.streamName, partition, offset, 1)
    const message = messages.find((m) => m.offset === offset)
    return message === undefined ? undefined : messageIdOf(message)
  }

  async sendMessage(input: Input): Promise<Output> {
    const name = this.#queueName(input)
    const prepared = this.#toPublish(name, this.#record(name), input)
    const [sent] = await this.#send(name, [prepared.message], [prepared.id])
    const out: Output = { MessageId: sent!.id, MD5OfMessageBody: prepared.md5Body }
    if (prepared.md5Attributes !== undefined) out.MD5OfMessageAttributes = prepared.md5Attributes
    if (prepared.md5System !== undefined) out.MD5OfMessageSystemAttributes = prepared.md5System
    if (sent!.sequence !== undefined) out.SequenceNumber = sent!.sequence
    return out
  }

  async sendMessageBatch(input: Input): Promise<Output> {
    const name = this.#queueName(input)
    const record = this.#record(name)
    const entries = batchEntries(input.Entries)
    const successful: Output[] = []
    const failed: Output[] = []
    const ready: Array<{ entryId: string; prepared: PreparedMessage }> = []
    let total = 0
    for (const entry of entries) {
      try {
        const prepared = this.#toPublish(name, record, entry)
        total += Buffer.byteLength(String(entry.MessageBody))
        ready.push({ entryId: entry.Id as string, prepared })
      } catch (error) {
        failed.push(batchFailure(entry.Id as string, toSqsError(error)))
      }
    }
    if (total > Number(record.attributes.MaximumMessageSize)) {
      throw new SqsError(
        'BatchRequestTooLong',
        `Batch requests cannot be longer than ${record.attributes.MaximumMessageSize} bytes.`,
      )
    }
    if (ready.length > 0) {
      const sent = await this.#send(
        name,
        ready.map((r) => r.prepared.message),
        ready.map((r) => r.prepared.id),
      )
      ready.forEach((r, i) => {
        const result: Output = { Id: r.entryId, MessageId: sent[i]!.id, MD5OfMessageBody: r.prepared.md5Body }
        if (r.prepared.md5Attributes !== undefined) result.MD5OfMessageAttributes = r.prepared.md5Attributes
        if (r.prepared.md5System !== undefined) result.MD5OfMessageSystemAttributes = r.prepared.md5System
        if (sent[i]!.sequence !== undefined) result.SequenceNumber = sent[i]!.sequence
        successful.push(result)
      })
    }
    return { Successful: successful, Failed: failed }
  }

  // ---- receiving ----

  async receiveMessage(input: Input, context: RequestContext): Promise<Output> {
    const name = this.#queueName(input)
    const record = this.#record(name)
    const max =
      input.MaxNumberOfMessages === undefined ? 1 : intParam(input.MaxNumberOfMessages, 'MaxNumberOfMessages', 1, 10)
    const wait =
      input.WaitTimeSeconds === undefined || input.WaitTimeSeconds === null
        ? Number(record.attributes.ReceiveMessageWaitTimeSeconds)
        : intParam(input.WaitTimeSeconds, 'WaitTimeSeconds', 0, 20)
    const visibility =
      input.VisibilityTimeout === undefined || input.VisibilityTimeout === null
        ? Number(record.attributes.VisibilityTimeout)
        : intParam(input.VisibilityTimeout, 'VisibilityTimeout', 0, 43200)
    const systemNames = [
      ...stringList(input.AttributeNames, 'AttributeNames'),
      ...stringList(input.MessageSystemAttributeNames, 'MessageSystemAttributeNames'),
    ]
    const attributeNames = stringList(input.MessageAttributeNames, 'MessageAttributeNames')
    const deliveries = await this.#broker.get(name, {
      owner: OWNER,
      max,
      waitMs: wait * 1000,
      leaseMs: visibility * 1000,
      signal: context.signal,
    })
    if (context.signal.aborted && deliveries.length > 0) {
      // The client went away: return the messages at once instead of hiding them for the visibility timeout.
      const queue = this.#broker.queue(name)
      for (const d of deliveries) queue.extend(d.partition, d.offset, 0, d.leaseId)
      return {}
    }
    this.counters.received += deliveries.length
    if (deliveries.length === 0) return {}
    return { Messages: deliveries.map((d) => this.#toMessage(name, record, d, systemNames, attributeNames)) }
  }

  #toMessage(
    name: string,
    record: SqsQueueRecord,
    d: Delivery,
    systemNames: string[],
    attributeNames: string[],
  ): Output {
    const body = d.message.value?.toString('utf8') ?? ''
    const handle = this.#handles.encode({
      queue: name,
      incarnation: record.created,
      boot: this.#handles.boot,
      partition: d.partition,
      offset: d.offset,
      leaseId: d.leaseId,
    })
    const out: Output = {
      MessageId: messageIdOf(d.message),
      ReceiptHandle: handle,
      MD5OfBody: storedMd5(d.message.headers) ?? md5Hex(body),
      Body: body,
    }
    const system = this.#systemAttributes(name, d, systemNames)
    if (system !== undefined) out.Attributes = system
    // Decoding headers into attributes only when some are asked for (most receives ask for none).
    if (attributeNames.length === 0) return out
    const selected = selectAttributes(headersToAttributes(d.message), attributeNames)
    const digest = md5OfAttributes(selected)
    if (digest !== undefined) {
      out.MD5OfMessageAttributes = digest
      out.MessageAttributes = Object.fromEntries(
        Object.entries(selected).map(([k, v]) => [
          k,
          v.BinaryValue !== undefined
            ? { DataType: v.DataType, BinaryValue: v.BinaryValue.toString('base64') }
            : { DataType: v.DataType, StringValue: v.StringValue },
        ]),
      )
    }
    return out
  }

  #systemAttributes(name: string, d: Delivery, names: string[]): Record<string, string> | undefined {
    if (names.length === 0) return undefined
    const all = names.includes('All')
    const want = (n: string) => all || names.includes(n)
    const headers = d.message.headers
    const out: Record<string, string> = {}
    if (want('SenderId')) out.SenderId = ACCOUNT_ID
    if (want('SentTimestamp')) out.SentTimestamp = String(d.message.timestamp)
    if (want('ApproximateReceiveCount')) out.ApproximateReceiveCount = String(d.deliveryCount)
    if (want('ApproximateFirstReceiveTimestamp'))
      out.ApproximateFirstReceiveTimestamp = String(this.#firstReceiveOf(name, d))
    const group = headerText(headers, Reserved.groupId)
    if (want('MessageGroupId') && group !== undefined) out.MessageGroupId = group
    const dedup = headerText(headers, 'wharf.sqs.dedup')
    if (want('MessageDeduplicationId') && dedup !== undefined) out.MessageDeduplicationId = dedup
    if (want('SequenceNumber') && name.endsWith('.fifo')) out.SequenceNumber = sequenceNumber(d.offset)
    const trace = headerText(headers, SqsHeader.traceHeader)
    if (want('AWSTraceHeader') && trace !== undefined) out.AWSTraceHeader = trace
    const source = deathsOf(d.message.headers)[0]?.queue
    if (want('DeadLetterQueueSourceArn') && source !== undefined) out.DeadLetterQueueSourceArn = queueArn(source)
    return out
  }

  #firstReceiveOf(name: string, d: Delivery): number {
    const key = `${name}\u0000${d.partition}\u0000${d.offset}`
    const known = this.#firstReceive.get(key)
    if (known !== undefined) return known
    const now = Date.now()
    if (this.#firstReceive.size >= FIRST_RECEIVE_MAX) this.#firstReceive.delete(this.#firstReceive.keys().next().value!)
    this.#firstReceive.set(key, now)
    return now
  }

  // ---- settling ----

  /**
   * Validates a handle and issues its ack without awaiting it (the broker coalesces the acks of one tick
   * into one cursor-store write, so a batch's acks are issued together and awaited once). Undefined for a
   * stale handle (lease expired, message received again, broker restarted): it deletes nothing, without
   * error, as AWS does.
   */
  #issueDelete(name: string, record: SqsQueueRecord, handleText: unknown): Promise<void> | undefined {
    const handle = this.#handles.decode(handleText)
    if (handle.queue !== name)
      throw new SqsError('ReceiptHandleIsInvalid', 'The receipt handle belongs to another queue.')
    if (handle.incarnation !== record.created || handle.boot !== this.#handles.boot) return undefined
    this.#firstReceive.delete(`${name}\u0000${handle.partition}\u0000${handle.offset}`)
    return this.#broker
      .queue(name)
      .ack(handle.partition, handle.offset, handle.leaseId)
      .then((acked) => {
        if (acked) this.counters.deleted++
      })
  }

  async deleteMessage(input: Input): Promise<Output> {
    const name = this.#queueName(input)
    if (input.ReceiptHandle === undefined)
      throw new SqsError('MissingParameter', 'The request must contain the parameter ReceiptHandle.')
    await this.#issueDelete(name, this.#record(name), input.ReceiptHandle)
    return {}
  }

  async deleteMessageBatch(input: Input): Promise<Output> {
    const name = this.#queueName(input)
    const record = this.#record(name)
    const entries = batchEntries(input.Entries)
    const successful: Output[] = []
    const failed: Output[] = []
    const acks: Promise<void>[] = []
    for (const entry of entries) {
      const id = entry.Id as string
      try {
        // An ack that fails to become durable fails its entry, as before; the others still succeed.
        const ack = this.#issueDelete(name, record, entry.ReceiptHandle)
        if (ack === undefined) successful.push({ Id: id })
        else
          acks.push(
            ack.then(
              () => void successful.push({ Id: id }),
              (error) => void failed.push(batchFailure(id, this.#mapped(error, 'DeleteMessageBatch'))),
            ),
          )
      } catch (error) {
        failed.push(batchFailure(id, toSqsError(error)))
      }
    }
    await Promise.all(acks)
    return { Successful: successful, Failed: failed }
  }

  #mapped(error: unknown, action: string): SqsError {
    const mapped = toSqsError(error)
    if (mapped.errorName === 'InternalError') this.#logger.error({ err: error, action }, 'sqs action failed')
    return mapped
  }

  #changeOne(name: string, handleText: unknown, timeout: unknown): void {
    const seconds = intParam(timeout, 'VisibilityTimeout', 0, 43200)
    const handle = this.#handles.decode(handleText)
    if (handle.queue !== name)
      throw new SqsError('ReceiptHandleIsInvalid', 'The receipt handle belongs to another queue.')
    const record = this.#record(name)
    const live = handle.incarnation === record.created && handle.boot === this.#handles.boot
    if (!live || !this.#broker.queue(name).extend(handle.partition, handle.offset, seconds * 1000, handle.leaseId)) {
      throw new SqsError(
        'MessageNotInflight',
        'Message does not exist or is not available for visibility timeout change.',
      )
    }
  }

  changeVisibility(input: Input): Output {
    const name = this.#queueName(input)
    this.#changeOne(name, input.ReceiptHandle, input.VisibilityTimeout)
    return {}
  }

  changeVisibilityBatch(input: Input): Output {
    const name = this.#queueName(input)
    const successful: Output[] = []
    const failed: Output[] = []
    for (const entry of batchEntries(input.Entries)) {
      try {
        this.#changeOne(name, entry.ReceiptHandle, entry.VisibilityTimeout)
        successful.push({ Id: entry.Id })
      } catch (error) {
        failed.push(batchFailure(entry.Id as string, toSqsError(error)))
      }
    }
    return { Successful: successful, Failed: failed }
  }

  // ---- dead letters ----

  /** Queues whose RedrivePolicy targets `name`. */
  deadLetterSources(name: string): string[] {
    return this.#sqsQueueNames().filter((n) => {
      const policy = this.#broker.storage.metadata.get<SqsQueueRecord>(KIND_SQS_QUEUE, n)?.attributes.RedrivePolicy
      return policy !== undefined && policy !== '' && parseRedrivePolicy(policy).deadLetterQueue === name
    })
  }

  listDeadLetterSourceQueues(input: Input, context: RequestContext): Output {
    const name = this.#queueName(input)
    return this.#page(this.deadLetterSources(name), input, (n) => this.queueUrl(context.origin, n), 'queueUrls')
  }

  #arnQueue(arn: unknown, field: string): string {
    if (typeof arn !== 'string')
      throw new SqsError('MissingParameter', `The request must contain the parameter ${field}.`)
    const name = nameFromArn(arn)
    if (name === undefined)
      throw new SqsError('InvalidParameterValue', `Value ${arn} for parameter ${field} is invalid.`)
    this.#record(name)
    return name
  }

  startMessageMoveTask(input: Input): Output {
    const source = this.#arnQueue(input.SourceArn, 'SourceArn')
    const destination =
      input.DestinationArn === undefined ? undefined : this.#arnQueue(input.DestinationArn, 'DestinationArn')
    if (this.deadLetterSources(source).length === 0) {
      throw new SqsError('InvalidParameterValue', 'Source queue must be configured as a Dead Letter Queue.')
    }
    if (this.#moveTasks.some((t) => t.source === source && t.status === 'RUNNING')) {
      throw new SqsError(
        'UnsupportedOperation',
        'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
      )
    }
    const task: MoveTask = {
      handle: Buffer.from(JSON.stringify({ source, id: randomUUID() })).toString('base64url'),
      source,
      destination,
      status: 'RUNNING',
      moved: 0,
      toMove: this.#broker.queueStats(source).ready,
      started: Date.now(),
    }
    this.#moveTasks.unshift(task)
    if (this.#moveTasks.length > MOVE_TASKS_MAX) this.#moveTasks.pop()
    void this.moveMessages(source, destination, task).catch((error) => {
      task.status = 'FAILED'
      task.failureReason = String((error as Error).message)
    })
    return { TaskHandle: task.handle }
  }

  /**
   * Moves dead-lettered messages back (to `destination`, or to the queue each one died in): read with a
   * lease, re-send, then ack, so a crash in between duplicates rather than loses a message. Shared with
   * the REST admin API's redrive.
   */
  async moveMessages(source: string, destination: string | undefined, task?: MoveTask): Promise<number> {
    let moved = 0
    for (;;) {
      if (task?.status === 'CANCELLING') {
        task.status = 'CANCELLED'
        return moved
      }
      const deliveries = await this.#broker.get(source, { owner: 'sqs-move', max: BATCH_MAX, leaseMs: 60_000 })
      if (deliveries.length === 0) break
      const queue = this.#broker.queue(source)
      for (const d of deliveries) {
        const target = destination ?? deathsOf(d.message.headers)[0]?.queue
        if (target === undefined || this.#broker.getQueue(target) === undefined) {
          for (const rest of deliveries) queue.extend(rest.partition, rest.offset, 0, rest.leaseId)
          throw new SqsError('ResourceNotFoundException', `No destination queue for message ${messageIdOf(d.message)}`)
        }
        const headers = d.message.headers.filter(
          (h) =>
            h.key !== Reserved.deaths &&
            h.key !== Reserved.deliverAt &&
            h.key !== Reserved.expiresAt &&
            h.key !== Reserved.dedupId,
        )
        await this.#broker.sendToQueue(target, [
          { key: d.message.key, value: d.message.value, headers, timestamp: d.message.timestamp },
        ])
        await queue.ack(d.partition, d.offset, d.leaseId)
        moved++
        if (task) task.moved = moved
      }
    }
    if (task) task.status = 'COMPLETED'
    return moved
  }

  listMessageMoveTasks(input: Input): Output {
    const source = this.#arnQueue(input.SourceArn, 'SourceArn')
    const max = input.MaxResults === undefined ? 1 : intParam(input.MaxResults, 'MaxResults', 1, 10)
    const results = this.#moveTasks
      .filter((t) => t.source === source)
      .slice(0, max)
      .map((t) => {
        const out: Output = {
          Status: t.status,
          SourceArn: queueArn(t.source),
          ApproximateNumberOfMessagesMoved: t.moved,
          ApproximateNumberOfMessagesToMove: t.toMove,
          StartedTimestamp: t.started,
        }
        if (t.status === 'RUNNING') out.TaskHandle = t.handle
        if (t.destination !== undefined) out.DestinationArn = queueArn(t.destination)
        if (t.failureReason !== undefined) out.FailureReason = t.failureReason
        return out
      })
    return { Results: results }
  }

  cancelMessageMoveTask(input: Input): Output {
    const task = this.#moveTasks.find((t) => t.handle === input.TaskHandle)
    if (task === undefined) throw new SqsError('ResourceNotFoundException', 'Task does not exist.')
    if (task.status !== 'RUNNING') throw new SqsError('UnsupportedOperation', `Task is in ${task.status} state.`)
    task.status = 'CANCELLING'
    return { ApproximateNumberOfMessagesMoved: task.moved }
  }
}

// ---- parameter helpers ----

function intParam(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new SqsError(
      'InvalidParameterValue',
      `Value ${String(value)} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`,
    )
  }
  return n
}

function stringMap(value: unknown, name: string): Record<string, string> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value))
    throw new SqsError('InvalidParameterValue', `${name} must be a map of strings`)
  for (const v of Object.values(value))
    if (typeof v !== 'string') throw new SqsError('InvalidParameterValue', `${name} must be a map of strings`)
  return { ...(value as Record<string, string>) }
}

function stringList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw new SqsError('InvalidParameterValue', `${name} must be a list of strings`)
  return value as string[]
}

function optionalId(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(value))
    throw new SqsError('InvalidParameterValue', `Value ${String(value)} for parameter ${name} is invalid.`)
  return value
}

function batchEntries(value: unknown): Input[] {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    throw new SqsError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.')
  }
  if (!Array.isArray(value) || value.some((e) => typeof e !== 'object' || e === null))
    throw new SqsError('InvalidParameterValue', 'Entries must be a list of objects')
  if (value.length > BATCH_MAX)
    throw new SqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are ${BATCH_MAX}. You have sent ${value.length}.`,
    )
  const ids = new Set<string>()
  for (const entry of value as Input[]) {
    if (typeof entry.Id !== 'string' || !BATCH_ID.test(entry.Id))
      throw new SqsError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      )
    if (ids.has(entry.Id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${entry.Id} repeated.`)
    ids.add(entry.Id)
  }
  return value as Input[]
}

function batchFailure(id: string, error: SqsError): Output {
  return { Id: id, SenderFault: error.fault === 'Sender', Code: error.errorName, Message: error.message }
}

/** The body MD5 stored at send (hex); undefined for messages that came from other protocols. */
function storedMd5(headers: readonly RecordHeader[]): string | undefined {
  for (const h of headers) if (h.key === SqsHeader.bodyMd5 && h.value?.length === 16) return h.value.toString('hex')
  return undefined
}

function sequenceNumber(offset: number): string {
  return String(offset + 1).padStart(20, '0')
}

function deathsOf(headers: readonly RecordHeader[]): DeathRecord[] {
  const text = headerText(headers, Reserved.deaths)
  if (text === undefined) return []
  try {
    const parsed = JSON.parse(text)
    return Array.isArray(parsed) ? (parsed as DeathRecord[]) : []
  } catch {
    return []
  }
}

const knownAttributes = new Set([
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
])

function isKnownAttribute(name: string): boolean {
  return knownAttributes.has(name)
}
