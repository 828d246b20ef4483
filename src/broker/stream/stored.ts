// Log records as StoredMessages: shared by log reads (REST browse, AMQP stream consumers, broker-assigned
// groups), queue read-ahead, cold redelivery and dedup rebuild. Decoding itself is the log's
// (PartitionLog.readRecords), so a memory log's records are never encoded just to be decoded again.
import type { Record } from '../../record/index.js'
import type { PartitionLog } from '../../storage/api.js'
import type { StoredMessage } from '../message.js'

/** The records of one partition as StoredMessages, minus those `skip` rejects (e.g. already acked). */
export function storedOf(
  streamName: string,
  partition: number,
  records: readonly Record[],
  skip?: (offset: number) => boolean,
): StoredMessage[] {
  const out: StoredMessage[] = []
  for (const r of records) {
    if (skip?.(r.offset)) continue
    const { offset, timestamp, key, value, headers } = r
    out.push({ stream: streamName, partition, offset, timestamp, key, value, headers })
  }
  return out
}

/** Decoded messages of a partition from an offset (at least the log start), up to about maxBytes. */
export async function readStored(
  streamName: string,
  partition: number,
  log: PartitionLog,
  offset: number,
  maxBytes: number,
): Promise<{ messages: StoredMessage[]; nextOffset: number }> {
  const { records, nextOffset } = await log.readRecords(Math.max(offset, log.logStartOffset), maxBytes)
  return { messages: storedOf(streamName, partition, records), nextOffset }
}
