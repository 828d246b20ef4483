// maxLengthBytes (RabbitMQ x-max-length-bytes) through the embedded API: only body bytes count; drop-head keeps
// the newest messages within the limit (dead-lettering the rest with reason maxlen), reject-publish refuses
// what would not fit; the running byte count follows acks, requeues, dead-letters, purge, TTL and restarts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Broker } from '../../src/broker/broker.ts'
import { parseDeaths } from '../../src/broker/queue/dead-letter.ts'
import { createBroker, isWharfError } from '../../src/index.ts'
import { encodeBatch } from '../../src/record/index.ts'
import { openBroker, tempDir, text, until } from './helpers.ts'

const body = (label: string, size: number) => label.padEnd(size, '.')
const bytesOf = (broker: Broker, queue: string) => broker.queueStats(queue).bytes

async function drain(broker: Broker, queue: string): Promise<string[]> {
  const got = await broker.get(queue, { owner: 'reader', max: 100 })
  for (const d of got) await broker.queue(queue).ack(d.partition, d.offset)
  return got.map(text)
}

for (const durable of [true, false]) {
  test(`drop-head keeps the newest messages within the byte limit (${durable ? 'disk' : 'memory'} log)`, async (t) => {
    const broker = await openBroker(t)
    await broker.createQueue('q', { maxLengthBytes: 10, durable })
    // Bodies of 6, 3, 3, 5 bytes: 6 | 9 | 12 → drop the 6 | 11 → drop a 3. Headers do not count.
    for (const [label, size] of [
      ['a', 6],
      ['b', 3],
      ['c', 3],
      ['d', 5],
    ] as const) {
      await broker.sendToQueue('q', [{ value: body(label, size), headers: [{ key: 'big', value: Buffer.alloc(500) }] }])
    }
    assert.equal(bytesOf(broker, 'q'), 8)
    assert.equal(broker.queueStats('q').depth, 2)
    assert.deepEqual(await drain(broker, 'q'), ['c..', 'd....'])
    assert.equal(bytesOf(broker, 'q'), 0)

    // A batch of publishes at once ends in the same state as one at a time.
    await broker.sendToQueue(
      'q',
      ['a', 'b', 'c', 'd', 'e'].map((l) => ({ value: body(l, 4) })),
    )
    assert.equal(bytesOf(broker, 'q'), 8)
    assert.deepEqual(await drain(broker, 'q'), ['d...', 'e...'])

    // A single message larger than the limit does not stay (RabbitMQ drops it too).
    await broker.sendToQueue('q', [{ value: body('x', 11) }])
    assert.equal(broker.queueStats('q').depth, 0)
    assert.equal(bytesOf(broker, 'q'), 0)
  })
}

test('reject-publish refuses what would exceed the byte limit; room comes back when messages are acked', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('r', { maxLengthBytes: 10, overflow: 'reject-publish' })
  await broker.sendToQueue('r', [{ value: body('a', 4) }])
  await broker.sendToQueue('r', [{ value: body('b', 4) }])
  await assert.rejects(broker.sendToQueue('r', [{ value: body('c', 4) }]), (e) => isWharfError(e, 'QUEUE_FULL'))
  await assert.rejects(broker.sendToQueue('r', [{ value: 'x' }, { value: 'yy' }]), (e) => isWharfError(e, 'QUEUE_FULL'))
  await broker.sendToQueue('r', [{ value: 'zz' }]) // exactly 10 fits
  assert.equal(bytesOf(broker, 'r'), 10)
  await assert.rejects(broker.sendToQueue('r', [{ value: 'z' }]), (e) => isWharfError(e, 'QUEUE_FULL'))

  // Unacked deliveries still count (as they do for maxLength); the ack frees their bytes.
  const [first] = await broker.get('r', { owner: 'c' })
  assert.equal(text(first!), 'a...')
  await assert.rejects(broker.sendToQueue('r', [{ value: 'z' }]), (e) => isWharfError(e, 'QUEUE_FULL'))
  await broker.queue('r').ack(first!.partition, first!.offset)
  assert.equal(bytesOf(broker, 'r'), 6)
  await broker.sendToQueue('r', [{ value: body('d', 4) }])
  assert.equal(bytesOf(broker, 'r'), 10)

  // Through an exchange too.
  await broker.declareExchange({ name: 'ex', type: 'fanout' })
  await broker.bind({ source: 'ex', destination: { kind: 'queue', name: 'r' }, key: '', arguments: {} })
  await assert.rejects(broker.publish('ex', '', { value: 'z' }), (e) => isWharfError(e, 'QUEUE_FULL'))
})

