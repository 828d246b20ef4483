// The read_committed part of Fetch and ListOffsets (isolation level 1): a reader stops at the last stable
// offset (the first offset of the earliest open transaction) and gets the aborted transactions of what it
// read, whose batches the client drops itself (every Kafka client does; control batches too). A
// read_uncommitted reader reads to the high watermark and is told the LSO all the same.
import type { Broker } from '../../../broker/broker.js'
import { batchSize, readBatchHeader } from '../../../record/index.js'
import type { ReadResult } from '../../../storage/api.js'

export const READ_COMMITTED = 1

export interface StableLimit {
  lastStableOffset: number
  /** Where this reader stops: the LSO for read_committed, else the high watermark. */
  limit: number
}

export async function stableLimit(
  broker: Broker,
  topic: string,
  partition: number,
  isolationLevel: number,
): Promise<StableLimit> {
  const stream = broker.getStream(topic)!
  const hw = stream.partitionLog(partition).highWatermark
  const view = await broker.producerTransactions.stableView(stream, partition, 0, 0)
  return {
    lastStableOffset: view.lastStableOffset,
    limit: isolationLevel === READ_COMMITTED ? view.lastStableOffset : hw,
  }
}

/**
 * Cuts a read at the reader's limit (whole batches: a transaction's batches never straddle the LSO, which is
 * a batch's base offset) and lists the aborted transactions of what remains (read_committed only).
 */
export async function stableResult(
  broker: Broker,
  topic: string,
  partition: number,
  fetchOffset: number,
  limit: StableLimit,
  isolationLevel: number,
  result: ReadResult,
): Promise<{
  chunks: Buffer[]
  bytes: number
  nextOffset: number
  abortedTransactions: Array<{ producerId: number; firstOffset: number }>
}> {
  let { chunks, bytes, nextOffset } = result
  if (nextOffset > limit.limit) {
    const kept: Buffer[] = []
    bytes = 0
    nextOffset = fetchOffset
    cut: for (const chunk of chunks) {
      let position = 0
      while (position < chunk.length) {
        const size = batchSize(chunk, position)
        if (size < 0 || position + size > chunk.length) break
        const h = readBatchHeader(chunk, position)
        if (h.baseOffset >= limit.limit) {
          if (position > 0) kept.push(chunk.subarray(0, position))
          bytes += position
          break cut
        }
        nextOffset = h.baseOffset + h.lastOffsetDelta + 1
        position += size
      }
      kept.push(chunk)
      bytes += chunk.length
    }
    chunks = kept
  }
  if (isolationLevel !== READ_COMMITTED || nextOffset <= fetchOffset)
    return { chunks, bytes, nextOffset, abortedTransactions: [] }
  const stream = broker.getStream(topic)!
  const view = await broker.producerTransactions.stableView(stream, partition, fetchOffset, nextOffset)
  return { chunks, bytes, nextOffset, abortedTransactions: view.aborted }
}
