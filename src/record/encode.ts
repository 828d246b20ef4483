// RecordBatch v2 encoder. Two passes: sizes first, then one Buffer written front to back (plus one more for the
// compressed form), so encoding costs no allocation per record beyond what the caller's strings imply.
import { assert } from '../util/assert.js'
import { compress } from './compression.js'
import { crc32c } from './crc.js'
import { invalidArgument, unsupportedCompression } from './errors.js'
import {
  ATTRIBUTE_COMPRESSION_MASK,
  ATTRIBUTE_CONTROL,
  ATTRIBUTE_TIMESTAMP_TYPE,
  ATTRIBUTE_TRANSACTIONAL,
  BATCH_HEADER_BYTES,
  BATCH_OVERHEAD_BYTES,
  Compression,
  type EncodeOptions,
  MAGIC_V2,
  OFFSET_ATTRIBUTES,
  OFFSET_CRC,
  type RecordInput,
  TimestampType,
} from './types.js'
import { sizeOfVarint, sizeOfVarlong, VARLONG_MAX_ABS, writeInt64, writeVarint, writeVarlong } from './varint.js'

const INT32_MAX = 2147483647
/** Kafka's RecordBatch.NO_PRODUCER_ID / NO_PRODUCER_EPOCH / NO_SEQUENCE / NO_PARTITION_LEADER_EPOCH. */
const NONE = -1

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw invalidArgument(`${name} ${value} is out of range`)
  return value
}

function bytesSize(value: Buffer | null | undefined): number {
  return value == null ? 1 : sizeOfVarint(value.length) + value.length
}

function writeBytes(buf: Buffer, pos: number, value: Buffer | null | undefined): number {
  if (value == null) return writeVarint(buf, pos, -1)
  pos = writeVarint(buf, pos, value.length)
  return pos + value.copy(buf, pos)
}

/** Offset deltas from the options, checked: one per record, strictly increasing, non-negative int32. */
function resolveOffsetDeltas(count: number, options: EncodeOptions): number[] | undefined {
  const deltas = options.offsetDeltas
  if (deltas === undefined) return undefined
  if (deltas.length !== count) throw invalidArgument(`offsetDeltas has ${deltas.length} entries for ${count} records`)
  let previous = -1
  for (const delta of deltas) {
    checkInteger('offsetDelta', delta, previous + 1, INT32_MAX)
    previous = delta
  }
  return deltas
}