test('whichever limit is hit first applies', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('both', { maxLength: 3, maxLengthBytes: 100 })
  for (let i = 0; i < 5; i++) await broker.sendToQueue('both', [{ value: `s${i}` }])
  assert.deepEqual(await drain(broker, 'both'), ['s2', 's3', 's4'], 'count limit first')
  for (let i = 0; i < 3; i++) await broker.sendToQueue('both', [{ value: body(`b${i}`, 40) }])
  const kept = await drain(broker, 'both')
  assert.deepEqual(
    kept.map((v) => v.slice(0, 2)),
    ['b1', 'b2'],
    'byte limit first',
  )

  await broker.createQueue('both-r', { maxLength: 2, maxLengthBytes: 100, overflow: 'reject-publish' })
  await broker.sendToQueue('both-r', [{ value: body('a', 60) }])
  await assert.rejects(broker.sendToQueue('both-r', [{ value: body('b', 60) }]), (e) => isWharfError(e, 'QUEUE_FULL'))
  await broker.sendToQueue('both-r', [{ value: 'c' }])
  await assert.rejects(broker.sendToQueue('both-r', [{ value: 'd' }]), (e) => isWharfError(e, 'QUEUE_FULL'))
})

test('dropped messages are dead-lettered with reason maxlen', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('dead')
  await broker.createQueue('src', { maxLengthBytes: 8, deadLetter: { queue: 'dead' } })
  for (const label of ['m0', 'm1', 'm2', 'm3']) await broker.sendToQueue('src', [{ value: body(label, 4) }])
  const dead = await broker.get('dead', { owner: 'd', max: 10 })
  assert.deepEqual(dead.map(text), ['m0..', 'm1..'])
  const deaths = parseDeaths(dead[0]!.message)
  assert.equal(deaths[0]!.reason, 'maxlen')
  assert.equal(deaths[0]!.queue, 'src')
  assert.deepEqual(await drain(broker, 'src'), ['m2..', 'm3..'])
  assert.equal(broker.queueStats('src').deadLetteredTotal, 2)
})

test('concurrent publishes: every message is kept or dead-lettered, exactly once', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('dead')
  await broker.createQueue('hot', { maxLengthBytes: 40, deadLetter: { queue: 'dead' } })
  const labels = Array.from({ length: 50 }, (_, i) => `m${String(i).padStart(2, '0')}`)
  await Promise.all(labels.map((l) => broker.sendToQueue('hot', [{ value: body(l, 10) }])))
  assert.equal(bytesOf(broker, 'hot'), 40)
  const kept = (await drain(broker, 'hot')).map((v) => v.slice(0, 3))
  assert.deepEqual(kept, labels.slice(-4))
  const dead = (await broker.get('dead', { owner: 'd', max: 100 })).map((d) => text(d).slice(0, 3))
  assert.deepEqual([...dead].sort(), labels.slice(0, -4))
})

