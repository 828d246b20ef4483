// Validating RecordBatch v2 decoder for untrusted bytes. Every malformed input is a WharfError
// (CORRUPT_RECORD, RECORD_TOO_LARGE, UNSUPPORTED_COMPRESSION); every length is checked against the bytes that
// remain before anything is allocated for it. Decoded keys/values are subarrays of the input (or of the
// decompressed records), never copies.
import { decompress } from './compression.js'
import { crc32c } from './crc.js'
import { corrupt, tooLarge, unsupportedCompression } from './errors.js'
import { readBatchHeader } from './header.js'
import {
  BATCH_HEADER_BYTES,
  BATCH_OVERHEAD_BYTES,
  type BatchHeader,
  Compression,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DEFAULT_MAX_RECORDS,
  type DecodeLimits,
  MAGIC_V2,
  OFFSET_ATTRIBUTES,
  OFFSET_BATCH_LENGTH,
  OFFSET_MAGIC,
  RECORD_MIN_BYTES,
  type Record,
  type RecordHeader,
  TimestampType,
} from './types.js'
import { ByteReader } from './varint.js'

/** Record body without its length varint: attributes + 6 one-byte varints at least. */
const RECORD_BODY_MIN_BYTES = RECORD_MIN_BYTES - 1
/** A header is at least a key length and a value length. */
const HEADER_MIN_BYTES = 2

/** Header, framing and CRC checks that need no record bytes. buf must be exactly one batch. */
function checkBatch(buf: Buffer, limits: DecodeLimits | undefined): BatchHeader {
  if (buf.length < BATCH_HEADER_BYTES) throw corrupt(`batch of ${buf.length} bytes is shorter than its header`)
  const batchLength = buf.readInt32BE(OFFSET_BATCH_LENGTH)
  const maxBatchBytes = limits?.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES
  if (batchLength > maxBatchBytes - BATCH_OVERHEAD_BYTES) {
    throw tooLarge(`batchLength ${batchLength} exceeds the limit of ${maxBatchBytes} bytes per batch`)
  }
  if (batchLength !== buf.length - BATCH_OVERHEAD_BYTES) {
    throw corrupt(`batchLength ${batchLength} does not match the ${buf.length}-byte batch`)
  }
  const magic = buf.readInt8(OFFSET_MAGIC)
  if (magic !== MAGIC_V2) throw corrupt(`batch magic ${magic} is not 2`)
  const header = readBatchHeader(buf, 0)
  if (limits?.verifyCrc !== false) {
    const actual = crc32c(buf.subarray(OFFSET_ATTRIBUTES))
    if (actual !== header.crc) throw corrupt(`batch CRC ${header.crc} does not match the computed ${actual}`)
  }
  if (header.compression > Compression.Zstd) throw unsupportedCompression(header.compression)
  const { recordCount, lastOffsetDelta } = header
  if (lastOffsetDelta < 0) throw corrupt(`lastOffsetDelta ${lastOffsetDelta} is negative`)
  if (recordCount < 0) throw corrupt(`recordCount ${recordCount} is negative`)
  if (recordCount > (limits?.maxRecords ?? DEFAULT_MAX_RECORDS))
    throw tooLarge(`${recordCount} records exceed the limit`)
  // Offset deltas are distinct and within [0, lastOffsetDelta] (compaction may leave gaps, never extra records).
  if (recordCount > lastOffsetDelta + 1)
    throw corrupt(`${recordCount} records do not fit lastOffsetDelta ${lastOffsetDelta}`)
  if (!Number.isSafeInteger(header.baseOffset + lastOffsetDelta)) throw corrupt('last offset exceeds the safe range')
  return header
}

/** The records section, decompressed when the batch is compressed. */
function recordsBytes(buf: Buffer, header: BatchHeader, limits: DecodeLimits | undefined): Buffer {
  const section = buf.subarray(BATCH_HEADER_BYTES)
  if (header.compression === Compression.None) return section
  // An empty compressed section with no records is what some writers produce for empty batches.
  if (section.length === 0 && header.recordCount === 0) return section
  return decompress(header.compression, section, limits?.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES)
}

