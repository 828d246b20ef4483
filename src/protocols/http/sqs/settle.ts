// Settling by receipt handle: DeleteMessage(Batch) acks the lease, ChangeMessageVisibility(Batch) extends
// or shortens it, through whichever broker of a cluster the request reached. A handle is live only for the
// queue incarnation that issued it, and only while its lease is (the queue's server checks the lease id).
import { deliveryKey } from '../../../broker/queue/deliveries.js'
import type { SqsQueueRecord } from './attributes.js'
import { SqsError, toSqsError } from './errors.js'
import type { ReceiptHandle } from './message-codec.js'
import { batchEntries, batchFailure, intParam } from './params.js'
import { type Input, mapError, type Output, queueNameOf, recordOf, type SqsState } from './state.js'

/** Decodes a handle (ReceiptHandleIsInvalid if forged) and checks that it was issued for `name`. */
function handleFor(s: SqsState, name: string, handleText: unknown): ReceiptHandle {
  const handle = s.handles.decode(handleText)
  if (handle.queue !== name)
    throw new SqsError('ReceiptHandleIsInvalid', 'The receipt handle belongs to another queue.')
  return handle
}

/** Whether the handle's lease can still exist: the queue was not deleted and created again since. */
function isLive(record: SqsQueueRecord, handle: ReceiptHandle): boolean {
  return handle.incarnation === record.created
}

/**
 * Validates a handle and issues its ack without awaiting it (the broker coalesces the acks of one tick
 * into one cursor-store write, so a batch's acks are issued together and awaited once). Undefined for a
 * stale handle (lease expired, message received again, broker restarted): it deletes nothing, without
 * error, as AWS does.
 */
function issueDelete(
  s: SqsState,
  name: string,
  record: SqsQueueRecord,
  handleText: unknown,
): Promise<void> | undefined {
  const handle = handleFor(s, name, handleText)
  if (!isLive(record, handle)) return undefined
  s.firstReceive.delete(deliveryKey(handle))
  return s.broker.deliveries.ack(handle).then((acked) => {
    if (acked) s.traffic.messagesAcknowledged++
  })
}

export async function deleteMessage(s: SqsState, input: Input): Promise<Output> {
  const name = queueNameOf(s, input)
  if (input.ReceiptHandle === undefined)
    throw new SqsError('MissingParameter', 'The request must contain the parameter ReceiptHandle.')
  await issueDelete(s, name, recordOf(s, name), input.ReceiptHandle)
  return {}
}

export async function deleteMessageBatch(s: SqsState, input: Input): Promise<Output> {
  const name = queueNameOf(s, input)
  const record = recordOf(s, name)
  const entries = batchEntries(input.Entries)
  const successful: Output[] = []
  const failed: Output[] = []
  const acks: Promise<void>[] = []
  for (const entry of entries) {
    const id = entry.Id as string
    try {
      // An ack that fails to become durable fails its entry; the others still succeed.
      const ack = issueDelete(s, name, record, entry.ReceiptHandle)
      if (ack === undefined) successful.push({ Id: id })
      else
        acks.push(
          ack.then(
            () => void successful.push({ Id: id }),
            (error) => void failed.push(batchFailure(id, mapError(s, error, 'DeleteMessageBatch'))),
          ),
        )
    } catch (error) {
      failed.push(batchFailure(id, toSqsError(error)))
    }
  }
  await Promise.all(acks)
  return { Successful: successful, Failed: failed }
}

function changeOne(s: SqsState, name: string, handleText: unknown, timeout: unknown): void {
  const seconds = intParam(timeout, 'VisibilityTimeout', 0, 43200)
  const handle = handleFor(s, name, handleText)
  const record = recordOf(s, name)
  if (!isLive(record, handle) || !s.broker.deliveries.extend(handle, seconds * 1000)) {
    throw new SqsError(
      'MessageNotInflight',
      'Message does not exist or is not available for visibility timeout change.',
    )
  }
  // Visibility 0 hands the message back at once: the SQS way to requeue.
  if (seconds === 0) s.traffic.messagesRequeued++
}

export function changeVisibility(s: SqsState, input: Input): Output {
  const name = queueNameOf(s, input)
  changeOne(s, name, input.ReceiptHandle, input.VisibilityTimeout)
  return {}
}

export function changeVisibilityBatch(s: SqsState, input: Input): Output {
  const name = queueNameOf(s, input)
  const successful: Output[] = []
  const failed: Output[] = []
  for (const entry of batchEntries(input.Entries)) {
    try {
      changeOne(s, name, entry.ReceiptHandle, entry.VisibilityTimeout)
      successful.push({ Id: entry.Id })
    } catch (error) {
      failed.push(batchFailure(entry.Id as string, toSqsError(error)))
    }
  }
  return { Successful: successful, Failed: failed }
}
