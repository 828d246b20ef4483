// SNS over the query protocol: topics and subscriptions live in broker.topics (filter policies compiled
// there); Publish matches subscriptions and appends to each subscribed SQS queue, either the raw message
// (attributes become SQS message attributes) or the SNS JSON envelope.
import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Broker } from '../../../broker/broker.js'
import type { PublishMessage, RecordHeader } from '../../../broker/message.js'
import type { MessageAttributes } from '../../../broker/routing/match/index.js'
import type { SnsSubscription } from '../../../broker/topics/topics.js'
import { type ErrorCode, isWharfError } from '../../../util/errors.js'
import type { Logger } from '../../../util/logger.js'
import { ACCOUNT_ID, nameFromArn, REGION } from '../sqs/attributes.js'
import type { SqsAttributeValue } from '../sqs/md5.js'
import { attributesToHeaders, parseMessageAttributes, SqsHeader } from '../sqs/message-codec.js'
import {
  entries,
  errorXml,
  flatMap,
  members,
  parseForm,
  QueryParseError,
  responseXml,
  toXml,
  type XmlValue,
} from './query.js'

export const SNS_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/'
const MESSAGE_BYTES_MAX = 256 * 1024
const PUBLISH_BATCH_MAX = 10
const LIST_PAGE = 100
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/

const errorStatus = {
  NotFound: 404,
  InvalidParameter: 400,
  InvalidParameterValue: 400,
  InvalidAction: 400,
  SubscriptionLimitExceeded: 403,
  AuthorizationError: 403,
  InternalError: 500,
  EmptyBatchRequest: 400,
  TooManyEntriesInBatchRequest: 400,
  BatchEntryIdsNotDistinct: 400,
} as const

type SnsErrorName = keyof typeof errorStatus

export class SnsError extends Error {
  constructor(
    readonly errorName: SnsErrorName,
    message: string,
  ) {
    super(message)
  }
}

const fromBroker: Partial<Record<ErrorCode, SnsErrorName>> = {
  STREAM_NOT_FOUND: 'NotFound',
  SUBSCRIPTION_NOT_FOUND: 'NotFound',
  INVALID_ARGUMENT: 'InvalidParameter',
  INVALID_CONFIG: 'InvalidParameter',
  ACCESS_REFUSED: 'AuthorizationError',
  LIMIT_EXCEEDED: 'SubscriptionLimitExceeded',
  SUBSCRIPTION_EXISTS: 'InvalidParameter',
  QUEUE_FULL: 'InternalError',
  MESSAGE_TOO_LARGE: 'InvalidParameter',
}

export function sendQueryError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/xml')
    .send(errorXml(SNS_NAMESPACE, status >= 500 ? 'Receiver' : 'Sender', code, message, randomUUID()))
}

export function topicArn(name: string): string {
  return `arn:aws:sns:${REGION}:${ACCOUNT_ID}:${name}`
}

function topicFromArn(arn: string | undefined, field = 'TopicArn'): string {
  if (arn === undefined) throw new SnsError('InvalidParameter', `Invalid parameter: ${field}`)
  const parts = arn.split(':')
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sns' || parts[5] === '')
    throw new SnsError(
      'InvalidParameter',
      `Invalid parameter: ${field} Reason: An ARN must have the format arn:aws:sns:region:account:name`,
    )
  return parts[5]!
}

function subscriptionId(arn: string | undefined): string {
  if (arn === undefined) throw new SnsError('InvalidParameter', 'Invalid parameter: SubscriptionArn')
  const parts = arn.split(':')
  if (parts.length !== 7 || parts[2] !== 'sns')
    throw new SnsError(
      'InvalidParameter',
      'Invalid parameter: SubscriptionArn Reason: An ARN must have the format arn:aws:sns:region:account:topic:id',
    )
  return parts[6]!
}

function bool(value: string, name: string): boolean {
  const lower = value.toLowerCase()
  if (lower !== 'true' && lower !== 'false')
    throw new SnsError(
      'InvalidParameter',
      `Invalid parameter: Attributes Reason: ${name}: Invalid value [${value}]. Must be true or false.`,
    )
  return lower === 'true'
}

