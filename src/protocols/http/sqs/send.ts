// SendMessage and SendMessageBatch: validate each entry (body, attributes, size, delay, FIFO group and
// dedup ids), turn it into a broker message with the SQS headers, and append all of a request's messages
// in one broker call.
import { createHash, randomUUID } from 'node:crypto'
import type { PublishMessage, RecordHeader } from '../../../broker/message.js'
import type { Queue } from '../../../broker/queue/queue.js'
import type { SqsQueueRecord } from './attributes.js'
import { SqsError, toSqsError } from './errors.js'
import { md5Hex, md5OfAttributes } from './md5.js'
import {
  attributesSize,
  attributesToHeaders,
  checkText,
  messageIdOf,
  parseMessageAttributes,
  SqsHeader,
} from './message-codec.js'
import { batchEntries, batchFailure, intParam, optionalId } from './params.js'
import { type Input, type Output, queueNameOf, recordOf, type SqsState } from './state.js'

interface PreparedMessage {
  message: PublishMessage
  md5Body: string
  md5Attributes: string | undefined
  md5System: string | undefined
  id: string
}

interface Sent {
  id: string
  sequence: string | undefined
}

/** FIFO SequenceNumber: the stream offset, as the 20-digit string AWS returns. */
export function sequenceNumber(offset: number): string {
  return String(offset + 1).padStart(20, '0')
}

/** Validates one SendMessage(-BatchEntry) and turns it into a broker message. */
function toPublish(name: string, record: SqsQueueRecord, entry: Input): PreparedMessage {
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
  if (dedupId !== undefined) headers.push({ key: SqsHeader.dedupId, value: Buffer.from(dedupId) })
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
async function send(s: SqsState, name: string, messages: PublishMessage[], ids: string[]): Promise<Sent[]> {
  const queue = s.broker.queue(name)
  const positions = await s.broker.sendToQueue(name, messages)
  let bytes = 0
  for (const m of messages) bytes += Buffer.byteLength(m.value as string | Buffer)
  s.traffic.received(messages.length, bytes)
  const fifo = name.endsWith('.fifo')
  const out: Sent[] = []
  for (let i = 0; i < positions.length; i++) {
    const position = positions[i]!
    let id = ids[i]!
    if (position.duplicate) id = (await storedId(s, queue, position.partition, position.offset)) ?? id
    out.push({ id, sequence: fifo ? sequenceNumber(position.offset) : undefined })
  }
  return out
}

async function storedId(s: SqsState, queue: Queue, partition: number, offset: number): Promise<string | undefined> {
  const { messages } = await s.broker.readMessages(queue.streamName, partition, offset, 1)
  const message = messages.find((m) => m.offset === offset)
  return message === undefined ? undefined : messageIdOf(message)
}

/** The reply fields of one sent message (SendMessage's reply; a SendMessageBatch entry after its Id). */
function sentReply(prepared: PreparedMessage, sent: Sent): Output {
  const out: Output = { MessageId: sent.id, MD5OfMessageBody: prepared.md5Body }
  if (prepared.md5Attributes !== undefined) out.MD5OfMessageAttributes = prepared.md5Attributes
  if (prepared.md5System !== undefined) out.MD5OfMessageSystemAttributes = prepared.md5System
  if (sent.sequence !== undefined) out.SequenceNumber = sent.sequence
  return out
}

export async function sendMessage(s: SqsState, input: Input): Promise<Output> {
  const name = queueNameOf(s, input)
  const prepared = toPublish(name, recordOf(s, name), input)
  const [sent] = await send(s, name, [prepared.message], [prepared.id])
  return sentReply(prepared, sent!)
}

export async function sendMessageBatch(s: SqsState, input: Input): Promise<Output> {
  const name = queueNameOf(s, input)
  const record = recordOf(s, name)
  const entries = batchEntries(input.Entries)
  const successful: Output[] = []
  const failed: Output[] = []
  const ready: Array<{ entryId: string; prepared: PreparedMessage }> = []
  let total = 0
  for (const entry of entries) {
    try {
      const prepared = toPublish(name, record, entry)
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
    const sent = await send(
      s,
      name,
      ready.map((r) => r.prepared.message),
      ready.map((r) => r.prepared.id),
    )
    ready.forEach((r, i) => {
      successful.push({ Id: r.entryId, ...sentReply(r.prepared, sent[i]!) })
    })
  }
  return { Successful: successful, Failed: failed }
}
