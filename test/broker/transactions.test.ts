// Broker transactions (src/broker/transactions): sends invisible until commit, atomic across queues, acks
// held under their lease until commit, rollback redelivers, bounds, owners, and recovery of a commit record
// that was not (or not wholly) applied when the broker stopped.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Broker } from '../../src/broker/broker.ts'
import type { Delivery } from '../../src/broker/queue/types.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { createInspectableBroker, openBroker, sleep, tempDir, text } from './helpers.ts'

async function drain(broker: Broker, queue: string, owner = 'reader'): Promise<Delivery[]> {
  const out: Delivery[] = []
  for (;;) {
    const batch = await broker.get(queue, { owner, max: 100, waitMs: 50 })
    if (batch.length === 0) return out
    out.push(...batch)
  }
}

test('sends are invisible until commit, then land on every destination at once; rollback drops them', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('a')
  await broker.createQueue('b')
  await broker.declareExchange({ name: 'fan', type: 'fanout' })
  await broker.bind({ source: 'fan', destination: { kind: 'queue', name: 'a' }, key: '', arguments: {} })
  await broker.bind({ source: 'fan', destination: { kind: 'queue', name: 'b' }, key: '', arguments: {} })

  const tx = broker.transactions.begin('conn-1')
  assert.equal(tx.send({ exchange: 'fan', routingKey: '' }, { value: 'both' }), 2)
  assert.equal(tx.send({ queue: 'a' }, { value: 'only-a' }), 1)
  assert.equal(tx.send({ queue: 'missing' }, { value: 'x' }), 0, 'no such queue: unroutable, nothing held')
  await sleep(20)
  assert.equal(broker.queueStats('a').depth, 0, 'nothing visible before commit')
  assert.equal(broker.queueStats('b').depth, 0)
  await tx.commit()
  assert.equal(tx.state, 'committed')
  assert.deepEqual((await drain(broker, 'a')).map(text).sort(), ['both', 'only-a'])
  assert.deepEqual((await drain(broker, 'b')).map(text), ['both'])
  assert.deepEqual(
    broker.listStreams().map((s) => s.name),
    ['a', 'b'],
    'the transaction log is not a stream anyone lists',
  )

  const aborted = broker.transactions.begin('conn-1')
  aborted.send({ queue: 'a' }, { value: 'dropped' })
  aborted.rollback()
  assert.equal(aborted.state, 'rolled-back')
  await assert.rejects(aborted.commit(), (e) => isWharfError(e, 'PRECONDITION_FAILED'))
  assert.deepEqual(await drain(broker, 'a'), [])
})

test('an ack inside a transaction keeps the lease until commit; rollback redelivers with a higher count', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await broker.sendToQueue('q', [{ value: 'm1' }, { value: 'm2' }])
  const [d1, d2] = await broker.get('q', { owner: 'c1', max: 2 })
  assert.ok(d1 && d2)

  const tx = broker.transactions.begin('c1')
  tx.ack(d1)
  assert.throws(
    () => tx.ack(d1),
    (e) => isWharfError(e, 'LEASE_NOT_FOUND'),
    'the same delivery twice',
  )
  // Leased, so no other consumer gets it before the commit.
  assert.deepEqual(await broker.get('q', { owner: 'c2', max: 10, waitMs: 50 }), [])
  await tx.commit()
  assert.equal(broker.queue('q').isAcked(d1.partition, d1.offset), true, 'the commit acked m1')

  const rolled = broker.transactions.begin('c1')
  rolled.ack(d2)
  rolled.rollback()
  const [again] = await broker.get('q', { owner: 'c2', max: 10, waitMs: 1000 })
  assert.ok(again)
  assert.equal(text(again), 'm2')
  assert.equal(again.redelivered, true)
  assert.equal(again.deliveryCount, 2)

  // AMQP 0-9-1 tx.rollback: the acks are forgotten, the deliveries stay with their owner, unacked.
  const kept = broker.transactions.begin('c2')
  kept.ack(again)
  kept.rollback({ returnAcked: false })
  assert.deepEqual(await broker.get('q', { owner: 'c3', max: 10, waitMs: 50 }), [])
  assert.equal(await broker.deliveries.ack(again), true, 'still held by c2')
})

test('several open transactions per owner commit independently; releaseOwner rolls back the open ones', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await broker.sendToQueue('q', [{ value: 'held' }])
  const [held] = await broker.get('q', { owner: 'conn', max: 1 })
  assert.ok(held)
  const one = broker.transactions.begin('conn')
  const two = broker.transactions.begin('conn')
  one.send({ queue: 'q' }, { value: 'one' })
  two.send({ queue: 'q' }, { value: 'two' })
  two.ack(held)
  assert.equal(broker.transactions.openOf('conn'), 2)
  await one.commit()
  await broker.releaseOwner('conn')
  assert.equal(two.state, 'rolled-back')
  assert.equal(broker.transactions.openOf('conn'), 0)
  const rest = await drain(broker, 'q')
  assert.deepEqual(rest.map(text).sort(), ['held', 'one'])
  assert.equal(rest.find((d) => text(d) === 'held')?.redelivered, true)
})

