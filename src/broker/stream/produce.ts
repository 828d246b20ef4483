// The general produce path (several messages, dedup ids, schema validation): messages grouped per
// partition, one batch and one storage append per partition; schema violations reject the whole call before
// anything is appended; duplicate dedup ids (earlier, or repeated within the call) get the original position.
import { WharfError } from '../../util/errors.js'
import type { DedupWindow } from '../dedup/window.js'
import type { PublishMessage } from '../message.js'
import type { ValidationResult } from '../schema/index.js'
import { Stream } from './stream.js'

/** Where a produced message landed. */
export interface MessagePosition {
  partition: number
  /** -1 (partition too) when a full queue with the drop-new overflow dropped the message. */
  offset: number
  /** True when the message was a duplicate (dedup id or idempotent retry) and was not written again. */
  duplicate: boolean
}

export async function produceMany(
  stream: Stream,
  messages: PublishMessage[],
  explicitPartition: number | undefined,
  now: number,
  window: DedupWindow | null,
  validate: ((value: Buffer | null) => ValidationResult) | null,
): Promise<MessagePosition[]> {
  const positions: MessagePosition[] = new Array(messages.length)
  const groups = new Map<number, { records: ReturnType<Stream['toRecord']>[]; indexes: number[] }>()
  const seenInCall = new Map<string, number>()
  const repeats: Array<[index: number, first: number]> = []
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!
    if (window !== null && message.dedupId !== undefined) {
      const earlier = window.check(message.dedupId, now)
      if (earlier.duplicate) {
        positions[i] = { partition: earlier.partition, offset: earlier.offset, duplicate: true }
        continue
      }
      const sameCall = seenInCall.get(message.dedupId)
      if (sameCall !== undefined) {
        repeats.push([i, sameCall])
        continue
      }
      seenInCall.set(message.dedupId, i)
    }
    const record = stream.toRecord(message, now)
    if (validate !== null) {
      const verdict = validate(record.value)
      if (!verdict.ok)
        throw new WharfError('SCHEMA_VIOLATION', `record ${i} of stream '${stream.name}': ${verdict.reason}`)
    }
    const partition = explicitPartition ?? stream.choosePartition(message, record.key)
    stream.partitionLog(partition)
    let group = groups.get(partition)
    if (group === undefined) {
      group = { records: [], indexes: [] }
      groups.set(partition, group)
    }
    group.records.push(record)
    group.indexes.push(i)
  }
  await Promise.all(
    [...groups].map(async ([partition, { records, indexes }]) => {
      const result = await stream.partitions[partition]!.append([Stream.encode(records)])
      stream.stats.messagesIn += records.length
      indexes.forEach((messageIndex, j) => {
        positions[messageIndex] = { partition, offset: result.baseOffset + j, duplicate: false }
        const id = messages[messageIndex]!.dedupId
        if (window !== null && id !== undefined) window.record(id, partition, result.baseOffset + j, now)
      })
      if (stream.queues.size > 0) {
        const stored = stream.stored(partition, result.baseOffset, records)
        for (const queue of stream.queues) queue.offerTail(partition, stored)
      }
    }),
  )
  for (const [index, first] of repeats) positions[index] = { ...positions[first]!, duplicate: true }
  return positions
}