/** `MessageAttributes.entry.N.Name / .Value.DataType / .Value.StringValue / .Value.BinaryValue` → attributes. */
function messageAttributes(params: Map<string, string>, prefix: string): Record<string, SqsAttributeValue> {
  const raw: Record<string, { DataType?: string; StringValue?: string; BinaryValue?: string }> = {}
  for (const member of members(params, prefix)) {
    const name = member.get('Name')
    if (name === undefined) continue
    raw[name] = {
      DataType: member.get('Value.DataType'),
      StringValue: member.get('Value.StringValue'),
      BinaryValue: member.get('Value.BinaryValue'),
    }
    if (raw[name]!.BinaryValue === undefined) delete raw[name]!.BinaryValue
    if (raw[name]!.StringValue === undefined) delete raw[name]!.StringValue
  }
  try {
    return parseMessageAttributes(raw)
  } catch (error) {
    throw new SnsError('InvalidParameterValue', (error as Error).message)
  }
}

interface PublishInput {
  message: string
  subject: string | undefined
  attributes: Record<string, SqsAttributeValue>
  structure: string | undefined
  groupId: string | undefined
  dedupId: string | undefined
}

export class SnsService {
  readonly #broker: Broker
  readonly #logger: Logger
  readonly #scratch: SnsSubscription[] = []
  published = 0

  constructor(broker: Broker, logger: Logger) {
    this.#broker = broker
    this.#logger = logger
  }

  async handle(request: FastifyRequest, reply: FastifyReply, body: string, origin: string): Promise<FastifyReply> {
    const requestId = randomUUID()
    try {
      let params: Map<string, string>
      try {
        params = parseForm(body)
      } catch (error) {
        throw new SnsError('InvalidParameter', error instanceof QueryParseError ? error.message : 'malformed form body')
      }
      const action = params.get('Action')
      const handler = action === undefined ? undefined : this.#actions[action]
      if (handler === undefined)
        throw new SnsError('InvalidAction', `The action ${String(action)} is not valid for this endpoint.`)
      const result = await handler(params, origin)
      return reply
        .code(200)
        .header('content-type', 'text/xml')
        .send(responseXml(SNS_NAMESPACE, action!, result, requestId))
    } catch (error) {
      let mapped = error instanceof SnsError ? error : undefined
      if (mapped === undefined && isWharfError(error) && fromBroker[error.code] !== undefined)
        mapped = new SnsError(fromBroker[error.code]!, error.message)
      if (mapped === undefined) {
        this.#logger.error({ err: error, url: request.url }, 'sns action failed')
        mapped = new SnsError('InternalError', 'internal error')
      }
      return sendQueryError(reply, errorStatus[mapped.errorName], mapped.errorName, mapped.message)
    }
  }

