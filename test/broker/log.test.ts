// Log mode, raw batch appends (the Kafka path), idempotent producers, dedup and schemas via the embedded API.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createBroker, isWharfError } from '../../src/index.ts'
import { encodeBatch } from '../../src/record/index.ts'
import { openBroker, tempDir } from './helpers.ts'

test('keyed messages land on the partition Kafka clients compute (murmur2); unkeyed spread round robin', async (t) => {
  const broker = await openBroker(t)
  await broker.createStream('orders', { partitions: 6 })
  // kafkajs/Java DefaultPartitioner: toPositive(murmur2(key)) % 6; "foobar" → murmur2 -790332482.
  const expected = (-790332482 & 0x7fffffff) % 6
  const [pos] = await broker.produce('orders', [{ key: 'foobar', value: 'v' }])
  assert.equal(pos!.partition, expected)
  const spread = await broker.produce(
    'orders',
    Array.from({ length: 12 }, (_, i) => ({ value: `u${i}` })),
  )
  assert.ok(new Set(spread.map((p) => p.partition)).size > 1)
  const explicit = await broker.produce('orders', [{ value: 'x' }, { value: 'y' }], { partition: 4 })
  assert.deepEqual(
    explicit.map((p) => p.partition),
    [4, 4],
  )
  assert.equal(explicit[1]!.offset, explicit[0]!.offset + 1, 'one batch: consecutive offsets')
})

test('replay from an offset and from a timestamp; committed offsets and lag', async (t) => {
  const broker = await openBroker(t)
  await broker.createStream('events')
  const base = Date.now() - 10_000
  for (let i = 0; i < 10; i++) await broker.produce('events', [{ value: `e${i}`, timestamp: base + i * 1000 }])
  const fromFive = await broker.readMessages('events', 0, 5)
  assert.deepEqual(
    fromFive.messages.map((m) => m.value!.toString()),
    ['e5', 'e6', 'e7', 'e8', 'e9'],
  )
  const log = broker.stream('events').partitionLog(0)
  assert.equal(await log.offsetForTimestamp(base + 3500), 4)
  await broker.commitOffset('g1', 'events', 0, 7, 'meta')
  assert.deepEqual(broker.committedOffset('g1', 'events', 0), { offset: 7, metadata: 'meta' })
  assert.deepEqual(broker.log.lag('g1', 'events'), [{ partition: 0, committed: 7, highWatermark: 10, lag: 3 }])
  const waiting = broker.log.waitForData('events', 0, 10, 2000)
  await broker.produce('events', [{ value: 'e10' }])
  assert.equal(await waiting, true)
  assert.equal(await broker.log.waitForData('events', 0, 11, 20), false)
})

test('raw batches are stored as received; idempotent retries return the original offsets', async (t) => {
  const broker = await openBroker(t)
  await broker.createStream('k')
  const { producerId, producerEpoch } = await broker.initProducerId()
  const batch = (seq: number, n: number) =>
    encodeBatch(
      Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`s${seq + i}`) })),
      { producerId, producerEpoch, baseSequence: seq },
    )
  const first = await broker.appendRawBatch('k', 0, batch(0, 3))
  assert.deepEqual([first.baseOffset, first.lastOffset, first.duplicate], [0, 2, false])
  const retry = await broker.appendRawBatch('k', 0, batch(0, 3))
  assert.deepEqual([retry.baseOffset, retry.lastOffset, retry.duplicate], [0, 2, true])
  const next = await broker.appendRawBatch('k', 0, batch(3, 2))
  assert.equal(next.baseOffset, 3)
  await assert.rejects(broker.appendRawBatch('k', 0, batch(9, 1)), (e) => isWharfError(e, 'OUT_OF_ORDER_SEQUENCE'))
  const stale = encodeBatch([{ value: Buffer.from('old') }], {
    producerId,
    producerEpoch: producerEpoch - 1,
    baseSequence: 5,
  })
  await assert.rejects(broker.appendRawBatch('k', 0, stale), (e) => isWharfError(e, 'INVALID_PRODUCER_EPOCH'))
  const plain = encodeBatch([{ value: Buffer.from('plain') }])
  assert.equal((await broker.appendRawBatch('k', 0, plain)).baseOffset, 5)
  const corrupt = Buffer.from(plain)
  corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 0xff
  await assert.rejects(broker.appendRawBatch('k', 0, corrupt), (e) => isWharfError(e, 'CORRUPT_RECORD'))
  const { messages } = await broker.readMessages('k', 0, 0)
  assert.deepEqual(
    messages.map((m) => m.value!.toString()),
    ['s0', 's1', 's2', 's3', 's4', 'plain'],
  )
})

