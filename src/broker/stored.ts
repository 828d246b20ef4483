// Decoding stored RecordBatch chunks into StoredMessages: shared by log reads (REST browse, AMQP stream
// consumers, broker-assigned groups) and queue read-ahead.
import { decodeBatch, splitBatches } from '../record/index.js'
import type { StoredMessage } from './types.js'

/**
 * Decodes whole stored batches, skipping control batches, records below `fromOffset` (the first batch may
 * start before it) and records `skip` rejects (e.g. already acked).
 */
export function decodeStored(
  streamName: string,
  partition: number,
  chunks: readonly Buffer[],
  fromOffset: number,
  skip?: (offset: number) => boolean,
): StoredMessage[] {
  const out: StoredMessage[] = []
  for (const chunk of chunks) {
    for (const batch of splitBatches(chunk)) {
      const { header, records } = decodeBatch(batch, { verifyCrc: false })
      if (header.isControl) continue
      for (const r of records) {
        if (r.offset < fromOffset || skip?.(r.offset)) continue
        out.push({
          stream: streamName,
          partition,
          offset: r.offset,
          timestamp: r.timestamp,
          key: r.key,
          value: r.value,
          headers: r.headers,
        })
      }
    }
  }
  return out
}
