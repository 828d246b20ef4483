import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  BATCH_HEADER_BYTES,
  BATCH_OVERHEAD_BYTES,
  batchSize,
  Compression,
  crc32c,
  decodeBatch,
  encodeBatch,
  iterateBatches,
  type RecordInput,
  readBatchHeader,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  splitBatches,
  TimestampType,
  validateBatch,
} from '../../src/record/index.ts'
import { isWharfError } from '../../src/util/errors.ts'

const CODECS = [Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]

function sample(): RecordInput[] {
  return [
    { key: Buffer.from('key-1'), value: Buffer.from('value-1'), timestamp: 1_700_000_000_000 },
    { key: null, value: null, timestamp: 1_700_000_000_005 },
    { value: Buffer.alloc(0), timestamp: 1_699_999_999_990 }, // earlier than the base: negative delta
    {
      key: Buffer.from([0, 255]),
      value: Buffer.alloc(3000, 'abc'),
      headers: [
        { key: 'trace-id', value: Buffer.from('t1') },
        { key: 'empty', value: Buffer.alloc(0) },
        { key: 'nothing', value: null },
        { key: 'ünïcødé ✓', value: Buffer.from('u') },
        { key: 'trace-id', value: Buffer.from('t2') },
      ],
      timestamp: 1_700_000_000_001,
    },
  ]
}

function assertRecordsEqual(actual: ReturnType<typeof decodeBatch>['records'], expected: RecordInput[]): void {
  assert.equal(actual.length, expected.length)
  expected.forEach((input, index) => {
    const record = actual[index]!
    assert.deepEqual(record.key, input.key ?? null)
    assert.deepEqual(record.value, input.value)
    assert.deepEqual(record.headers, input.headers ?? [])
  })
}

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => isWharfError(error) && error.code === code)
}

