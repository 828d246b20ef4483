// Appending a client-built RecordBatch as received (Kafka produce): structure and size checks, schema
// validation, and idempotent-producer dedup. The Appender calls it for Broker.appendRawBatch.
import { type BatchHeader, decodeBatch, validateBatch } from '../../record/index.js'
import { WharfError } from '../../util/errors.js'
import type { ProducerManager } from '../idempotence/manager.js'
import type { TransactionIndexes } from '../producer-transactions/indexes.js'
import type { PartitionTransactionIndex } from '../producer-transactions/partition-index.js'
import type { SchemaStore } from '../schema/index.js'
import type { Stream } from './stream.js'

export interface RawAppendResult {
  baseOffset: number
  lastOffset: number
  duplicate: boolean
  logStartOffset: number
}

/**
 * Appends one client-built RecordBatch (Kafka produce) as received: validated (structure + CRC), checked
 * against idempotent-producer state, schema-validated when the stream has a subject. A retried batch is
 * answered with its original offsets and not written again.
 */
export async function appendRawBatch(
  stream: Stream,
  partition: number,
  batch: Buffer,
  producers: ProducerManager,
  schemas: SchemaStore,
  transactions: TransactionIndexes,
): Promise<RawAppendResult> {
  const log = stream.partitionLog(partition)
  const limits = { maxBatchBytes: Math.max(stream.config.maxMessageBytes, 64) + 1024 }
  if (batch.length > stream.config.maxMessageBytes + 64) {
    throw new WharfError(
      'MESSAGE_TOO_LARGE',
      `batch of ${batch.length} bytes exceeds ${stream.config.maxMessageBytes} for stream '${stream.name}'`,
    )
  }
  const header: BatchHeader = validateBatch(batch, limits)
  if (header.isControl) throw new WharfError('CORRUPT_RECORD', 'clients may not produce control batches')
  if (stream.config.schemaSubject !== null) {
    const validate = schemas.validator(stream.config.schemaSubject)
    for (const record of decodeBatch(batch, limits).records) {
      const verdict = validate(record.value)
      if (!verdict.ok)
        throw new WharfError('SCHEMA_VIOLATION', `offset delta ${record.offset - header.baseOffset}: ${verdict.reason}`)
    }
  }
  const identity = {
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    recordCount: header.lastOffsetDelta + 1,
  }
  const state = identity.producerId >= 0 ? await producers.stateFor(stream.id, partition, log) : null
  // A transactional batch opens (or continues) its producer's transaction in the partition's index; the
  // coordinator tracked the partition when the transaction added it, so the index exists.
  let index: PartitionTransactionIndex | null = null
  if (header.isTransactional) {
    if (identity.producerId < 0 || !transactions.tracked(stream, partition))
      throw new WharfError('INVALID_ARGUMENT', 'a transactional batch for a partition outside any transaction')
    index = await transactions.of(stream, partition)
  }
  if (state !== null) {
    const check = state.check(identity)
    if (check.kind === 'duplicate') {
      return {
        baseOffset: check.baseOffset,
        lastOffset: check.lastOffset,
        duplicate: true,
        logStartOffset: log.logStartOffset,
      }
    }
    if (check.kind === 'error') throw new WharfError(check.code, check.message)
  }
  // Offsets are assigned synchronously by append(): record the producer state in the same tick.
  const baseOffset = log.nextOffset
  const appended = log.append([batch])
  state?.recordAppend(identity, baseOffset, baseOffset + header.lastOffsetDelta, header.maxTimestamp)
  index?.transactionalBatch(identity.producerId, baseOffset, baseOffset + header.lastOffsetDelta)
  try {
    const result = await appended
    stream.stats.messagesIn += identity.recordCount
    return {
      baseOffset: result.baseOffset,
      lastOffset: result.lastOffset,
      duplicate: false,
      logStartOffset: log.logStartOffset,
    }
  } catch (error) {
    if (state !== null) producers.invalidate(stream.id, partition)
    throw error
  }
}
