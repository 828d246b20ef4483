// Interop with a real client's codec: golden batches written by kafkajs 2.2.4's RecordBatch encoder are decoded
// here, and batches written here are decoded by kafkajs' own decoder.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { Compression, decodeBatch, encodeBatch, type Record, validateBatch } from '../../src/record/index.ts'
import { GOLDEN_FILES, GOLDEN_MESSAGES, GOLDEN_OPTIONS } from '../fixtures/record/generate.ts'
import {
  COMPRESSION_TYPES,
  type GoldenMessage,
  kafkajsDecode,
  kafkajsEncode,
  registerCodecs,
} from '../fixtures/record/kafkajs.ts'

function assertMatchesGolden(records: Record[], messages: GoldenMessage[], baseOffset: number): void {
  assert.equal(records.length, messages.length)
  messages.forEach((message, index) => {
    const record = records[index]!
    assert.equal(record.offset, baseOffset + index)
    assert.equal(record.timestamp, message.timestamp)
    assert.equal(record.key?.toString() ?? null, message.key)
    assert.equal(record.value?.toString() ?? null, message.value)
    assert.deepEqual(
      record.headers.map((h) => [h.key, h.value?.toString()]),
      Object.entries(message.headers),
    )
  })
}

const CODEC_OF: { [name: string]: Compression } = {
  none: Compression.None,
  gzip: Compression.Gzip,
  snappy: Compression.Snappy,
  lz4: Compression.Lz4,
  zstd: Compression.Zstd,
}

describe('golden batches from kafkajs (test/fixtures/record)', () => {
  for (const [file, { compression }] of Object.entries(GOLDEN_FILES)) {
    it(`${file} decodes to the golden records`, () => {
      const batch = readFileSync(new URL(`../fixtures/record/${file}`, import.meta.url))
      const { header, records } = decodeBatch(batch)
      assert.equal(header.compression, compression) // kafkajs' codec numbers are Kafka's
      assert.equal(header.producerId, GOLDEN_OPTIONS.producerId)
      assert.equal(header.producerEpoch, GOLDEN_OPTIONS.producerEpoch)
      assert.equal(header.baseSequence, GOLDEN_OPTIONS.firstSequence)
      assert.equal(header.maxTimestamp, 1_700_000_000_300)
      assert.equal(header.lastOffsetDelta, 3)
      assertMatchesGolden(records, GOLDEN_MESSAGES, 0)
      assert.deepEqual(validateBatch(batch), header)
    })
  }
  it('the xerial fixture really is multi-chunk xerial and the raw one is not', () => {
    const xerial = readFileSync(new URL('../fixtures/record/kafkajs-snappy-xerial.bin', import.meta.url))
    const raw = readFileSync(new URL('../fixtures/record/kafkajs-snappy-raw.bin', import.meta.url))
    assert.equal(xerial.subarray(61, 69).toString('latin1'), '\x82SNAPPY\0')
    assert.ok(xerial.readInt32BE(77) < xerial.length - 81) // first chunk is not the last
    assert.notEqual(raw[61], 0x82)
  })
})

describe('live interop with kafkajs 2.2.4', () => {
  for (const [name, type] of Object.entries(COMPRESSION_TYPES)) {
    for (const snappyStyle of name === 'snappy' ? (['raw', 'xerial'] as const) : (['raw'] as const)) {
      it(`${name}${name === 'snappy' ? ` (${snappyStyle})` : ''}: kafkajs encodes, Wharf decodes`, async () => {
        registerCodecs(snappyStyle)
        const messages = GOLDEN_MESSAGES.map((m, i) => ({ ...m, value: `${m.value ?? ''}#${i}`.repeat(20) }))
        const batch = await kafkajsEncode(messages, type, { baseOffset: 12345 })
        assertMatchesGolden(decodeBatch(batch).records, messages, 12345)
      })
    }

    it(`${name}: Wharf encodes, kafkajs decodes`, async () => {
      registerCodecs('raw') // kafkajs-snappy's decoder reads Wharf's xerial framing
      const inputs = GOLDEN_MESSAGES.map((m) => ({
        key: m.key === null ? null : Buffer.from(m.key),
        value: m.value === null ? null : Buffer.from(m.value),
        headers: Object.entries(m.headers).map(([key, value]) => ({ key, value: Buffer.from(value) })),
        timestamp: m.timestamp,
      }))
      const batch = encodeBatch(inputs, { compression: CODEC_OF[name]!, baseOffset: 2 ** 40 })
      const decoded = await kafkajsDecode(batch)
      assert.equal(decoded.firstOffset, String(2 ** 40))
      assert.equal(decoded.records.length, inputs.length)
      GOLDEN_MESSAGES.forEach((message, index) => {
        const record = decoded.records[index]!
        assert.equal(record.offset, String(2 ** 40 + index))
        assert.equal(record.timestamp, String(message.timestamp))
        assert.equal(record.key?.toString() ?? null, message.key)
        assert.equal(record.value?.toString() ?? null, message.value)
        const headers = Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, v.toString()]))
        assert.deepEqual(headers, message.headers)
      })
    })
  }

  it('uncompressed and gzip batches are byte-identical to kafkajs when the fields agree', async () => {
    const ascending = [...GOLDEN_MESSAGES].sort((a, b) => a.timestamp - b.timestamp)
    for (const [name, compression] of [
      ['none', Compression.None],
      ['gzip', Compression.Gzip],
    ] as const) {
      const theirs = await kafkajsEncode(ascending, COMPRESSION_TYPES[name]!)
      const ours = encodeBatch(
        ascending.map((m) => ({
          key: m.key === null ? null : Buffer.from(m.key),
          value: m.value === null ? null : Buffer.from(m.value),
          headers: Object.entries(m.headers).map(([key, value]) => ({ key, value: Buffer.from(value) })),
          timestamp: m.timestamp,
        })),
        // kafkajs' defaults: leader epoch 0, producer epoch 0, sequence 0
        { compression, partitionLeaderEpoch: 0, producerEpoch: 0, baseSequence: 0 },
      )
      assert.equal(ours.toString('hex'), theirs.toString('hex'), name)
    }
  })
})