test('the byte count follows nack-requeue, rejection, TTL expiry and purge', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('c', { maxLengthBytes: 1000 })
  await broker.sendToQueue('c', [{ value: body('a', 10) }, { value: body('b', 20) }, { value: body('c', 30) }])
  assert.equal(bytesOf(broker, 'c'), 60)
  const [a] = await broker.get('c', { owner: 'o' })
  broker.queue('c').nack(a!.partition, a!.offset, true)
  assert.equal(bytesOf(broker, 'c'), 60, 'requeued: still there')
  const [again] = await broker.get('c', { owner: 'o' })
  assert.equal(text(again!), text(a!))
  broker.queue('c').nack(again!.partition, again!.offset, false)
  await until(() => bytesOf(broker, 'c') === 50, 2000, 'rejected message uncounted')
  assert.equal(await broker.queue('c').purge(), 2)
  assert.equal(bytesOf(broker, 'c'), 0)

  await broker.createQueue('ttl', { maxLengthBytes: 1000, messageTtlMs: 50 })
  await broker.sendToQueue('ttl', [{ value: body('t', 7) }])
  assert.equal(bytesOf(broker, 'ttl'), 7)
  await until(() => bytesOf(broker, 'ttl') === 0 && broker.queueStats('ttl').depth === 0, 3000, 'expired')

  // No-ack deliveries count as acked at once.
  await broker.sendToQueue('c', [{ value: body('n', 9) }])
  await broker.get('c', { owner: 'o', noAck: true })
  await until(() => bytesOf(broker, 'c') === 0, 2000, 'no-ack delivery uncounted')
})

test('after a restart the count is read back from the log once and limits hold exactly', async (t) => {
  const dir = tempDir(t)
  const first = await createBroker({ dataDir: dir })
  await first.createQueue('keep', { maxLengthBytes: 20, overflow: 'reject-publish' })
  for (const label of ['a', 'b', 'c']) await first.sendToQueue('keep', [{ value: body(label, 5) }])
  // Ack the middle one: an ack above the ack floor, which the read-back must skip.
  const [a, b] = await first.get('keep', { owner: 'x', max: 2 })
  await first.queue('keep').ack(b!.partition, b!.offset)
  first.queue('keep').nack(a!.partition, a!.offset, true)
  assert.equal(bytesOf(first, 'keep'), 10)
  await first.close()

  const second = await createBroker({ dataDir: dir })
  t.after(() => second.close())
  assert.equal(second.queue('keep').config.maxLengthBytes, 20)
  await second.sendToQueue('keep', [{ value: body('d', 10) }]) // waits for the count: 10 + 10 fits
  assert.equal(bytesOf(second, 'keep'), 20)
  await assert.rejects(second.sendToQueue('keep', [{ value: 'e' }]), (e) => isWharfError(e, 'QUEUE_FULL'))
  assert.deepEqual(await drain(second, 'keep'), ['a....', 'c....', 'd.........'])
  assert.equal(bytesOf(second, 'keep'), 0)
})

test('records appended by others (raw batches) and limits set later are counted from the log', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('k')
  await broker.sendToQueue('k', [{ value: body('a', 8) }, { value: body('b', 8) }])
  await broker.alterQueue('k', { maxLengthBytes: 100 })
  await until(() => bytesOf(broker, 'k') === 16, 2000, 'existing messages counted')
  await broker.appendRawBatch('k', 0, encodeBatch([{ value: Buffer.alloc(30) }, { value: Buffer.alloc(12) }]))
  await until(() => bytesOf(broker, 'k') === 58, 2000, 'raw batch counted')
  await broker.sendToQueue('k', [{ value: body('c', 2) }])
  assert.equal(bytesOf(broker, 'k'), 60)
  await broker.alterQueue('k', { maxLengthBytes: 40 })
  await broker.sendToQueue('k', [{ value: body('d', 1) }])
  // 61 bytes > 40: drops a(8), b(8), the 30-byte record → 15 left.
  assert.equal(bytesOf(broker, 'k'), 15)
  assert.equal(broker.queueStats('k').depth, 3)
  await broker.alterQueue('k', { maxLengthBytes: null })
  assert.equal(bytesOf(broker, 'k'), undefined)
})