export function encodeBatch(records: RecordInput[], options: EncodeOptions = {}): Buffer {
  const count = records.length
  const codec = options.compression ?? Compression.None
  if (!Number.isInteger(codec) || codec < Compression.None || codec > Compression.Zstd) {
    throw unsupportedCompression(codec)
  }
  const deltas = resolveOffsetDeltas(count, options)
  const lastDelta = count === 0 ? 0 : (deltas?.[count - 1] ?? count - 1)
  const lastOffsetDelta = checkInteger('lastOffsetDelta', options.lastOffsetDelta ?? lastDelta, lastDelta, INT32_MAX)
  const baseOffset = checkInteger('baseOffset', options.baseOffset ?? 0, 0, Number.MAX_SAFE_INTEGER - lastOffsetDelta)

  // Timestamps: the first record's is the base (as Java's producer does); deltas may be negative.
  const now = Date.now()
  const baseTimestamp = count === 0 ? NONE : (records[0]!.timestamp ?? now)
  let maxTimestamp = baseTimestamp
  for (const record of records) {
    const timestamp = record.timestamp ?? now
    if (!Number.isSafeInteger(timestamp) || Math.abs(timestamp - baseTimestamp) > VARLONG_MAX_ABS) {
      throw invalidArgument(`record timestamp ${timestamp} is out of range`)
    }
    if (timestamp > maxTimestamp) maxTimestamp = timestamp
  }

  // Pass 1: sizes. bodySizes[i] is record i without its own length varint.
  const bodySizes = new Int32Array(count)
  let recordsBytes = 0
  for (let index = 0; index < count; index++) {
    const record = records[index]!
    let size = 1 // attributes
    size += sizeOfVarlong((record.timestamp ?? now) - baseTimestamp)
    size += sizeOfVarint(deltas?.[index] ?? index)
    size += bytesSize(record.key) + bytesSize(record.value)
    const headers = record.headers
    size += sizeOfVarint(headers?.length ?? 0)
    if (headers !== undefined) {
      for (const header of headers) {
        const keyBytes = Buffer.byteLength(header.key, 'utf8')
        size += sizeOfVarint(keyBytes) + keyBytes + bytesSize(header.value)
      }
    }
    if (size > INT32_MAX - 5) throw invalidArgument('record is too large to encode')
    bodySizes[index] = size
    recordsBytes += sizeOfVarint(size) + size
  }

  // Pass 2: records, straight into the batch when uncompressed.
  const plain = codec === Compression.None
  const recordsBuf = Buffer.allocUnsafe(plain ? BATCH_HEADER_BYTES + recordsBytes : recordsBytes)
  let pos = plain ? BATCH_HEADER_BYTES : 0
  for (let index = 0; index < count; index++) {
    const record = records[index]!
    pos = writeVarint(recordsBuf, pos, bodySizes[index]!)
    recordsBuf[pos++] = 0 // record attributes: unused in v2
    pos = writeVarlong(recordsBuf, pos, (record.timestamp ?? now) - baseTimestamp)
    pos = writeVarint(recordsBuf, pos, deltas?.[index] ?? index)
    pos = writeBytes(recordsBuf, pos, record.key)
    pos = writeBytes(recordsBuf, pos, record.value)
    const headers = record.headers
    pos = writeVarint(recordsBuf, pos, headers?.length ?? 0)
    if (headers !== undefined) {
      for (const header of headers) {
        pos = writeVarint(recordsBuf, pos, Buffer.byteLength(header.key, 'utf8'))
        pos += recordsBuf.write(header.key, pos, 'utf8')
        pos = writeBytes(recordsBuf, pos, header.value)
      }
    }
  }
  assert(pos === recordsBuf.length, `encodeBatch sized ${recordsBuf.length} bytes but wrote ${pos}`)

  let batch = recordsBuf
  if (!plain) {
    const compressed = compress(codec, recordsBuf)
    batch = Buffer.allocUnsafe(BATCH_HEADER_BYTES + compressed.length)
    compressed.copy(batch, BATCH_HEADER_BYTES)
  }
  if (batch.length - BATCH_OVERHEAD_BYTES > INT32_MAX) throw invalidArgument('batch is too large to encode')

  let attributes = codec & ATTRIBUTE_COMPRESSION_MASK
  if (options.timestampType === TimestampType.LogAppendTime) attributes |= ATTRIBUTE_TIMESTAMP_TYPE
  if (options.isTransactional === true) attributes |= ATTRIBUTE_TRANSACTIONAL
  if (options.isControl === true) attributes |= ATTRIBUTE_CONTROL

  writeInt64(batch, 0, baseOffset)
  batch.writeInt32BE(batch.length - BATCH_OVERHEAD_BYTES, 8)
  batch.writeInt32BE(checkInteger('partitionLeaderEpoch', options.partitionLeaderEpoch ?? NONE, -1, INT32_MAX), 12)
  batch.writeInt8(MAGIC_V2, 16)
  batch.writeInt16BE(attributes, OFFSET_ATTRIBUTES)
  batch.writeInt32BE(lastOffsetDelta, 23)
  writeInt64(batch, 27, baseTimestamp)
  writeInt64(batch, 35, maxTimestamp)
  writeInt64(batch, 43, checkInteger('producerId', options.producerId ?? NONE, -1, Number.MAX_SAFE_INTEGER))
  batch.writeInt16BE(checkInteger('producerEpoch', options.producerEpoch ?? NONE, -1, 32767), 51)
  batch.writeInt32BE(checkInteger('baseSequence', options.baseSequence ?? NONE, -1, INT32_MAX), 53)
  batch.writeInt32BE(count, 57)
  batch.writeUInt32BE(crc32c(batch.subarray(OFFSET_ATTRIBUTES)), OFFSET_CRC)
  return batch
}
