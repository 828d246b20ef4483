// Batch framing: the fixed 61-byte header, batch sizes, and splitting or iterating concatenated batches.
// None of these look at the records or the CRC; validateBatch/decodeBatch (decode.ts) do.
import { assert } from '../util/assert.js'
import { crc32c } from './crc.js'
import { corrupt, tooLarge } from './errors.js'
import {
  ATTRIBUTE_COMPRESSION_MASK,
  ATTRIBUTE_CONTROL,
  ATTRIBUTE_TIMESTAMP_TYPE,
  ATTRIBUTE_TRANSACTIONAL,
  BATCH_HEADER_BYTES,
  BATCH_OVERHEAD_BYTES,
  type BatchHeader,
  type Compression,
  DEFAULT_MAX_BATCH_BYTES,
  type DecodeLimits,
  MAGIC_V2,
  OFFSET_ATTRIBUTES,
  OFFSET_BASE_SEQUENCE,
  OFFSET_BASE_TIMESTAMP,
  OFFSET_BATCH_LENGTH,
  OFFSET_CRC,
  OFFSET_LAST_OFFSET_DELTA,
  OFFSET_MAGIC,
  OFFSET_MAX_TIMESTAMP,
  OFFSET_PARTITION_LEADER_EPOCH,
  OFFSET_PRODUCER_EPOCH,
  OFFSET_PRODUCER_ID,
  OFFSET_RECORD_COUNT,
  TimestampType,
} from './types.js'
import { readInt64, writeInt64 } from './varint.js'

/** Smallest legal batchLength: a header with no records. */
const MIN_BATCH_LENGTH = BATCH_HEADER_BYTES - BATCH_OVERHEAD_BYTES

/**
 * Decodes the fixed header at position. Bounds-checked (CORRUPT_RECORD if fewer than 61 bytes, or if an int64 is
 * beyond the safe integer range); does not check the magic, the CRC, or that the whole batch is present.
 */
