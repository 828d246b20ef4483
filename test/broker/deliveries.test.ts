// Settling by reference (broker.deliveries) and the credit-bounded LogCursor, through the embedded API.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CreditGroup } from '../../src/broker/credit.ts'
import type { StoredMessage } from '../../src/broker/message.ts'
import { deliveryKey } from '../../src/broker/queue/deliveries.ts'
import type { Delivery } from '../../src/broker/queue/types.ts'
import { openBroker, sleep, text, until } from './helpers.ts'

const msgs = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}` }))

test('a delivery is its own handle: ack, settle, nack and extend by reference; stale refs do nothing', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await broker.sendToQueue('q', msgs(4))
  const [a, b, c, d] = await broker.get('q', { owner: 'o', max: 4, leaseMs: 60_000 })
  assert.ok(a && b && c && d)
  assert.equal(await broker.deliveries.ack(a), true)
  assert.equal(await broker.deliveries.ack(a), false, 'acked already')
  assert.equal(broker.deliveries.settle(b), true)
  assert.equal(broker.deliveries.nack(c, true), true)
  assert.equal(broker.deliveries.extend(d, 0), true, '0 makes it visible now')
  const again = await broker.get('q', { owner: 'o', max: 4 })
  assert.deepEqual(again.map(text).sort(), ['m2', 'm3'])
  assert.equal(broker.deliveries.settle(c), false, 'the old lease of a redelivered message is stale')
  const redelivered = again.find((x) => x.offset === c.offset)!
  assert.equal(deliveryKey(redelivered), deliveryKey(c), 'the key names the message, not the lease')
  assert.notEqual(redelivered.leaseId, c.leaseId)
  assert.equal(broker.deliveries.settle({ queue: 'nope', partition: 0, offset: 0, leaseId: 1 }), false)
})

test('a reference to a deleted queue never settles a delivery of the queue re-created under its name', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await broker.sendToQueue('q', msgs(1, 'old'))
  const [old] = await broker.get('q', { owner: 'o', leaseMs: 60_000 })
  await broker.deleteQueue('q')
  await broker.createQueue('q')
  await broker.sendToQueue('q', msgs(1, 'new'))
  const [fresh] = await broker.get('q', { owner: 'o', leaseMs: 60_000 })
  assert.equal(fresh!.offset, old!.offset)
  assert.equal(broker.deliveries.settle(old!), false)
  assert.equal(broker.queueStats('q').inflight, 1)
})

test('a CreditGroup counts through take/release/resize and wakes consumers waiting for room', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await broker.sendToQueue('q', msgs(5))
  const credit = new CreditGroup(2)
  const got: string[] = []
  broker.consume('q', {
    owner: 'o',
    creditGroup: credit,
    onDeliver: (ds) => {
      for (const d of ds) got.push(text(d))
    },
  })
  await until(() => got.length === 2, 2000, 'two within the credit')
  assert.equal(credit.used, 2)
  assert.equal(credit.room, 0)
  credit.resize(4)
  await until(() => got.length === 4, 2000, 'a larger limit delivers at once')
  assert.equal(credit.used, 4)
})

test('a held parent CreditGroup stops every consumer under it; resume wakes them', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('a')
  await broker.createQueue('b')
  const parent = new CreditGroup(0)
  const got: string[] = []
  const onDeliver = (ds: Delivery[]) => {
    for (const d of ds) got.push(text(d))
  }
  broker.consume('a', { owner: 'o', creditGroup: new CreditGroup(0, parent), onDeliver })
  broker.consume('b', { owner: 'o', creditGroup: new CreditGroup(0, parent), onDeliver })
  parent.hold()
  await broker.sendToQueue('a', msgs(3, 'a'))
  await broker.sendToQueue('b', msgs(3, 'b'))
  await sleep(50)
  assert.deepEqual(got, [], 'held: nothing delivered')
  assert.equal(broker.queueStats('a').ready, 3)
  parent.resume()
  await until(() => got.length === 6, 2000, 'resume delivers to both queues')
})

test('a LogCursor delivers within its credit, resumes on release and waits for new data', async (t) => {
  const broker = await openBroker(t)
  await broker.createStream('s')
  await broker.produce('s', msgs(5))
  const credit = new CreditGroup(3)
  const got: StoredMessage[] = []
  const cursor = broker.logCursor('s', 0, {
    offset: 1,
    credit,
    deliver: (ms) => got.push(...ms),
    onError: (error) => assert.fail(String(error)),
  })
  t.after(() => cursor.close())
  cursor.pump()
  await until(() => got.length === 3, 2000, 'three within the credit')
  await sleep(20)
  assert.deepEqual(
    got.map((m) => m.offset),
    [1, 2, 3],
  )
  credit.release(3)
  await until(() => got.length === 4, 2000, 'the rest after release')
  await broker.produce('s', msgs(1, 'late'))
  await until(() => got.length === 5, 2000, 'tail delivery without polling')
  assert.equal(cursor.position, 6)
})
