// Consumer priorities through the embedded API: the highest priority consumers with credit get the
// messages, lower ones only the overflow while every higher one is out of credit; round robin within one
// priority; single-active-consumer queues ignore priorities (the first consumer stays active).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Broker } from '../../src/broker/broker.ts'
import type { QueueConsumer } from '../../src/broker/queue/queue.ts'
import type { Delivery } from '../../src/broker/queue/types.ts'
import { isWharfError } from '../../src/index.ts'
import { openBroker, sleep, text, until } from './helpers.ts'

const msgs = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}` }))

interface Probe {
  got: Delivery[]
  consumer: QueueConsumer
}

/** A consumer that keeps its deliveries unacked (so its prefetch fills up). */
function probe(broker: Broker, queue: string, owner: string, prefetch: number, priority?: number): Probe {
  const got: Delivery[] = []
  const consumer = broker.consume(queue, {
    owner,
    prefetch,
    ...(priority === undefined ? {} : { priority }),
    onDeliver: (ds) => got.push(...ds),
  })
  return { got, consumer }
}

const texts = (p: Probe) => p.got.map(text)

test('the high priority consumer gets everything while it has credit, the low one only the overflow', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.createQueue('q')
  const low = probe(broker, 'q', 'low', 100, 0)
  const high = probe(broker, 'q', 'high', 3, 10)
  await broker.sendToQueue('q', msgs(2))
  await until(() => high.got.length === 2, 2000, 'high gets the first two')
  await sleep(30)
  assert.deepEqual(texts(high), ['m0', 'm1'])
  assert.deepEqual(texts(low), [], 'low gets nothing while high has credit')

  await broker.sendToQueue('q', msgs(8, 'n'))
  await until(() => high.got.length + low.got.length === 10, 2000, '10 deliveries')
  assert.deepEqual(texts(high), ['m0', 'm1', 'n0'], 'high fills its prefetch of 3')
  assert.deepEqual(texts(low), ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'], 'low takes the overflow')

  // Credit back on the high consumer: the next message goes to it although low has credit too.
  const first = high.got[0]!
  assert.equal(await queue.ack(first.partition, first.offset, first.leaseId), true)
  await broker.sendToQueue('q', msgs(1, 'x'))
  await until(() => high.got.length === 4, 2000, 'high gets x0')
  await sleep(30)
  assert.equal(text(high.got[3]!), 'x0')
  assert.equal(low.got.length, 7)
})

test('equal priorities round robin, also above a lower group; insertion order does not matter', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const low = probe(broker, 'q', 'low', 0, -1)
  const a = probe(broker, 'q', 'a', 0, 5)
  const mid = probe(broker, 'q', 'mid', 0, 1)
  const b = probe(broker, 'q', 'b', 0, 5)
  await broker.sendToQueue('q', msgs(10))
  await until(() => a.got.length + b.got.length === 10, 2000, '10 deliveries')
  await sleep(30)
  assert.equal(a.got.length, 5, `a got ${texts(a)}`)
  assert.equal(b.got.length, 5, `b got ${texts(b)}`)
  assert.deepEqual(texts(mid), [])
  assert.deepEqual(texts(low), [])
})

test('a saturated group falls through one level at a time', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const top = probe(broker, 'q', 'top', 1, 10)
  const m1 = probe(broker, 'q', 'm1', 2, 5)
  const m2 = probe(broker, 'q', 'm2', 2, 5)
  const bottom = probe(broker, 'q', 'bottom', 0, -10)
  await broker.sendToQueue('q', msgs(4))
  await until(() => top.got.length + m1.got.length + m2.got.length === 4, 2000, '4 deliveries')
  await sleep(30)
  assert.deepEqual(texts(top), ['m0'])
  assert.equal(m1.got.length + m2.got.length, 3)
  assert.deepEqual(texts(bottom), [], 'bottom waits while the middle group has credit')
  await broker.sendToQueue('q', msgs(4, 'b'))
  await until(() => bottom.got.length === 3, 2000, 'bottom gets the overflow')
  assert.deepEqual(texts(bottom), ['b1', 'b2', 'b3'])
  assert.equal(m1.got.length, 2)
  assert.equal(m2.got.length, 2)
  assert.ok([...texts(m1), ...texts(m2)].includes('b0'), 'the middle group filled up first')
})

test('a negative priority consumer is below the default one', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const negative = probe(broker, 'q', 'neg', 100, -5)
  const normal = probe(broker, 'q', 'normal', 4) // default priority 0
  await broker.sendToQueue('q', msgs(6))
  await until(() => negative.got.length + normal.got.length === 6, 2000, '6 deliveries')
  assert.deepEqual(texts(normal), ['m0', 'm1', 'm2', 'm3'])
  assert.deepEqual(texts(negative), ['m4', 'm5'])
})

test('cancelling the high priority consumer moves delivery to the lower one', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.createQueue('q')
  const low = probe(broker, 'q', 'low', 0, 1)
  const high = probe(broker, 'q', 'high', 0, 2)
  await broker.sendToQueue('q', msgs(3))
  await until(() => high.got.length === 3, 2000, 'high gets all three')
  queue.cancel(high.consumer)
  await broker.sendToQueue('q', msgs(2, 'after'))
  await until(() => low.got.length === 2, 2000, 'low gets the rest')
  assert.deepEqual(texts(low), ['after0', 'after1'])
  assert.equal(high.got.length, 3)
})

test('single-active-consumer queues keep the first consumer active whatever the priorities', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.createQueue('sac', { singleActiveConsumer: true })
  const first = probe(broker, 'sac', 'first', 0, 0)
  const later = probe(broker, 'sac', 'later', 0, 10)
  await broker.sendToQueue('sac', msgs(3))
  await until(() => first.got.length === 3, 2000, 'first consumer gets everything')
  await sleep(30)
  assert.equal(later.got.length, 0)
  queue.cancel(first.consumer)
  await broker.sendToQueue('sac', msgs(1, 'x'))
  await until(() => later.got.length === 1, 2000, 'the next consumer takes over')
})

test('a priority that is not a number is refused', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  assert.throws(
    () => broker.consume('q', { owner: 'o', priority: Number.NaN, onDeliver: () => {} }),
    (e) => isWharfError(e, 'INVALID_ARGUMENT'),
  )
  assert.equal(broker.queueStats('q').consumers, 0)
})

test('round robin alternates when messages come one at a time (one group, and within a priority group)', async (t) => {
  const broker = await openBroker(t)
  for (const [queue, withLower] of [
    ['plain', false],
    ['mixed', true],
  ] as const) {
    await broker.createQueue(queue)
    const a = probe(broker, queue, `${queue}-a`, 0)
    const b = probe(broker, queue, `${queue}-b`, 0)
    const lower = withLower ? probe(broker, queue, `${queue}-low`, 0, -1) : null
    for (let i = 0; i < 6; i++) {
      await broker.sendToQueue(queue, msgs(1, `t${i}-`))
      await until(() => a.got.length + b.got.length === i + 1, 2000, `delivery ${i}`)
    }
    assert.equal(a.got.length, 3, `${queue}: a got ${texts(a)}, b got ${texts(b)}`)
    assert.equal(b.got.length, 3, `${queue}: a got ${texts(a)}, b got ${texts(b)}`)
    assert.equal(lower?.got.length ?? 0, 0)
  }
})
