// src/record: Kafka RecordBatch v2 bytes — encode, decode, validate, CRC32C and compression. No I/O, no state.
export { canCompress, compress, decompress } from './compression.js'
export { crc32c } from './crc.js'
export { decodeBatch, validateBatch } from './decode.js'
export { encodeBatch } from './encode.js'
export {
  batchSize,
  iterateBatches,
  readBatchHeader,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  splitBatches,
} from './header.js'
export {
  BATCH_HEADER_BYTES,
  BATCH_OVERHEAD_BYTES,
  type BatchHeader,
  Compression,
  type DecodeLimits,
  type EncodeOptions,
  type Record,
  type RecordHeader,
  type RecordInput,
  TimestampType,
} from './types.js'
