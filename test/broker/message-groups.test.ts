// JMS message groups through the embedded API: JMSXGroupID pins a group to the consumer that got its first
// message, groups spread over consumers, a cancelled consumer's groups move, JMSXGroupSeq -1 closes a group, a
// consumer without credit holds its groups back without blocking the others, the pin map is bounded, and SQS
// FIFO queues keep their own group rule.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Broker } from '../../src/broker/broker.ts'
import type { PublishMessage } from '../../src/broker/message.ts'
import type { QueueConsumer } from '../../src/broker/queue/queue.ts'
import type { Delivery } from '../../src/broker/queue/types.ts'
import { openBroker, sleep, text, until } from './helpers.ts'

const grouped = (group: string, body: string, seq?: number): PublishMessage => ({
  value: body,
  headers: [
    { key: 'JMSXGroupID', value: Buffer.from(group) },
    ...(seq === undefined ? [] : [{ key: 'JMSXGroupSeq', value: Buffer.from(String(seq)) }]),
  ],
})

interface Probe {
  got: Delivery[]
  consumer: QueueConsumer
}

function probe(broker: Broker, queue: string, owner: string, prefetch = 0): Probe {
  const got: Delivery[] = []
  const consumer = broker.consume(queue, { owner, prefetch, onDeliver: (ds) => got.push(...ds) })
  return { got, consumer }
}

const groupOf = (d: Delivery) => text(d).split('-')[0]!
const groupsOf = (p: Probe) => new Set(p.got.map(groupOf))

/** Three groups interleaved, n messages each: A-0 B-0 C-0 A-1 ... */
function interleaved(n: number, groups = ['A', 'B', 'C']): PublishMessage[] {
  const out: PublishMessage[] = []
  for (let i = 0; i < n; i++) for (const g of groups) out.push(grouped(g, `${g}-${i}`))
  return out
}

test('each group goes to one consumer, in order, and groups spread over consumers', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const one = probe(broker, 'q', 'one')
  const two = probe(broker, 'q', 'two')
  await broker.sendToQueue('q', interleaved(5))
  await until(() => one.got.length + two.got.length === 15, 3000, '15 deliveries')
  const a = groupsOf(one)
  const b = groupsOf(two)
  for (const g of a) assert.ok(!b.has(g), `group ${g} reached both consumers`)
  assert.ok(a.size > 0 && b.size > 0, 'groups spread over both consumers')
  for (const p of [one, two]) {
    for (const g of groupsOf(p)) {
      const bodies = p.got.filter((d) => groupOf(d) === g).map(text)
      assert.deepEqual(
        bodies,
        [0, 1, 2, 3, 4].map((i) => `${g}-${i}`),
        `group ${g} in order`,
      )
    }
  }
  assert.equal(one.got.concat(two.got).filter((d) => d.groupFirst).length, 3, 'one first-for-consumer per group')
})

test("a cancelled consumer's groups move to another consumer, its returned messages first", async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.createQueue('q')
  const one = probe(broker, 'q', 'one')
  const two = probe(broker, 'q', 'two')
  await broker.sendToQueue('q', interleaved(2))
  await until(() => one.got.length + two.got.length === 6, 3000, '6 deliveries')
  const moved = groupsOf(one)
  // one goes away without acking: its leases return, its groups are free.
  queue.releaseOwner('one')
  await broker.sendToQueue(
    'q',
    interleaved(1).map((m, i) => ({ ...m, value: `${['A', 'B', 'C'][i]}-9` })),
  )
  await until(() => two.got.length >= 9, 3000, 'everything on two')
  await sleep(50)
  assert.equal(two.got.length, 9, 'two got every message: its own, the returned ones and the new ones')
  for (const g of moved) {
    const bodies = two.got.filter((d) => groupOf(d) === g).map(text)
    assert.deepEqual(bodies, [`${g}-0`, `${g}-1`, `${g}-9`], `moved group ${g} in order`)
    assert.ok(two.got.find((d) => text(d) === `${g}-0`)!.redelivered)
  }
})

test('JMSXGroupSeq -1 closes a group: its next message may go to another consumer', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.createQueue('q')
  const one = probe(broker, 'q', 'one')
  await broker.sendToQueue('q', [grouped('G', 'G-0'), grouped('G', 'G-1', -1)])
  await until(() => one.got.length === 2, 3000, 'one gets G')
  for (const d of one.got) await queue.ack(d.partition, d.offset, d.leaseId)
  const two = probe(broker, 'q', 'two')
  // Round robin now offers the reopened group to whichever consumer is next; with the group closed both may.
  await broker.sendToQueue('q', [grouped('G', 'G-2')])
  await broker.sendToQueue('q', [grouped('G', 'G-3')])
  await until(() => one.got.length + two.got.length === 4, 3000, 'G-2 and G-3 delivered')
  const reopened = one.got.length === 4 ? one : two
  assert.equal(reopened.got.slice(-2).map(text).join(), 'G-2,G-3', 'the reopened group stays on one consumer')
  assert.equal(reopened.got.at(-2)!.groupFirst, true)

  // Without the close, the same sequence pins G to one consumer for good.
  const three = probe(broker, 'q', 'three')
  await broker.sendToQueue('q', [grouped('G', 'G-4')])
  await until(() => one.got.length + two.got.length + three.got.length === 5, 3000, 'G-4 delivered')
  assert.equal(three.got.length, 0, 'a pinned group never reaches a new consumer')
  assert.equal(text(reopened.got.at(-1)!), 'G-4')
})