  readonly #actions: Record<
    string,
    (params: Map<string, string>, origin: string) => Promise<string | null> | string | null
  > = {
    CreateTopic: (p) => this.createTopic(p),
    DeleteTopic: async (p) => {
      const name = topicFromArn(p.get('TopicArn'))
      await this.#broker.topics.deleteTopic(name)
      return null
    },
    ListTopics: (p) => {
      const { page, next } = paginate(this.#broker.topics.listTopics().sort(), p.get('NextToken'))
      return toXml({ Topics: page.map((n) => ({ TopicArn: topicArn(n) })), NextToken: next })
    },
    GetTopicAttributes: (p) => {
      const name = topicFromArn(p.get('TopicArn'))
      const attributes = this.#broker.topics.topicAttributes(name)
      if (attributes === undefined) throw new SnsError('NotFound', 'Topic does not exist')
      const subs = this.#broker.topics.list(name).length
      return `<Attributes>${entries({ ...attributes, TopicArn: topicArn(name), Owner: ACCOUNT_ID, SubscriptionsConfirmed: String(subs), SubscriptionsPending: '0', SubscriptionsDeleted: '0' })}</Attributes>`
    },
    Subscribe: (p) => this.subscribe(p),
    Unsubscribe: async (p) => {
      await this.#broker.topics.unsubscribe(subscriptionId(p.get('SubscriptionArn')))
      return null
    },
    ListSubscriptions: (p) => this.#listSubscriptions(this.#broker.topics.list(), p),
    ListSubscriptionsByTopic: (p) => {
      const name = topicFromArn(p.get('TopicArn'))
      if (!this.#broker.topics.hasTopic(name)) throw new SnsError('NotFound', 'Topic does not exist')
      return this.#listSubscriptions(this.#broker.topics.list(name), p)
    },
    GetSubscriptionAttributes: (p) => {
      const sub = this.#broker.topics.get(subscriptionId(p.get('SubscriptionArn')))
      if (sub === undefined) throw new SnsError('NotFound', 'Subscription does not exist')
      return `<Attributes>${entries(this.#subscriptionAttributes(sub))}</Attributes>`
    },
    SetSubscriptionAttributes: async (p) => {
      const id = subscriptionId(p.get('SubscriptionArn'))
      const name = p.get('AttributeName')
      const value = p.get('AttributeValue') ?? ''
      if (name === 'RawMessageDelivery')
        await this.#broker.topics.setSubscriptionAttributes(id, { raw: bool(value, name) })
      else if (name === 'FilterPolicy')
        await this.#broker.topics.setSubscriptionAttributes(id, { filterPolicy: value === '' ? null : value })
      else if (name === 'FilterPolicyScope')
        await this.#broker.topics.setSubscriptionAttributes(id, { scope: scopeOf(value) })
      else throw new SnsError('InvalidParameter', `Invalid parameter: AttributeName ${String(name)}`)
      return null
    },
    Publish: (p) => this.publish(p),
    PublishBatch: (p) => this.publishBatch(p),
  }

  async createTopic(params: Map<string, string>): Promise<string> {
    const name = params.get('Name') ?? ''
    const base = name.endsWith('.fifo') ? name.slice(0, -5) : name
    if (!TOPIC_NAME.test(base)) throw new SnsError('InvalidParameter', 'Invalid parameter: Topic Name')
    const attributes = flatMap(params, 'Attributes.entry')
    const fifo = attributes.FifoTopic?.toLowerCase() === 'true'
    if (fifo !== name.endsWith('.fifo'))
      throw new SnsError(
        'InvalidParameter',
        'Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.',
      )
    await this.#broker.topics.createTopic(name, attributes)
    return toXml({ TopicArn: topicArn(name) })
  }

  async subscribe(params: Map<string, string>): Promise<string> {
    const topic = topicFromArn(params.get('TopicArn'))
    const protocol = params.get('Protocol')
    if (protocol !== 'sqs')
      throw new SnsError(
        'InvalidParameter',
        `Invalid parameter: Protocol: only sqs subscriptions are supported, got ${String(protocol)}`,
      )
    const queue = nameFromArn(params.get('Endpoint') ?? '')
    if (queue === undefined) throw new SnsError('InvalidParameter', 'Invalid parameter: SQS endpoint ARN')
    const attributes = flatMap(params, 'Attributes.entry')
    for (const key of Object.keys(attributes)) {
      if (
        ![
          'RawMessageDelivery',
          'FilterPolicy',
          'FilterPolicyScope',
          'RedrivePolicy',
          'DeliveryPolicy',
          'SubscriptionRoleArn',
        ].includes(key)
      )
        throw new SnsError('InvalidParameter', `Invalid parameter: Attributes Reason: Unknown attribute ${key}`)
    }
    if (!this.#broker.topics.hasTopic(topic)) throw new SnsError('NotFound', 'Topic does not exist')
    const sub = await this.#broker.topics.subscribe({
      topic,
      destination: { kind: 'queue', name: queue },
      raw:
        attributes.RawMessageDelivery === undefined ? false : bool(attributes.RawMessageDelivery, 'RawMessageDelivery'),
      ...(attributes.FilterPolicy ? { filterPolicy: attributes.FilterPolicy } : {}),
      ...(attributes.FilterPolicyScope ? { scope: scopeOf(attributes.FilterPolicyScope) } : {}),
    })
    return toXml({ SubscriptionArn: `${topicArn(topic)}:${sub.id}` })
  }

  #subscriptionAttributes(sub: SnsSubscription): Record<string, string> {
    const out: Record<string, string> = {
      SubscriptionArn: `${topicArn(sub.topic)}:${sub.id}`,
      TopicArn: topicArn(sub.topic),
      Protocol: 'sqs',
      Endpoint: endpointOf(sub),
      Owner: ACCOUNT_ID,
      ConfirmationWasAuthenticated: 'true',
      PendingConfirmation: 'false',
      RawMessageDelivery: String(sub.raw),
    }
    if (sub.filterPolicyJson !== undefined) {
      out.FilterPolicy = sub.filterPolicyJson
      out.FilterPolicyScope = sub.scope
    }
    return out
  }