test('records deleted from the log start (Kafka DeleteRecords) leave the count', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('d', { maxLengthBytes: 1000 })
  await broker.sendToQueue('d', [{ value: body('a', 10) }, { value: body('b', 20) }, { value: body('c', 30) }])
  assert.equal(bytesOf(broker, 'd'), 60)
  await broker.stream('d').partitionLog(0).deleteRecordsBefore(2)
  await until(() => bytesOf(broker, 'd') === 30, 2000, 'deleted records uncounted')
  assert.equal(broker.queueStats('d').depth, 1)
})

test('invalid maxLengthBytes values are rejected with INVALID_CONFIG', async (t) => {
  const broker = await openBroker(t)
  for (const bad of [-1, 1.5, '10', Number.NaN]) {
    await assert.rejects(
      broker.createQueue('bad', { maxLengthBytes: bad as number }),
      (e) => isWharfError(e, 'INVALID_CONFIG') && /maxLengthBytes/.test((e as Error).message),
    )
  }
  assert.equal(broker.getQueue('bad'), undefined)
  await broker.createQueue('zero', { maxLengthBytes: 0, overflow: 'reject-publish' })
  await broker.sendToQueue('zero', [{ value: '' }]) // an empty body takes no bytes (as in RabbitMQ)
  await assert.rejects(broker.sendToQueue('zero', [{ value: 'x' }]), (e) => isWharfError(e, 'QUEUE_FULL'))
})

test('reject-publish holds for pipelined publishes: a burst in one tick cannot overshoot either limit', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('n', { maxLength: 5, overflow: 'reject-publish' })
  await broker.createQueue('b', { maxLengthBytes: 300, overflow: 'reject-publish' })
  await broker.declareExchange({ name: 'burst', type: 'fanout' })
  await broker.bind({ source: 'burst', destination: { kind: 'queue', name: 'b' }, key: '', arguments: {} })
  const byCount = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => broker.sendToQueue('n', [{ value: `m${i}` }])),
  )
  const value = Buffer.alloc(100, 7)
  const byBytes = await Promise.allSettled(Array.from({ length: 10 }, () => broker.publish('burst', '', { value })))
  const outcome = (results: PromiseSettledResult<unknown>[]) => ({
    ok: results.filter((r) => r.status === 'fulfilled').length,
    full: results.filter((r) => r.status === 'rejected' && isWharfError(r.reason, 'QUEUE_FULL')).length,
  })
  assert.deepEqual(outcome(byCount), { ok: 5, full: 15 })
  assert.deepEqual(outcome(byBytes), { ok: 3, full: 7 })
  assert.equal(broker.queue('n').depth(), 5)
  assert.equal(broker.queue('b').depth(), 3)
  assert.deepEqual(broker.queue('n').publishing.reserved, { count: 0, bytes: 0 }, 'reservations released once appended')
  // Room again after consuming: the next publish is accepted.
  const [first] = await broker.get('n', { owner: 'x', max: 1 })
  await broker.queue('n').ack(first!.partition, first!.offset, first!.leaseId)
  await broker.sendToQueue('n', [{ value: 'again' }])
})

test('reject-publish-dlx: a refused publish is dead-lettered with reason maxlen, then refused', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('dlq')
  await broker.createQueue('capped', { maxLength: 1, overflow: 'reject-publish-dlx', deadLetter: { queue: 'dlq' } })
  await broker.declareExchange({ name: 'in', type: 'fanout' })
  await broker.bind({ source: 'in', destination: { kind: 'queue', name: 'capped' }, key: '', arguments: {} })
  await broker.publish('in', '', { value: 'first' })
  await assert.rejects(broker.publish('in', '', { value: 'second' }), (e) => isWharfError(e, 'QUEUE_FULL'))
  const dead = await broker.get('dlq', { owner: 'x', max: 5, waitMs: 1000 })
  assert.deepEqual(dead.map(text), ['second'])
  assert.equal(parseDeaths(dead[0]!.message)[0]?.reason, 'maxlen')
  assert.equal(parseDeaths(dead[0]!.message)[0]?.queue, 'capped')
  assert.equal(broker.queue('capped').depth(), 1)
})