test('idempotent producer state survives a restart', async (t) => {
  const dir = tempDir(t)
  let broker = await createBroker({ dataDir: dir })
  await broker.createStream('k')
  const { producerId } = await broker.initProducerId()
  const batch = () => encodeBatch([{ value: Buffer.from('once') }], { producerId, producerEpoch: 0, baseSequence: 0 })
  await broker.appendRawBatch('k', 0, batch())
  await broker.close()
  broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  const retry = await broker.appendRawBatch('k', 0, batch())
  assert.equal(retry.duplicate, true)
  const again = await broker.initProducerId()
  assert.ok(again.producerId > producerId, 'producer ids never reissued')
})

test('dedup window drops repeated message ids, also across a restart', async (t) => {
  const dir = tempDir(t)
  let broker = await createBroker({ dataDir: dir })
  await broker.createStream('fifo', { dedupWindowMs: 300_000 })
  const a = await broker.produce('fifo', [
    { value: 'a', dedupId: 'id-1' },
    { value: 'b', dedupId: 'id-2' },
    { value: 'a2', dedupId: 'id-1' },
  ])
  assert.deepEqual(
    a.map((p) => [p.offset, p.duplicate]),
    [
      [0, false],
      [1, false],
      [0, true],
    ],
  )
  await broker.close()
  broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  const [again] = await broker.produce('fifo', [{ value: 'b again', dedupId: 'id-2' }])
  assert.deepEqual([again!.offset, again!.duplicate], [1, true])
  assert.equal(broker.stream('fifo').partitionLog(0).highWatermark, 2)
})

test('a stream bound to a schema subject rejects invalid records and appends nothing from that call', async (t) => {
  const broker = await openBroker(t)
  await broker.schemas.register('orders-value', {
    schemaType: 'JSON',
    schema: JSON.stringify({ type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] }),
  })
  await broker.createStream('orders', { schemaSubject: 'orders-value' })
  await broker.produce('orders', [{ value: '{"id": 1}' }])
  await assert.rejects(broker.produce('orders', [{ value: '{"id": 2}' }, { value: '{"name": "x"}' }]), (e) =>
    isWharfError(e, 'SCHEMA_VIOLATION'),
  )
  const raw = encodeBatch([{ value: Buffer.from('not json') }])
  await assert.rejects(broker.appendRawBatch('orders', 0, raw), (e) => isWharfError(e, 'SCHEMA_VIOLATION'))
  assert.equal(broker.stream('orders').partitionLog(0).highWatermark, 1)
})

test('streams can grow partitions but not shrink; config survives restart', async (t) => {
  const dir = tempDir(t)
  let broker = await createBroker({ dataDir: dir })
  await broker.createStream('s', { partitions: 2, retentionMs: 1000 })
  await broker.alterStream('s', { partitions: 4 })
  await assert.rejects(broker.alterStream('s', { partitions: 1 }), (e) => isWharfError(e, 'INVALID_CONFIG'))
  await broker.produce('s', [{ value: 'p3' }], { partition: 3 })
  await broker.close()
  broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  assert.equal(broker.stream('s').config.partitions, 4)
  assert.equal(broker.stream('s').config.retentionMs, 1000)
  assert.equal((await broker.readMessages('s', 3, 0)).messages[0]!.value!.toString(), 'p3')
  await broker.deleteStream('s')
  assert.equal(broker.getStream('s'), undefined)
})