  #listSubscriptions(subs: SnsSubscription[], params: Map<string, string>): string {
    const sorted = [...subs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const { page, next } = paginate(
      sorted.map((s) => s.id),
      params.get('NextToken'),
    )
    const byId = new Map(sorted.map((s) => [s.id, s]))
    const items: XmlValue[] = page.map((id) => {
      const s = byId.get(id)!
      return {
        SubscriptionArn: `${topicArn(s.topic)}:${s.id}`,
        Owner: ACCOUNT_ID,
        Protocol: 'sqs',
        Endpoint: endpointOf(s),
        TopicArn: topicArn(s.topic),
      }
    })
    return toXml({ Subscriptions: items, NextToken: next })
  }

  #publishInput(get: (key: string) => string | undefined, attributes: Record<string, SqsAttributeValue>): PublishInput {
    const message = get('Message')
    if (message === undefined || message === '')
      throw new SnsError('InvalidParameter', 'Invalid parameter: Empty message')
    if (Buffer.byteLength(message) > MESSAGE_BYTES_MAX)
      throw new SnsError('InvalidParameter', 'Invalid parameter: Message too long')
    const structure = get('MessageStructure')
    if (structure !== undefined && structure !== 'json')
      throw new SnsError('InvalidParameter', 'Invalid parameter: MessageStructure')
    return {
      message,
      subject: get('Subject'),
      attributes,
      structure,
      groupId: get('MessageGroupId'),
      dedupId: get('MessageDeduplicationId'),
    }
  }

  async publish(params: Map<string, string>): Promise<string> {
    const topic = topicFromArn(params.get('TopicArn') ?? params.get('TargetArn'))
    const input = this.#publishInput((k) => params.get(k), messageAttributes(params, 'MessageAttributes.entry'))
    const id = await this.#deliver(topic, input)
    return toXml({ MessageId: id })
  }

  async publishBatch(params: Map<string, string>): Promise<string> {
    const topic = topicFromArn(params.get('TopicArn'))
    const list = members(params, 'PublishBatchRequestEntries.member')
    if (list.length === 0) throw new SnsError('EmptyBatchRequest', 'The batch request does not contain any entries')
    if (list.length > PUBLISH_BATCH_MAX)
      throw new SnsError('TooManyEntriesInBatchRequest', 'The batch request contains more entries than permissible')
    const ids = list.map((m) => m.get('Id') ?? '')
    if (new Set(ids).size !== ids.length)
      throw new SnsError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id')
    const successful: XmlValue[] = []
    const failed: XmlValue[] = []
    for (const member of list) {
      try {
        const input = this.#publishInput((k) => member.get(k), messageAttributes(member, 'MessageAttributes.entry'))
        successful.push({ Id: member.get('Id'), MessageId: await this.#deliver(topic, input) })
      } catch (error) {
        const e = error instanceof SnsError ? error : new SnsError('InternalError', 'internal error')
        failed.push({
          Id: member.get('Id'),
          Code: e.errorName,
          Message: e.message,
          SenderFault: errorStatus[e.errorName] < 500,
        })
      }
    }
    return toXml({ Successful: successful, Failed: failed })
  }

  /** Matches subscriptions and appends to each subscribed queue; resolves once all appends are durable. */
  async #deliver(topic: string, input: PublishInput): Promise<string> {
    if (!this.#broker.topics.hasTopic(topic)) throw new SnsError('NotFound', 'Topic does not exist')
    const fifo = topic.endsWith('.fifo')
    if (fifo && input.groupId === undefined)
      throw new SnsError(
        'InvalidParameter',
        'Invalid parameter: The MessageGroupId parameter is required for FIFO topics',
      )
    let text = input.message
    if (input.structure === 'json') {
      let parsed: Record<string, unknown>
      try {
        parsed = JSON.parse(input.message) as Record<string, unknown>
      } catch {
        throw new SnsError(
          'InvalidParameter',
          'Invalid parameter: Message Structure - JSON message body failed to parse',
        )
      }
      const chosen = parsed.sqs ?? parsed.default
      if (typeof chosen !== 'string')
        throw new SnsError(
          'InvalidParameter',
          'Invalid parameter: Message Structure - No default entry in JSON message body',
        )
      text = chosen
    }
    const id = randomUUID()
    const filterAttributes: MessageAttributes = {}
    for (const [k, v] of Object.entries(input.attributes))
      filterAttributes[k] =
        v.BinaryValue !== undefined
          ? { DataType: v.DataType, BinaryValue: v.BinaryValue }
          : { DataType: v.DataType, StringValue: v.StringValue ?? '' }
    const matched = this.#broker.topics.match(topic, filterAttributes, text, this.#scratch).slice()
    const envelope = matched.some((s) => !s.raw) ? this.#envelope(topic, id, text, input) : ''
    await Promise.all(
      matched.map(async (sub) => {
        if (sub.destination.kind !== 'queue') return
        const queue = sub.destination.name
        if (this.#broker.getQueue(queue) === undefined) {
          this.#logger.warn({ topic, queue }, 'sns subscription target queue does not exist; message dropped for it')
          return
        }
        const headers: RecordHeader[] = [{ key: SqsHeader.messageId, value: Buffer.from(randomUUID()) }]
        if (sub.raw) attributesToHeaders(input.attributes, headers)
        const message: PublishMessage = { value: sub.raw ? text : envelope, headers }
        if (queue.endsWith('.fifo')) {
          message.groupId = input.groupId ?? 'sns'
          message.dedupId = input.dedupId ?? id
        }
        await this.#broker.sendToQueue(queue, [message])
      }),
    )
    this.published++
    return id
  }

  #envelope(topic: string, id: string, text: string, input: PublishInput): string {
    const attributes: Record<string, { Type: string; Value: string }> = {}
    for (const [k, v] of Object.entries(input.attributes))
      attributes[k] = {
        Type: v.DataType,
        Value: v.BinaryValue !== undefined ? v.BinaryValue.toString('base64') : (v.StringValue ?? ''),
      }
    const envelope: Record<string, unknown> = { Type: 'Notification', MessageId: id, TopicArn: topicArn(topic) }
    if (input.subject !== undefined) envelope.Subject = input.subject
    envelope.Message = text
    envelope.Timestamp = new Date().toISOString()
    if (!topic.endsWith('.fifo')) {
      envelope.SignatureVersion = '1'
      envelope.Signature = 'EXAMPLE'
      envelope.SigningCertURL =
        'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem'
    }
    envelope.UnsubscribeURL = `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn(topic)}`
    if (Object.keys(attributes).length > 0) envelope.MessageAttributes = attributes
    return JSON.stringify(envelope)
  }
}

function scopeOf(value: string): 'MessageAttributes' | 'MessageBody' {
  if (value !== 'MessageAttributes' && value !== 'MessageBody')
    throw new SnsError('InvalidParameter', `Invalid parameter: FilterPolicyScope: ${value}`)
  return value
}

function endpointOf(sub: SnsSubscription): string {
  const d = sub.destination
  return 'name' in d ? `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${d.name}` : ''
}

function paginate(names: string[], token: string | undefined): { page: string[]; next: string | undefined } {
  let start = 0
  if (token !== undefined) {
    const after = Buffer.from(token, 'base64url').toString('utf8')
    start = names.findIndex((n) => n > after)
    if (start < 0) start = names.length
  }
  const page = names.slice(start, start + LIST_PAGE)
  const next =
    start + page.length < names.length ? Buffer.from(page[page.length - 1]!).toString('base64url') : undefined
  return { page, next }
}
