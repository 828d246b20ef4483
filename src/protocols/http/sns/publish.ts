// SNS Publish and PublishBatch: validate the input, match the topic's subscriptions (filter policies by
// attributes or body), and append to each subscribed SQS queue either the raw message (attributes become
// SQS message attributes) or the SNS JSON envelope; a publish answers once every append is durable.
import { randomUUID } from 'node:crypto'
import type { Broker } from '../../../broker/broker.js'
import type { PublishMessage, RecordHeader } from '../../../broker/message.js'
import type { MessageAttributes } from '../../../broker/routing/match/index.js'
import type { SnsSubscription } from '../../../broker/topics/topics.js'
import type { Logger } from '../../../util/logger.js'
import type { ProtocolTraffic } from '../../common/metrics.js'
import { REGION } from '../sqs/attributes.js'
import type { SqsAttributeValue } from '../sqs/md5.js'
import { attributesToHeaders, parseMessageAttributes, SqsHeader } from '../sqs/message-codec.js'
import { SnsError, toSnsError } from './errors.js'
import { topicArn, topicFromArn } from './names.js'
import { members, toXml, type XmlValue } from './query.js'

const MESSAGE_BYTES_MAX = 256 * 1024
const PUBLISH_BATCH_MAX = 10

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

export class SnsPublisher {
  readonly #broker: Broker
  readonly #logger: Logger
  readonly #scratch: SnsSubscription[] = []
  /** Messages published (`wharf_messages_received_total{protocol="sns"}`). */
  readonly #traffic: ProtocolTraffic

  constructor(broker: Broker, logger: Logger, traffic: ProtocolTraffic) {
    this.#broker = broker
    this.#logger = logger
    this.#traffic = traffic
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
        const e = toSnsError(error) ?? new SnsError('InternalError', 'internal error')
        failed.push({
          Id: member.get('Id'),
          Code: e.errorName,
          Message: e.message,
          SenderFault: e.status < 500,
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
    this.#traffic.received(1, Buffer.byteLength(text))
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