export function readBatchHeader(buf: Buffer, position = 0): BatchHeader {
  if (position < 0 || buf.length - position < BATCH_HEADER_BYTES) {
    throw corrupt(`batch header needs ${BATCH_HEADER_BYTES} bytes, ${Math.max(0, buf.length - position)} available`)
  }
  const attributes = buf.readInt16BE(position + OFFSET_ATTRIBUTES)
  return {
    baseOffset: readInt64(buf, position),
    batchLength: buf.readInt32BE(position + OFFSET_BATCH_LENGTH),
    partitionLeaderEpoch: buf.readInt32BE(position + OFFSET_PARTITION_LEADER_EPOCH),
    magic: buf.readInt8(position + OFFSET_MAGIC),
    crc: buf.readUInt32BE(position + OFFSET_CRC),
    attributes,
    lastOffsetDelta: buf.readInt32BE(position + OFFSET_LAST_OFFSET_DELTA),
    baseTimestamp: readInt64(buf, position + OFFSET_BASE_TIMESTAMP),
    maxTimestamp: readInt64(buf, position + OFFSET_MAX_TIMESTAMP),
    producerId: readInt64(buf, position + OFFSET_PRODUCER_ID),
    producerEpoch: buf.readInt16BE(position + OFFSET_PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(position + OFFSET_BASE_SEQUENCE),
    recordCount: buf.readInt32BE(position + OFFSET_RECORD_COUNT),
    compression: (attributes & ATTRIBUTE_COMPRESSION_MASK) as Compression,
    timestampType:
      (attributes & ATTRIBUTE_TIMESTAMP_TYPE) !== 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    isTransactional: (attributes & ATTRIBUTE_TRANSACTIONAL) !== 0,
    isControl: (attributes & ATTRIBUTE_CONTROL) !== 0,
  }
}

/**
 * Total bytes of the batch at position (12 + batchLength), or -1 if fewer than 12 bytes are available to tell.
 * A batchLength too small to hold a header is CORRUPT_RECORD, so a caller stepping by the result always advances.
 */
export function batchSize(buf: Buffer, position = 0): number {
  if (position < 0 || buf.length - position < BATCH_OVERHEAD_BYTES) return -1
  const batchLength = buf.readInt32BE(position + OFFSET_BATCH_LENGTH)
  if (batchLength < MIN_BATCH_LENGTH) throw corrupt(`batchLength ${batchLength} at ${position} is too small`)
  return BATCH_OVERHEAD_BYTES + batchLength
}

/**
 * Splits a concatenation of whole batches (a Kafka produce request's records field) into subarrays. Checks framing
 * only: batch lengths, maxBatchBytes and magic; any partial batch or trailing garbage is CORRUPT_RECORD. Each part
 * still needs validateBatch (CRC, records).
 */
export function splitBatches(buf: Buffer, limits?: DecodeLimits): Buffer[] {
  const maxBatchBytes = limits?.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES
  const batches: Buffer[] = []
  let position = 0
  while (position < buf.length) {
    const size = batchSize(buf, position)
    if (size < 0) throw corrupt(`${buf.length - position} trailing bytes after the last batch`)
    if (size > maxBatchBytes) throw tooLarge(`batch of ${size} bytes exceeds the limit ${maxBatchBytes}`)
    if (size > buf.length - position)
      throw corrupt(`partial batch: ${size} bytes declared, ${buf.length - position} present`)
    if (buf[position + OFFSET_MAGIC] !== MAGIC_V2)
      throw corrupt(`batch at ${position} has magic ${buf[position + OFFSET_MAGIC]}`)
    batches.push(buf.subarray(position, position + size))
    position += size
  }
  return batches
}

/**
 * Walks stored segment bytes batch by batch. Yields whole batches with a plausible header (sane length, magic 2);
 * stops silently at the first partial or implausible one, whose position the caller can compare with buf.length
 * to find a torn tail. Does not check CRCs: recovery runs validateBatch on each yielded batch.
 */
export function* iterateBatches(buf: Buffer): Generator<{ position: number; size: number }> {
  let position = 0
  while (buf.length - position >= BATCH_HEADER_BYTES) {
    const batchLength = buf.readInt32BE(position + OFFSET_BATCH_LENGTH)
    if (batchLength < MIN_BATCH_LENGTH || batchLength > buf.length - position - BATCH_OVERHEAD_BYTES) return
    if (buf[position + OFFSET_MAGIC] !== MAGIC_V2) return
    const size = BATCH_OVERHEAD_BYTES + batchLength
    yield { position, size }
    position += size
  }
}

/** Rewrites baseOffset in place; it lies outside the CRC, so the batch stays valid. */
export function setBaseOffset(buf: Buffer, baseOffset: number, position = 0): void {
  assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, `baseOffset ${baseOffset} is not a valid offset`)
  assert(position >= 0 && buf.length - position >= BATCH_OVERHEAD_BYTES, 'setBaseOffset outside the buffer')
  writeInt64(buf, position, baseOffset)
}

/** Rewrites partitionLeaderEpoch in place (outside the CRC), as the leader does on append. */
export function setPartitionLeaderEpoch(buf: Buffer, epoch: number, position = 0): void {
  assert(Number.isInteger(epoch) && epoch >= -1 && epoch <= 0x7fffffff, `partitionLeaderEpoch ${epoch} is invalid`)
  assert(position >= 0 && buf.length - position >= BATCH_HEADER_BYTES, 'setPartitionLeaderEpoch outside the buffer')
  buf.writeInt32BE(epoch, position + OFFSET_PARTITION_LEADER_EPOCH)
}

/**
 * Marks the whole batch at position as LogAppendTime with the given append time (Kafka's LogValidator for topics
 * with message.timestamp.type=LogAppendTime): sets attribute bit 3, writes maxTimestamp, and reseals the CRC.
 * Records keep their deltas; decoders give every record the batch's maxTimestamp.
 */
export function setLogAppendTime(buf: Buffer, timestamp: number, position = 0): void {
  assert(Number.isSafeInteger(timestamp), `timestamp ${timestamp} is not a safe integer`)
  const size = batchSize(buf, position)
  assert(size >= BATCH_HEADER_BYTES && buf.length - position >= size, 'setLogAppendTime needs the whole batch')
  const attributes = buf.readInt16BE(position + OFFSET_ATTRIBUTES)
  buf.writeInt16BE(attributes | ATTRIBUTE_TIMESTAMP_TYPE, position + OFFSET_ATTRIBUTES)
  writeInt64(buf, position + OFFSET_MAX_TIMESTAMP, timestamp)
  buf.writeUInt32BE(crc32c(buf.subarray(position + OFFSET_ATTRIBUTES, position + size)), position + OFFSET_CRC)
}