describe('encodeBatch/decodeBatch round trips', () => {
  for (const compression of CODECS) {
    it(`codec ${Compression[compression]}: keys, nulls, headers, empty values, timestamps, offsets`, () => {
      const records = sample()
      const batch = encodeBatch(records, { compression, baseOffset: 1000 })
      const { header, records: decoded } = decodeBatch(batch)
      assert.equal(header.compression, compression)
      assert.equal(header.magic, 2)
      assert.equal(header.baseOffset, 1000)
      assert.equal(header.recordCount, 4)
      assert.equal(header.lastOffsetDelta, 3)
      assert.equal(header.baseTimestamp, 1_700_000_000_000)
      assert.equal(header.maxTimestamp, 1_700_000_000_005)
      assert.equal(header.batchLength, batch.length - BATCH_OVERHEAD_BYTES)
      assert.equal(header.crc, crc32c(batch.subarray(21)))
      assertRecordsEqual(decoded, records)
      assert.deepEqual(
        decoded.map((r) => [r.offset, r.timestamp]),
        records.map((r, i) => [1000 + i, r.timestamp]),
      )
      assert.deepEqual(validateBatch(batch), header)
    })

    it(`codec ${Compression[compression]}: 2000 records`, () => {
      const records = Array.from({ length: 2000 }, (_, i) => ({
        key: Buffer.from(`k${i % 17}`),
        value: Buffer.from(`value number ${i}`.repeat(1 + (i % 5))),
        timestamp: 1_000_000 + i * 3,
      }))
      const batch = encodeBatch(records, { compression })
      const { records: decoded } = decodeBatch(batch)
      assertRecordsEqual(decoded, records)
      assert.equal(decoded[1999]!.offset, 1999)
      assert.equal(decoded[1999]!.timestamp, 1_000_000 + 1999 * 3)
      if (compression !== Compression.None) assert.ok(batch.length < encodeBatch(records).length / 2)
    })
  }

  it('writes every header option and reads it back', () => {
    const batch = encodeBatch([{ value: Buffer.from('x'), timestamp: 5 }], {
      baseOffset: 2 ** 40,
      partitionLeaderEpoch: 7,
      producerId: 2 ** 45,
      producerEpoch: 3,
      baseSequence: 99,
      isTransactional: true,
      isControl: true,
    })
    const header = validateBatch(batch)
    assert.equal(header.baseOffset, 2 ** 40)
    assert.equal(header.partitionLeaderEpoch, 7)
    assert.equal(header.producerId, 2 ** 45)
    assert.equal(header.producerEpoch, 3)
    assert.equal(header.baseSequence, 99)
    assert.equal(header.isTransactional, true)
    assert.equal(header.isControl, true)
    assert.equal(header.attributes, 0x30)
    assert.equal(header.timestampType, TimestampType.CreateTime)
  })

  it('defaults to Kafka\'s "no producer" values', () => {
    const header = validateBatch(encodeBatch([{ value: null }]))
    assert.deepEqual([header.producerId, header.producerEpoch, header.baseSequence], [-1, -1, -1])
    assert.equal(header.partitionLeaderEpoch, -1)
    assert.ok(Math.abs(header.maxTimestamp - Date.now()) < 60_000)
  })

  it('LogAppendTime records take the batch maxTimestamp', () => {
    const batch = encodeBatch(
      [
        { value: Buffer.from('a'), timestamp: 10 },
        { value: Buffer.from('b'), timestamp: 20 },
      ],
      { timestampType: TimestampType.LogAppendTime },
    )
    const { header, records } = decodeBatch(batch)
    assert.equal(header.timestampType, TimestampType.LogAppendTime)
    assert.deepEqual(
      records.map((r) => r.timestamp),
      [20, 20],
    )
  })

  it('offsetDeltas with gaps and an explicit lastOffsetDelta (compaction)', () => {
    const records = [{ value: Buffer.from('a') }, { value: Buffer.from('b') }, { value: Buffer.from('c') }]
    const batch = encodeBatch(records, { baseOffset: 100, offsetDeltas: [0, 4, 9], lastOffsetDelta: 12 })
    const { header, records: decoded } = decodeBatch(batch)
    assert.equal(header.lastOffsetDelta, 12)
    assert.equal(header.recordCount, 3)
    assert.deepEqual(
      decoded.map((r) => r.offset),
      [100, 104, 109],
    )
  })

  it('an empty batch keeps its lastOffsetDelta', () => {
    for (const compression of CODECS) {
      const batch = encodeBatch([], { compression, lastOffsetDelta: 5, baseOffset: 10 })
      const { header, records } = decodeBatch(batch)
      assert.deepEqual([header.recordCount, header.lastOffsetDelta, records.length], [0, 5, 0])
    }
  })

  it('rejects invalid encode options with INVALID_ARGUMENT / UNSUPPORTED_COMPRESSION', () => {
    const one = [{ value: null }]
    expectCode(() => encodeBatch(one, { offsetDeltas: [0, 1] }), 'INVALID_ARGUMENT')
    expectCode(() => encodeBatch([{ value: null }, { value: null }], { offsetDeltas: [3, 3] }), 'INVALID_ARGUMENT')
    expectCode(() => encodeBatch(one, { offsetDeltas: [4], lastOffsetDelta: 3 }), 'INVALID_ARGUMENT')
    expectCode(() => encodeBatch(one, { baseOffset: -1 }), 'INVALID_ARGUMENT')
    expectCode(() => encodeBatch(one, { producerEpoch: 40000 }), 'INVALID_ARGUMENT')
    expectCode(() => encodeBatch([{ value: null, timestamp: 1.5 }]), 'INVALID_ARGUMENT')
    expectCode(() => encodeBatch(one, { compression: 7 as Compression }), 'UNSUPPORTED_COMPRESSION')
  })
})