test('a group whose consumer has no credit waits; other groups flow to the others', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const slow = probe(broker, 'q', 'slow', 1)
  await broker.sendToQueue('q', [grouped('A', 'A-0')])
  await until(() => slow.got.length === 1, 3000, 'slow pins A')
  const fast = probe(broker, 'q', 'fast')
  await broker.sendToQueue('q', [grouped('A', 'A-1'), grouped('B', 'B-0'), grouped('A', 'A-2'), grouped('B', 'B-1')])
  await until(() => fast.got.length === 2, 3000, 'fast gets B')
  await sleep(50)
  assert.deepEqual(fast.got.map(text), ['B-0', 'B-1'], 'A messages never go to fast')
  assert.equal(slow.got.length, 1, 'A-1 waits for credit on slow')
  const first = slow.got[0]!
  await broker.deliveries.ack(first)
  await until(() => slow.got.length === 2, 3000, 'A-1 once slow has credit')
  assert.equal(text(slow.got[1]!), 'A-1')
})

test('the pin map is bounded: idle groups beyond messageGroupsMax are forgotten', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.createQueue('q', { messageGroupsMax: 4 })
  const one = probe(broker, 'q', 'one')
  const groups = Array.from({ length: 50 }, (_, i) => `g${i}`)
  await broker.sendToQueue('q', interleaved(1, groups))
  await until(() => one.got.length === 50, 3000, '50 deliveries')
  for (const d of one.got) await broker.deliveries.ack(d)
  await broker.sendToQueue('q', [grouped('last', 'last-0')])
  await until(() => one.got.length === 51, 3000)
  assert.ok(queue.messageGroupCount() <= 4 + 1, `pins stay bounded (${queue.messageGroupCount()})`)
})

test('fifo queues keep SQS group semantics: one in flight per group, any consumer', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('f', { fifo: true })
  const one = probe(broker, 'f', 'one')
  await broker.sendToQueue('f', [
    { value: 'x-0', groupId: 'x' },
    { value: 'x-1', groupId: 'x' },
  ])
  await until(() => one.got.length === 1, 3000)
  await sleep(50)
  assert.equal(one.got.length, 1, 'second message of the group waits for the first')
  await broker.deliveries.ack(one.got[0]!)
  await until(() => one.got.length === 2, 3000)
})

test('a redelivery delay holds a returned message back, with backoff, keeping its count', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('r', { redeliveryDelayMs: 300, redeliveryBackoff: 2 })
  const one = probe(broker, 'r', 'one')
  await broker.sendToQueue('r', [{ value: 'm' }])
  await until(() => one.got.length === 1, 3000)
  let nackedAt = Date.now()
  broker.deliveries.nack(one.got[0]!, true)
  await until(() => one.got.length === 2, 5000, 'first redelivery')
  assert.ok(Date.now() - nackedAt >= 290, 'not redelivered before the delay')
  assert.equal(one.got[1]!.deliveryCount, 2)
  assert.equal(one.got[1]!.redelivered, true)
  nackedAt = Date.now()
  broker.deliveries.nack(one.got[1]!, true)
  await until(() => one.got.length === 3, 5000, 'second redelivery')
  assert.ok(Date.now() - nackedAt >= 590, 'the second wait is doubled')
  assert.equal(one.got[2]!.deliveryCount, 3)
})

test('past maxDeliveries a message goes to a dead-letter queue created on demand', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('work', { maxDeliveries: 2, deadLetter: { queue: 'DLQ.work', create: true } })
  const one = probe(broker, 'work', 'one')
  await broker.sendToQueue('work', [{ value: 'poison', headers: [{ key: 'h', value: Buffer.from('v') }] }])
  await until(() => one.got.length === 1, 3000)
  broker.deliveries.nack(one.got[0]!, true)
  await until(() => one.got.length === 2, 3000)
  broker.deliveries.nack(one.got[1]!, true)
  await until(() => broker.getQueue('DLQ.work')?.depth() === 1, 3000, 'dead letter in DLQ.work')
  const [dead] = await broker.get('DLQ.work', { owner: 'x' })
  assert.equal(text(dead!), 'poison')
  assert.equal(dead!.message.headers.find((h) => h.key === 'h')?.value?.toString(), 'v')
})
