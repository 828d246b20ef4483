// Validation and offset assignment shared by every PartitionLog implementation (disk and memory): an
// append takes whole RecordBatch v2 buffers and gets dense offsets in call order.
import { decodeBatch, type Record, splitBatches } from '../../../record/index.js'
import { WharfError } from '../../../util/errors.js'
import { BATCH, type BatchInfo, readInt64, writeInt64 } from './segment.js'

/**
 * Checks each batch's framing and size and assigns offsets from `nextOffset` on, rewriting baseOffset and
 * partitionLeaderEpoch in place (both are outside the CRC). Throws before touching anything on a bad batch.
 */
export function assignOffsets(batches: Buffer[], nextOffset: number, maxBatchBytes: number): BatchInfo[] {
  if (batches.length === 0) throw new WharfError('INVALID_ARGUMENT', 'append needs at least one batch')
  const infos: BatchInfo[] = []
  let offset = nextOffset
  for (const batch of batches) {
    const size = batch.length
    if (
      size < BATCH.headerBytes ||
      batch[BATCH.magic] !== 2 ||
      size !== BATCH.lengthPrefixBytes + batch.readInt32BE(BATCH.batchLength)
    ) {
      throw new WharfError('CORRUPT_RECORD', 'append expects whole RecordBatch v2 buffers')
    }
    if (size > maxBatchBytes)
      throw new WharfError('RECORD_TOO_LARGE', `batch of ${size} bytes exceeds ${maxBatchBytes}`)
    const lastOffsetDelta = batch.readInt32BE(BATCH.lastOffsetDelta)
    if (lastOffsetDelta < 0) throw new WharfError('CORRUPT_RECORD', 'negative lastOffsetDelta')
    const maxTimestamp = readInt64(batch, BATCH.maxTimestamp)
    infos.push({ position: -1, size, baseOffset: offset, lastOffset: offset + lastOffsetDelta, maxTimestamp })
    offset += lastOffsetDelta + 1
  }
  for (let i = 0; i < batches.length; i++) {
    writeInt64(batches[i]!, infos[i]!.baseOffset, BATCH.baseOffset)
    batches[i]!.writeInt32BE(0, BATCH.leaderEpoch)
  }
  return infos
}

/** Records at or after fromOffset in whole stored batches, control batches skipped. */
export function decodeRecords(chunks: readonly Buffer[], fromOffset: number): Record[] {
  const out: Record[] = []
  for (const chunk of chunks) {
    for (const batch of splitBatches(chunk)) {
      const { header, records } = decodeBatch(batch, { verifyCrc: false })
      if (header.isControl) continue
      for (const r of records) if (r.offset >= fromOffset) out.push(r)
    }
  }
  return out
}