describe('framing helpers', () => {
  const a = encodeBatch([{ value: Buffer.from('first') }], { baseOffset: 0 })
  const b = encodeBatch([{ value: Buffer.from('second') }, { value: null }], {
    baseOffset: 1,
    compression: Compression.Lz4,
  })
  const both = Buffer.concat([a, b])

  it('readBatchHeader reads at a position and needs 61 bytes', () => {
    assert.equal(readBatchHeader(both, a.length).baseOffset, 1)
    assert.equal(readBatchHeader(both, a.length).compression, Compression.Lz4)
    expectCode(() => readBatchHeader(a.subarray(0, BATCH_HEADER_BYTES - 1)), 'CORRUPT_RECORD')
    expectCode(() => readBatchHeader(both, both.length - 60), 'CORRUPT_RECORD')
  })

  it('batchSize is 12 + batchLength, -1 when undecidable, CORRUPT_RECORD when too small', () => {
    assert.equal(batchSize(both), a.length)
    assert.equal(batchSize(both, a.length), b.length)
    assert.equal(batchSize(both, both.length - 11), -1)
    const bad = Buffer.from(a)
    bad.writeInt32BE(48, 8)
    expectCode(() => batchSize(bad), 'CORRUPT_RECORD')
  })

  it('splitBatches returns subarrays and rejects partial batches and trailing bytes', () => {
    const parts = splitBatches(both)
    assert.equal(parts.length, 2)
    assert.ok(parts[0]!.equals(a) && parts[1]!.equals(b))
    assert.equal(parts[1]!.buffer, both.buffer) // no copy
    assert.deepEqual(splitBatches(Buffer.alloc(0)), [])
    expectCode(() => splitBatches(both.subarray(0, both.length - 1)), 'CORRUPT_RECORD')
    expectCode(() => splitBatches(Buffer.concat([both, Buffer.from([0, 0, 0])])), 'CORRUPT_RECORD')
    expectCode(() => splitBatches(both, { maxBatchBytes: a.length - 1 }), 'RECORD_TOO_LARGE')
  })

  it('iterateBatches stops silently at a torn tail', () => {
    const torn = Buffer.concat([both, b.subarray(0, 70)])
    assert.deepEqual(
      [...iterateBatches(torn)],
      [
        { position: 0, size: a.length },
        { position: a.length, size: b.length },
      ],
    )
    assert.deepEqual([...iterateBatches(Buffer.alloc(200))], []) // zeroed preallocated tail
  })

  it('setBaseOffset rewrites in place without breaking the CRC', () => {
    const copy = Buffer.from(both)
    setBaseOffset(copy, 777, a.length)
    const { records } = decodeBatch(copy.subarray(a.length))
    assert.deepEqual(
      records.map((r) => r.offset),
      [777, 778],
    )
    assert.equal(validateBatch(copy.subarray(0, a.length)).baseOffset, 0)
  })
})

describe('leader-side rewrites', () => {
  it('setPartitionLeaderEpoch and setLogAppendTime keep the batch valid', () => {
    for (const compression of [Compression.None, Compression.Zstd]) {
      const batch = encodeBatch(
        [
          { value: Buffer.from('a'), timestamp: 10 },
          { value: Buffer.from('b'), timestamp: 30 },
        ],
        { compression },
      )
      const framed = Buffer.concat([Buffer.alloc(7), batch])
      setPartitionLeaderEpoch(framed, 9, 7)
      setLogAppendTime(framed, 5000, 7)
      const { header, records } = decodeBatch(framed.subarray(7))
      assert.equal(header.partitionLeaderEpoch, 9)
      assert.equal(header.timestampType, TimestampType.LogAppendTime)
      assert.equal(header.maxTimestamp, 5000)
      assert.equal(header.compression, compression)
      assert.deepEqual(
        records.map((r) => r.timestamp),
        [5000, 5000],
      )
    }
  })
})