test('bounds: bytes, operations and open transactions per owner, each a LIMIT_EXCEEDED', async (t) => {
  const dir = tempDir(t)
  const { createBroker } = await import('../../src/index.ts')
  const broker = await createBroker({
    dataDir: dir,
    transactionLimits: { bytesMax: 4096, operationsMax: 3, openPerOwnerMax: 2 },
  })
  t.after(() => broker.close())
  await broker.createQueue('q')
  const tx = broker.transactions.begin('o')
  assert.throws(
    () => tx.send({ queue: 'q' }, { value: Buffer.alloc(5000) }),
    (e) => isWharfError(e, 'LIMIT_EXCEEDED') && e.detail.argument === 'bytesMax',
  )
  tx.send({ queue: 'q' }, { value: 'a' })
  tx.send({ queue: 'q' }, { value: 'b' })
  tx.send({ queue: 'q' }, { value: 'c' })
  assert.throws(
    () => tx.send({ queue: 'q' }, { value: 'd' }),
    (e) => isWharfError(e, 'LIMIT_EXCEEDED') && e.detail.argument === 'operationsMax',
  )
  broker.transactions.begin('o')
  assert.throws(
    () => broker.transactions.begin('o'),
    (e) => isWharfError(e, 'LIMIT_EXCEEDED'),
  )
  await tx.commit()
  assert.deepEqual((await drain(broker, 'q')).map(text), ['a', 'b', 'c'], 'the refused sends were not held')
})

test('a commit whose lease was lost fails whole: nothing is sent', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await broker.createQueue('out')
  await broker.sendToQueue('q', [{ value: 'm' }])
  const [d] = await broker.get('q', { owner: 'c1', max: 1 })
  assert.ok(d)
  const tx = broker.transactions.begin('c1')
  tx.send({ queue: 'out' }, { value: 'x' })
  tx.ack(d)
  broker.deliveries.nack(d, true)
  await assert.rejects(tx.commit(), (e) => isWharfError(e, 'LEASE_NOT_FOUND'))
  assert.equal(tx.state, 'rolled-back')
  assert.deepEqual(await drain(broker, 'out'), [])
})

for (const stopAfter of ['commit-record', 'apply'] as const) {
  test(`recovery: a commit stopped after its ${stopAfter} is applied exactly once at the next open`, async (t) => {
    const dir = tempDir(t)
    const first = await createInspectableBroker({ dataDir: dir })
    await first.createQueue('q1')
    await first.createStream('s2', { partitions: 3 })
    await first.createQueue('q2', { stream: 's2' })
    await first.sendToQueue('q1', [{ value: 'to-ack' }, { value: 'stays' }])
    const [toAck] = await first.get('q1', { owner: 'c', max: 1 })
    assert.ok(toAck)
    first.transactions.stopAfter = stopAfter
    const tx = first.transactions.begin('c')
    for (let i = 0; i < 5; i++) tx.send({ queue: 'q1' }, { value: `a${i}`, key: `k${i}` })
    for (let i = 0; i < 5; i++) tx.send({ queue: 'q2' }, { value: `b${i}`, key: `k${i}` })
    tx.ack(toAck)
    await tx.commit()
    // The marker did not move past the commit, as after a crash at that point; a close adds nothing to the logs.
    await first.close()

    for (let round = 0; round < 2; round++) {
      const broker = await createInspectableBroker({ dataDir: dir })
      try {
        const q1 = (await drain(broker, 'q1')).map(text).sort()
        const q2 = (await drain(broker, 'q2')).map(text).sort()
        assert.deepEqual(q1, ['a0', 'a1', 'a2', 'a3', 'a4', 'stays'], `round ${round}: q1 whole, once, ack applied`)
        assert.deepEqual(q2, ['b0', 'b1', 'b2', 'b3', 'b4'], `round ${round}: q2 whole, once`)
        // Give the drained leases back so the next round sees the same contents.
        await broker.releaseOwner('reader')
      } finally {
        await broker.close()
      }
    }
  })
}

test('after a clean close the applied marker is past every commit: the next open re-applies nothing', async (t) => {
  const dir = tempDir(t)
  const { createBroker } = await import('../../src/index.ts')
  const first = await createBroker({ dataDir: dir })
  await first.createQueue('q')
  for (let i = 0; i < 3; i++) {
    const tx = first.transactions.begin('o')
    tx.send({ queue: 'q' }, { value: `m${i}` })
    await tx.commit()
  }
  await first.close()
  const warnings: string[] = []
  const second = await createBroker({ dataDir: dir, warn: (message) => warnings.push(message) })
  t.after(() => second.close())
  assert.deepEqual(warnings, [])
  assert.deepEqual((await drain(second, 'q')).map(text), ['m0', 'm1', 'm2'])
})

test('recovery after a partial apply appends only the records of a partition not found there', async (t) => {
  const dir = tempDir(t)
  const first = await createInspectableBroker({ dataDir: dir })
  await first.createQueue('q')
  first.transactions.stopAfter = 'commit-record'
  const tx = first.transactions.begin('c')
  for (let i = 0; i < 5; i++) tx.send({ queue: 'q' }, { value: `m${i}` })
  await tx.commit()
  // As if the first of two batches of the apply reached the disk before the crash: m0 and m1, tagged.
  const tag = { key: 'wharf.tx', value: Buffer.from(tx.id) }
  await first.produce('q', [
    { value: 'm0', headers: [tag] },
    { value: 'm1', headers: [tag] },
  ])
  await first.close()
  const broker = await createInspectableBroker({ dataDir: dir })
  t.after(() => broker.close())
  assert.deepEqual((await drain(broker, 'q')).map(text), ['m0', 'm1', 'm2', 'm3', 'm4'])
})
