// Property tests: encode/decode round trips over arbitrary records and options, and hostile input (random bytes,
// mutated valid batches) into every decoder: only WharfError may come out, and every call returns promptly.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  batchSize,
  Compression,
  crc32c,
  decodeBatch,
  type EncodeOptions,
  encodeBatch,
  iterateBatches,
  type RecordInput,
  readBatchHeader,
  splitBatches,
  TimestampType,
  validateBatch,
} from '../../src/record/index.ts'
import { WharfError } from '../../src/util/errors.ts'

const LONG = process.env.WHARF_LONG === '1'
// WHARF_FUZZ_RUNS sets the base count between the two modes, as the other fuzzers take it.
const RUNS = Number(process.env.WHARF_FUZZ_RUNS) || (LONG ? 200_000 : 200)
const TIMEOUT = { timeout: LONG ? 6 * 3_600_000 : 60_000 }

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a))
const nullableBytes = fc.option(bytes(64), { nil: null })
const codec = fc.constantFrom(Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd)

const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: nullableBytes,
  value: nullableBytes,
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 12 }), value: nullableBytes }), { maxLength: 4 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
})

const batchArb = fc
  .record({
    records: fc.array(recordArb, { maxLength: 12 }),
    compression: codec,
    baseOffset: fc.integer({ min: 0, max: 2 ** 50 }),
    timestampType: fc.constantFrom(TimestampType.CreateTime, TimestampType.LogAppendTime),
    producerId: fc.integer({ min: -1, max: 2 ** 50 }),
    producerEpoch: fc.integer({ min: -1, max: 32767 }),
    baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    isTransactional: fc.boolean(),
    isControl: fc.boolean(),
    partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    gaps: fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 12, maxLength: 12 }),
    useGaps: fc.boolean(),
    tail: fc.nat(50),
  })
  .map(({ records, gaps, useGaps, tail, ...options }) => {
    const encodeOptions: EncodeOptions = { ...options }
    if (useGaps) {
      let delta = -1
      encodeOptions.offsetDeltas = records.map((_, i) => {
        delta += gaps[i]!
        return delta
      })
      encodeOptions.lastOffsetDelta = (encodeOptions.offsetDeltas.at(-1) ?? 0) + tail
    }
    return { records, options: encodeOptions }
  })

/** Runs fn; any exception other than a WharfError fails the property. */
function onlyWharfErrors(fn: () => unknown): void {
  try {
    fn()
  } catch (error) {
    if (!(error instanceof WharfError)) throw error
  }
}

function allDecoders(buf: Buffer): void {
  const started = performance.now()
  onlyWharfErrors(() => validateBatch(buf))
  onlyWharfErrors(() => decodeBatch(buf))
  onlyWharfErrors(() => decodeBatch(buf, { verifyCrc: false }))
  onlyWharfErrors(() => splitBatches(buf))
  onlyWharfErrors(() => readBatchHeader(buf))
  onlyWharfErrors(() => batchSize(buf))
  let end = 0
  for (const { position, size } of iterateBatches(buf)) {
    assert.equal(position, end)
    assert.ok(size >= 61 && position + size <= buf.length)
    end = position + size
  }
  assert.ok(performance.now() - started < 2000, 'a decoder took more than 2 s')
}

/** Re-seals the CRC so that mutations reach the record parser instead of stopping at the checksum. */
function withCrc(buf: Buffer): Buffer {
  if (buf.length >= 61) buf.writeUInt32BE(crc32c(buf.subarray(21)), 17)
  return buf
}