describe('validateBatch rejects malformed batches', () => {
  const good = encodeBatch(sample(), { baseOffset: 5 })

  /** Mutates a copy and fixes the CRC, so that the check under test is the one that fires. */
  function mutate(edit: (buf: Buffer) => void, fixCrc = true): Buffer {
    const buf = Buffer.from(good)
    edit(buf)
    if (fixCrc) buf.writeUInt32BE(crc32c(buf.subarray(21)), 17)
    return buf
  }

  it('accepts the unmodified batch', () => {
    validateBatch(good)
  })

  const cases: [string, Buffer, string][] = [
    ['CRC mismatch', mutate((b) => b.writeUInt8(b[100]! ^ 1, 100), false), 'CORRUPT_RECORD'],
    ['short buffer', good.subarray(0, 40), 'CORRUPT_RECORD'],
    ['truncated batch', good.subarray(0, good.length - 1), 'CORRUPT_RECORD'],
    ['batchLength too large', mutate((b) => b.writeInt32BE(b.readInt32BE(8) + 1, 8)), 'CORRUPT_RECORD'],
    ['batchLength huge', mutate((b) => b.writeInt32BE(0x7fffffff, 8)), 'RECORD_TOO_LARGE'],
    ['batchLength negative', mutate((b) => b.writeInt32BE(-5, 8)), 'CORRUPT_RECORD'],
    ['magic 1', mutate((b) => b.writeInt8(1, 16)), 'CORRUPT_RECORD'],
    ['codec 6', mutate((b) => b.writeInt16BE(6, 21)), 'UNSUPPORTED_COMPRESSION'],
    ['codec says gzip', mutate((b) => b.writeInt16BE(1, 21)), 'CORRUPT_RECORD'],
    ['recordCount too high', mutate((b) => b.writeInt32BE(5, 57)), 'CORRUPT_RECORD'],
    ['recordCount too low', mutate((b) => b.writeInt32BE(3, 57)), 'CORRUPT_RECORD'],
    ['recordCount negative', mutate((b) => b.writeInt32BE(-1, 57)), 'CORRUPT_RECORD'],
    ['recordCount huge', mutate((b) => b.writeInt32BE(2_000_000_000, 57)), 'RECORD_TOO_LARGE'],
    ['lastOffsetDelta below count', mutate((b) => b.writeInt32BE(2, 23)), 'CORRUPT_RECORD'],
    ['lastOffsetDelta negative', mutate((b) => b.writeInt32BE(-1, 23)), 'CORRUPT_RECORD'],
    ['producerId beyond 2^53', mutate((b) => b.writeBigInt64BE(2n ** 60n, 43)), 'CORRUPT_RECORD'],
    ['baseOffset beyond 2^53', mutate((b) => b.writeBigInt64BE(-(2n ** 62n), 0)), 'CORRUPT_RECORD'],
    ['first record length too long', mutate((b) => b.writeUInt8(b[61]! + 2, 61)), 'CORRUPT_RECORD'],
    ['first record length too short', mutate((b) => b.writeUInt8(b[61]! - 2, 61)), 'CORRUPT_RECORD'],
    ['trailing byte inside the batch', appendInside(good, [0]), 'CORRUPT_RECORD'],
  ]
  for (const [name, buf, code] of cases) {
    it(name, () => {
      expectCode(() => validateBatch(buf), code)
      expectCode(() => decodeBatch(buf), code)
    })
  }

  it('maxRecords and maxBatchBytes limits', () => {
    expectCode(() => validateBatch(good, { maxRecords: 3 }), 'RECORD_TOO_LARGE')
    expectCode(() => validateBatch(good, { maxBatchBytes: good.length - 1 }), 'RECORD_TOO_LARGE')
    validateBatch(good, { maxRecords: 4, maxBatchBytes: good.length })
  })

  it('verifyCrc: false skips only the CRC', () => {
    const last = good.length - 1 // a byte of the last header value
    const flipped = mutate((b) => b.writeUInt8(b[last]! ^ 1, last), false)
    expectCode(() => validateBatch(flipped), 'CORRUPT_RECORD')
    validateBatch(flipped, { verifyCrc: false })
  })

  it('maxDecompressedBytes guards compressed batches', () => {
    const zipped = encodeBatch([{ value: Buffer.alloc(100_000) }], { compression: Compression.Zstd })
    expectCode(() => decodeBatch(zipped, { maxDecompressedBytes: 50_000 }), 'RECORD_TOO_LARGE')
    assert.equal(decodeBatch(zipped, { maxDecompressedBytes: 200_000 }).records[0]!.value!.length, 100_000)
  })
})

/** A valid-CRC batch with extra bytes after the last record, batchLength adjusted. */
function appendInside(batch: Buffer, extra: number[]): Buffer {
  const buf = Buffer.concat([batch, Buffer.from(extra)])
  buf.writeInt32BE(buf.length - 12, 8)
  buf.writeUInt32BE(crc32c(buf.subarray(21)), 17)
  return buf
}
