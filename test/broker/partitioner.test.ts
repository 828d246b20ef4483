import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import fc from 'fast-check'
import { murmur2, partitionForKey, toPositive } from '../../src/broker/stream/partitioner.ts'

const require = createRequire(import.meta.url)
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number
const kafkajsDefault = require('kafkajs/src/producer/partitioners/default') as () => (args: {
  topic: string
  partitionMetadata: { partitionId: number; leader: number }[]
  message: { key: Buffer }
}) => number

const runs = process.env.WHARF_LONG === '1' ? 20_000 : 1_000

// Kafka's UtilsTest.testMurmur2 vectors (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
const kafkaVectors: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
]

test('murmur2 matches Kafka UtilsTest vectors', () => {
  for (const [input, expected] of kafkaVectors) {
    assert.equal(murmur2(Buffer.from(input, 'ascii')), expected, input)
    assert.equal(kafkajsMurmur2(Buffer.from(input, 'ascii')), expected, `kafkajs ${input}`)
  }
})

test('murmur2 of the empty key is stable and signed 32-bit', () => {
  const h = murmur2(Buffer.alloc(0))
  assert.equal(h, kafkajsMurmur2(Buffer.alloc(0)))
  assert.equal(h, h | 0)
})

test('murmur2 equals kafkajs over random keys of every tail length', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const key = Buffer.from(bytes)
      assert.equal(murmur2(key), kafkajsMurmur2(key))
    }),
    { numRuns: runs },
  )
})

test('partitionForKey equals the kafkajs default partitioner', () => {
  const partitioner = kafkajsDefault()
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), fc.integer({ min: 1, max: 1000 }), (bytes, n) => {
      const key = Buffer.from(bytes)
      const partitionMetadata = Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0 }))
      const expected = partitioner({ topic: 't', partitionMetadata, message: { key } })
      const actual = partitionForKey(key, n)
      assert.equal(actual, expected)
      assert.ok(actual >= 0 && actual < n)
    }),
    { numRuns: runs },
  )
})

test('toPositive clears the sign bit rather than negating', () => {
  assert.equal(toPositive(-1), 0x7fffffff)
  assert.equal(toPositive(-2147483648), 0)
  assert.equal(toPositive(5), 5)
  assert.equal(partitionForKey(Buffer.from('21'), 7), (-973932308 & 0x7fffffff) % 7)
})

test('partitionForKey rejects a non-positive partition count', () => {
  assert.throws(() => partitionForKey(Buffer.from('a'), 0), /partition count/)
  assert.throws(() => partitionForKey(Buffer.from('a'), 1.5), /partition count/)
})