describe('properties', () => {
  it('encode → decode is the identity on records and options', TIMEOUT, () => {
    fc.assert(
      fc.property(batchArb, ({ records, options }) => {
        const batch = encodeBatch(records, options)
        const { header, records: decoded } = decodeBatch(batch)
        assert.equal(header.compression, options.compression)
        assert.equal(header.baseOffset, options.baseOffset)
        assert.equal(header.producerId, options.producerId)
        assert.equal(header.producerEpoch, options.producerEpoch)
        assert.equal(header.baseSequence, options.baseSequence)
        assert.equal(header.partitionLeaderEpoch, options.partitionLeaderEpoch)
        assert.equal(header.isTransactional, options.isTransactional)
        assert.equal(header.isControl, options.isControl)
        assert.equal(header.timestampType, options.timestampType)
        assert.equal(header.recordCount, records.length)
        const deltas = options.offsetDeltas ?? records.map((_, i) => i)
        const maxTimestamp = Math.max(...records.map((r) => r.timestamp!))
        assert.equal(decoded.length, records.length)
        records.forEach((input, i) => {
          const record = decoded[i]!
          assert.equal(record.offset, options.baseOffset! + deltas[i]!)
          const expectedTime = options.timestampType === TimestampType.LogAppendTime ? maxTimestamp : input.timestamp
          assert.equal(record.timestamp, expectedTime)
          assert.deepEqual(record.key, input.key)
          assert.deepEqual(record.value, input.value)
          assert.deepEqual(
            record.headers,
            input.headers!.map((h) => ({ key: h.key, value: h.value })), // fc.record objects have no prototype
          )
        })
        assert.deepEqual(splitBatches(Buffer.concat([batch, batch])).length, 2)
      }),
      { numRuns: RUNS },
    )
  })

  it('random bytes: only WharfError, promptly', TIMEOUT, () => {
    fc.assert(fc.property(bytes(300), allDecoders), { numRuns: RUNS * 5 })
  })

  it('random bytes behind a plausible header: only WharfError', TIMEOUT, () => {
    fc.assert(
      fc.property(bytes(200), codec, fc.integer({ min: -1, max: 40 }), (body, compression, count) => {
        const buf = Buffer.alloc(61 + body.length)
        buf.writeInt32BE(buf.length - 12, 8)
        buf.writeInt8(2, 16)
        buf.writeInt16BE(compression, 21)
        buf.writeInt32BE(Math.max(count, 0) + 3, 23)
        buf.writeInt32BE(count, 57)
        body.copy(buf, 61)
        allDecoders(withCrc(buf))
      }),
      { numRuns: RUNS * 5 },
    )
  })

  it('mutated valid batches (bit flips, bytes, truncation, length fields): only WharfError', TIMEOUT, () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
      fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.nat(255) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('length' as const), delta: fc.integer({ min: -70, max: 70 }) }),
      fc.record({ kind: fc.constant('count' as const), value: fc.integer({ min: -2, max: 20 }) }),
    )
    fc.assert(
      fc.property(batchArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (input, edits, seal) => {
        let buf = Buffer.from(encodeBatch(input.records, input.options))
        for (const edit of edits) {
          if (edit.kind === 'flip' && buf.length > 0) buf[edit.at % buf.length]! ^= 1 << edit.bit
          else if (edit.kind === 'byte' && buf.length > 0) buf[edit.at % buf.length] = edit.value
          else if (edit.kind === 'truncate') buf = buf.subarray(0, edit.at % (buf.length + 1))
          else if (edit.kind === 'length' && buf.length >= 12) buf.writeInt32BE(buf.readInt32BE(8) + edit.delta, 8)
          else if (edit.kind === 'count' && buf.length >= 61) buf.writeInt32BE(edit.value, 57)
        }
        allDecoders(seal ? withCrc(buf) : buf)
      }),
      { numRuns: RUNS * 2 },
    )
  })

  it('a corrupted compressed section fails cleanly for every codec', TIMEOUT, () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { minLength: 1, maxLength: 8 }),
        codec,
        fc.nat(),
        fc.nat(255),
        (records, compression, at, value) => {
          const buf = Buffer.from(encodeBatch(records, { compression }))
          const position = 61 + (at % (buf.length - 61))
          buf[position] = value
          allDecoders(withCrc(buf))
        },
      ),
      { numRuns: RUNS * 2 },
    )
  })
})