/**
 * Walks recordCount records over bytes, checking every field; appends decoded records to out when given.
 * Kept as one loop with primitive state because it is the hot path of fetch-side decoding and recovery.
 */
function walkRecords(bytes: Buffer, header: BatchHeader, out: Record[] | null): void {
  const count = header.recordCount
  if (count * RECORD_MIN_BYTES > bytes.length) throw corrupt(`${count} records cannot fit in ${bytes.length} bytes`)
  const reader = new ByteReader(bytes, 0, bytes.length)
  const logAppendTime = header.timestampType === TimestampType.LogAppendTime
  let previousDelta = -1
  for (let index = 0; index < count; index++) {
    reader.end = bytes.length
    const length = reader.varint()
    if (length < RECORD_BODY_MIN_BYTES || length > bytes.length - reader.pos) {
      throw corrupt(`record ${index} length ${length} is out of range`)
    }
    const recordEnd = reader.pos + length
    reader.end = recordEnd // no field may read into the next record
    reader.pos++ // record attributes: unused in v2
    const timestampDelta = reader.varlong()
    const offsetDelta = reader.varint()
    if (offsetDelta <= previousDelta || offsetDelta > header.lastOffsetDelta) {
      throw corrupt(`record ${index} offsetDelta ${offsetDelta} is out of order or beyond lastOffsetDelta`)
    }
    previousDelta = offsetDelta
    const key = readBytes(reader, 'key')
    const value = readBytes(reader, 'value')
    const headerCount = reader.varint()
    if (headerCount < 0 || headerCount * HEADER_MIN_BYTES > recordEnd - reader.pos) {
      throw corrupt(`record ${index} header count ${headerCount} is out of range`)
    }
    let headers: RecordHeader[] | null = out === null ? null : new Array<RecordHeader>(headerCount)
    for (let headerIndex = 0; headerIndex < headerCount; headerIndex++) {
      const keyLength = reader.varint()
      if (keyLength < 0 || keyLength > recordEnd - reader.pos)
        throw corrupt(`header key length ${keyLength} is invalid`)
      const keyStart = reader.pos
      reader.pos += keyLength
      const headerValue = readBytes(reader, 'header value')
      if (headers !== null)
        headers[headerIndex] = { key: bytes.toString('utf8', keyStart, keyStart + keyLength), value: headerValue }
    }
    if (reader.pos !== recordEnd) throw corrupt(`record ${index} has ${recordEnd - reader.pos} bytes beyond its fields`)
    if (out !== null) {
      const timestamp = logAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta
      if (!Number.isSafeInteger(timestamp)) throw corrupt(`record ${index} timestamp exceeds the safe range`)
      headers ??= []
      out.push({ offset: header.baseOffset + offsetDelta, timestamp, key, value, headers })
    }
  }
  if (reader.pos !== bytes.length) throw corrupt(`${bytes.length - reader.pos} bytes follow the last record`)
}

/** A varint-length byte string: -1 is null, other negatives and overlong lengths are corrupt. */
function readBytes(reader: ByteReader, what: string): Buffer | null {
  const length = reader.varint()
  if (length === -1) return null
  if (length < 0 || length > reader.end - reader.pos) throw corrupt(`${what} length ${length} is invalid`)
  const start = reader.pos
  reader.pos += length
  return reader.buf.subarray(start, reader.pos)
}

/**
 * Full structural check of one whole batch (buf is exactly one batch): framing, magic, CRC, header fields, and
 * every record (decompressing if needed), without building record objects.
 */
export function validateBatch(buf: Buffer, limits?: DecodeLimits): BatchHeader {
  const header = checkBatch(buf, limits)
  walkRecords(recordsBytes(buf, header, limits), header, null)
  return header
}

/** validateBatch, then the records with absolute offsets and timestamps. */
export function decodeBatch(buf: Buffer, limits?: DecodeLimits): { header: BatchHeader; records: Record[] } {
  const header = checkBatch(buf, limits)
  const records: Record[] = []
  walkRecords(recordsBytes(buf, header, limits), header, records)
  return { header, records }
}
