// ReceiveMessage: a (long-)polling leased get on the broker queue, each delivery answered with a signed
// receipt handle, its body MD5, and the system and message attributes the request asked for.

import { headerText, type RecordHeader, Reserved } from '../../../broker/message.js'
import { parseDeaths } from '../../../broker/queue/dead-letter.js'
import { deliveryKey } from '../../../broker/queue/deliveries.js'
import type { Delivery } from '../../../broker/queue/types.js'
import { ACCOUNT_ID, queueArn, type SqsQueueRecord } from './attributes.js'
import { md5Hex, md5OfAttributes } from './md5.js'
import { headersToAttributes, messageIdOf, SqsHeader, selectAttributes } from './message-codec.js'
import { intParam, stringList } from './params.js'
import { sequenceNumber } from './send.js'
import { type Input, type Output, queueNameOf, type RequestContext, recordOf, type SqsState } from './state.js'

const FIRST_RECEIVE_MAX = 100_000
/** Lease owner of SQS receives. */
const OWNER = 'sqs'

export async function receiveMessage(s: SqsState, input: Input, context: RequestContext): Promise<Output> {
  const name = queueNameOf(s, input)
  const record = recordOf(s, name)
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
  const deliveries = await s.broker.get(name, {
    owner: OWNER,
    max,
    waitMs: wait * 1000,
    leaseMs: visibility * 1000,
    signal: context.signal,
  })
  if (context.signal.aborted && deliveries.length > 0) {
    // The client went away: return the messages at once instead of hiding them for the visibility timeout.
    for (const d of deliveries) s.broker.deliveries.extend(d, 0)
    return {}
  }
  for (const d of deliveries) {
    s.traffic.delivered(1, d.message.value?.length ?? 0)
    if (d.redelivered) s.traffic.messagesRedelivered++
  }
  if (deliveries.length === 0) return {}
  return { Messages: deliveries.map((d) => toMessage(s, name, record, d, systemNames, attributeNames)) }
}

function toMessage(
  s: SqsState,
  name: string,
  record: SqsQueueRecord,
  d: Delivery,
  systemNames: string[],
  attributeNames: string[],
): Output {
  const body = d.message.value?.toString('utf8') ?? ''
  const handle = s.handles.encode({
    queue: name,
    incarnation: record.created,
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
  const system = systemAttributes(s, name, d, systemNames)
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

/** The body MD5 stored at send (hex); undefined for messages that came from other protocols. */
function storedMd5(headers: readonly RecordHeader[]): string | undefined {
  for (const h of headers) if (h.key === SqsHeader.bodyMd5 && h.value?.length === 16) return h.value.toString('hex')
  return undefined
}

function systemAttributes(s: SqsState, name: string, d: Delivery, names: string[]): Record<string, string> | undefined {
  if (names.length === 0) return undefined
  const all = names.includes('All')
  const want = (n: string) => all || names.includes(n)
  const headers = d.message.headers
  const out: Record<string, string> = {}
  if (want('SenderId')) out.SenderId = ACCOUNT_ID
  if (want('SentTimestamp')) out.SentTimestamp = String(d.message.timestamp)
  if (want('ApproximateReceiveCount')) out.ApproximateReceiveCount = String(d.deliveryCount)
  if (want('ApproximateFirstReceiveTimestamp')) out.ApproximateFirstReceiveTimestamp = String(firstReceiveOf(s, d))
  const group = headerText(headers, Reserved.groupId)
  if (want('MessageGroupId') && group !== undefined) out.MessageGroupId = group
  const dedup = headerText(headers, SqsHeader.dedupId)
  if (want('MessageDeduplicationId') && dedup !== undefined) out.MessageDeduplicationId = dedup
  if (want('SequenceNumber') && name.endsWith('.fifo')) out.SequenceNumber = sequenceNumber(d.offset)
  const trace = headerText(headers, SqsHeader.traceHeader)
  if (want('AWSTraceHeader') && trace !== undefined) out.AWSTraceHeader = trace
  const source = parseDeaths(d.message)[0]?.queue
  if (want('DeadLetterQueueSourceArn') && source !== undefined) out.DeadLetterQueueSourceArn = queueArn(source)
  return out
}

function firstReceiveOf(s: SqsState, d: Delivery): number {
  const key = deliveryKey(d)
  const known = s.firstReceive.get(key)
  if (known !== undefined) return known
  const now = Date.now()
  if (s.firstReceive.size >= FIRST_RECEIVE_MAX) s.firstReceive.delete(s.firstReceive.keys().next().value!)
  s.firstReceive.set(key, now)
  return now
}
