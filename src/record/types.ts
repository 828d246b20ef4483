// Shapes and constants of the Kafka RecordBatch v2 format (DefaultRecordBatch.java), shared by the encoder and
// the decoders. Byte layout, offsets from the start of the batch:
//   0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 | 16 magic i8 | 17 crc u32
//   21 attributes i16 | 23 lastOffsetDelta i32 | 27 baseTimestamp i64 | 35 maxTimestamp i64
//   43 producerId i64 | 51 producerEpoch i16 | 53 baseSequence i32 | 57 recordCount i32 | 61 records

export const BATCH_HEADER_BYTES = 61
/** baseOffset(8) + batchLength(4): batchLength counts the bytes after these. */
export const BATCH_OVERHEAD_BYTES = 12

export const OFFSET_BASE_OFFSET = 0
export const OFFSET_BATCH_LENGTH = 8
export const OFFSET_PARTITION_LEADER_EPOCH = 12
export const OFFSET_MAGIC = 16
export const OFFSET_CRC = 17
/** The CRC32C covers everything from the attributes to the end, so the three fields before it can be rewritten. */
export const OFFSET_ATTRIBUTES = 21
export const OFFSET_LAST_OFFSET_DELTA = 23
export const OFFSET_BASE_TIMESTAMP = 27
export const OFFSET_MAX_TIMESTAMP = 35
export const OFFSET_PRODUCER_ID = 43
export const OFFSET_PRODUCER_EPOCH = 51
export const OFFSET_BASE_SEQUENCE = 53
export const OFFSET_RECORD_COUNT = 57

export const MAGIC_V2 = 2

export const ATTRIBUTE_COMPRESSION_MASK = 0x07
export const ATTRIBUTE_TIMESTAMP_TYPE = 0x08
export const ATTRIBUTE_TRANSACTIONAL = 0x10
export const ATTRIBUTE_CONTROL = 0x20

/**
 * Smallest possible record: length varint, attributes, timestampDelta, offsetDelta, key length, value length and
 * header count, one byte each. Used to reject record counts that cannot fit before allocating anything for them.
 */
export const RECORD_MIN_BYTES = 7

export const DEFAULT_MAX_BATCH_BYTES = 8 * 1024 * 1024
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024
export const DEFAULT_MAX_RECORDS = 1_000_000

export enum Compression {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export enum TimestampType {
  CreateTime = 0,
  LogAppendTime = 1,
}

export interface RecordHeader {
  key: string
  value: Buffer | null
}

export interface RecordInput {
  key?: Buffer | null
  value: Buffer | null
  headers?: RecordHeader[]
  /** Milliseconds since the epoch; defaults to Date.now() taken once per batch. */
  timestamp?: number
}

/** A decoded record with absolute offset and timestamp. key/value/header values alias the decoded bytes. */
export interface Record {
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

export interface BatchHeader {
  baseOffset: number
  batchLength: number
  partitionLeaderEpoch: number
  magic: number
  crc: number
  attributes: number
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: number
  producerEpoch: number
  baseSequence: number
  recordCount: number
  compression: Compression
  timestampType: TimestampType
  isTransactional: boolean
  isControl: boolean
}

export interface EncodeOptions {
  baseOffset?: number
  compression?: Compression
  timestampType?: TimestampType
  producerId?: number
  producerEpoch?: number
  baseSequence?: number
  isTransactional?: boolean
  isControl?: boolean
  partitionLeaderEpoch?: number
  /** offsetDeltas[i] for record i (default i); used by compaction to keep original offsets with gaps */
  offsetDeltas?: number[]
  /** lastOffsetDelta to write (default last offsetDelta); compaction keeps the original one */
  lastOffsetDelta?: number
}

export interface DecodeLimits {
  /** default 8 MiB; a bigger batch is RECORD_TOO_LARGE */
  maxBatchBytes?: number
  /** default 64 MiB; decompression bomb guard → RECORD_TOO_LARGE */
  maxDecompressedBytes?: number
  /** default 1_000_000; more records → RECORD_TOO_LARGE */
  maxRecords?: number
  /** default true */
  verifyCrc?: boolean
}
