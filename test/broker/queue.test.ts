// Queue mode through the embedded API. "Acknowledged by the producer" = the produce/sendToQueue promise
// resolved (durable per the stream policy, fsync by default); "acked by a consumer" = ack() resolved.
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Delivery } from '../../src/broker/queue/types.ts'
import { createBroker, isWharfError } from '../../src/index.ts'
import { createInspectableBroker, openBroker, sleep, storageOf, tempDir, text, until } from './helpers.ts'

const msgs = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}` }))

test('competing consumers get each message exactly once while all ack', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('work')
  const seen = new Map<string, number>()
  const perConsumer = [0, 0, 0]
  for (let c = 0; c < 3; c++) {
    broker.consume('work', {
      owner: `conn-${c}`,
      prefetch: 10,
      onDeliver: (ds) => {
        for (const d of ds) {
          seen.set(text(d), (seen.get(text(d)) ?? 0) + 1)
          perConsumer[c]!++
          void broker.queue('work').ack(d.partition, d.offset)
        }
      },
    })
  }
  for (let i = 0; i < 10; i++) await broker.sendToQueue('work', msgs(30, `b${i}-`))
  await until(() => seen.size === 300, 5000, '300 deliveries')
  await sleep(50)
  assert.equal(seen.size, 300)
  assert.ok(
    [...seen.values()].every((n) => n === 1),
    'no duplicates',
  )
  assert.ok(
    perConsumer.every((n) => n > 0),
    `all consumers got work: ${perConsumer}`,
  )
  await until(() => broker.queueStats('work').depth === 0, 2000, 'depth 0')
})

test('nack requeues with a delivery count; an expired lease redelivers; stale lease ids are refused', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.createQueue('q', { leaseMs: 100 })
  await broker.sendToQueue('q', [{ value: 'x' }])
  const [first] = await broker.get('q', { owner: 'a' })
  assert.equal(first!.deliveryCount, 1)
  assert.equal(first!.redelivered, false)
  assert.equal(queue.nack(first!.partition, first!.offset, true), true)
  const [second] = await broker.get('q', { owner: 'a' })
  assert.equal(text(second!), 'x')
  assert.equal(second!.deliveryCount, 2)
  assert.equal(second!.redelivered, true)
  assert.deepEqual(await broker.get('q', { owner: 'a' }), [], 'in flight: not visible')
  const [third] = await broker.get('q', { owner: 'b', waitMs: 2000 })
  assert.equal(third!.deliveryCount, 3, 'lease expiry made it visible again')
  assert.equal(await queue.ack(second!.partition, second!.offset, second!.leaseId), false, 'old lease is stale')
  assert.equal(await queue.ack(third!.partition, third!.offset, third!.leaseId), true)
  assert.equal(queue.queueStats().depth, 0)
})

test('dead-lettering after maxDeliveries records reason and source queue', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('dlq')
  const queue = await broker.createQueue('src', { maxDeliveries: 2, deadLetter: { queue: 'dlq' } })
  await broker.sendToQueue('src', [{ value: 'poison' }])
  for (let i = 0; i < 2; i++) {
    const [d] = await broker.get('src', { owner: 'c', waitMs: 1000 })
    assert.equal(d!.deliveryCount, i + 1)
    queue.nack(d!.partition, d!.offset, true)
  }
  const [dead] = await broker.get('dlq', { owner: 'c', waitMs: 2000 })
  assert.equal(text(dead!), 'poison')
  const deaths = JSON.parse(dead!.message.headers.find((h) => h.key === 'wharf.deaths')!.value!.toString())
  assert.equal(deaths[0].queue, 'src')
  assert.equal(deaths[0].reason, 'delivery_limit')
  assert.equal(deaths[0].count, 1)
  await until(() => queue.queueStats().depth === 0, 2000, 'source emptied')
  // Rejected without requeue → dead-lettered with reason rejected.
  await broker.sendToQueue('src', [{ value: 'reject-me' }])
  const [r] = await broker.get('src', { owner: 'c', waitMs: 1000 })
  queue.nack(r!.partition, r!.offset, false)
  const [dead2] = await broker.get('dlq', { owner: 'c', waitMs: 2000 })
  assert.equal(
    JSON.parse(dead2!.message.headers.find((h) => h.key === 'wharf.deaths')!.value!.toString())[0].reason,
    'rejected',
  )
})

test('per-queue and per-message TTL expire messages (dead-lettered as expired)', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('expired')
  await broker.createQueue('ttl', { messageTtlMs: 100, deadLetter: { queue: 'expired' } })
  await broker.createQueue('msgttl')
  await broker.sendToQueue('ttl', [{ value: 'short' }])
  await broker.sendToQueue('msgttl', [{ value: 'dies', ttlMs: 50 }, { value: 'lives' }])
  await sleep(250)
  assert.deepEqual(await broker.get('ttl', { owner: 'x' }), [])
  const [d] = await broker.get('expired', { owner: 'x', waitMs: 1000 })
  assert.equal(text(d!), 'short')
  assert.match(d!.message.headers.find((h) => h.key === 'wharf.deaths')!.value!.toString(), /"reason":"expired"/)
  const got = await broker.get('msgttl', { owner: 'x', max: 10 })
  assert.deepEqual(got.map(text), ['lives'])
})

test('delayed delivery: not visible before its time, per message and queue default', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('later', { deliveryDelayMs: 200 })
  await broker.createQueue('now')
  const start = Date.now()
  await broker.sendToQueue('later', [{ value: 'queue-default' }])
  await broker.sendToQueue('now', [{ value: 'delayed', delayMs: 200 }, { value: 'immediate' }])
  const immediate = await broker.get('now', { owner: 'x', max: 10 })
  assert.deepEqual(immediate.map(text), ['immediate'])
  assert.deepEqual(await broker.get('later', { owner: 'x' }), [])
  const [a] = await broker.get('later', { owner: 'x', waitMs: 2000 })
  const [b] = await broker.get('now', { owner: 'x', waitMs: 2000 })
  assert.equal(text(a!), 'queue-default')
  assert.equal(text(b!), 'delayed')
  assert.ok(Date.now() - start >= 190)
})

test('priorities: higher priority first; equal priority in publish order', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('prio', { maxPriority: 9 })
  await broker.sendToQueue('prio', [
    { value: 'low-1', priority: 1 },
    { value: 'none' },
    { value: 'high-1', priority: 9 },
    { value: 'mid', priority: 5 },
    { value: 'high-2', priority: 9 },
  ])
  const got = await broker.get('prio', { owner: 'x', max: 10 })
  assert.deepEqual(got.map(text), ['high-1', 'high-2', 'mid', 'low-1', 'none'])
})

test('FIFO message groups never have two messages in flight', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.createQueue('fifo', { fifo: true, leaseMs: 5000 })
  const messages = []
  for (let i = 0; i < 30; i++) messages.push({ value: `g${i % 3}-${i}`, groupId: `g${i % 3}` })
  await broker.sendToQueue('fifo', messages)
  const inflight = new Map<string, number>()
  const order = new Map<string, string[]>()
  let maxInflight = 0
  let received = 0
  while (received < 30) {
    const batch = await broker.get('fifo', { owner: 'x', max: 10, waitMs: 1000 })
    assert.ok(batch.length > 0)
    for (const d of batch) {
      const group = text(d).split('-')[0]!
      inflight.set(group, (inflight.get(group) ?? 0) + 1)
      maxInflight = Math.max(maxInflight, inflight.get(group)!)
      order.set(group, [...(order.get(group) ?? []), text(d)])
    }
    assert.ok(batch.length <= 3, 'at most one per group per receive')
    for (const d of batch) {
      inflight.set(text(d).split('-')[0]!, inflight.get(text(d).split('-')[0]!)! - 1)
      await queue.ack(d.partition, d.offset)
      received++
    }
  }
  assert.equal(maxInflight, 1)
  for (const [group, values] of order) {
    const numbers = values.map((v) => Number(v.split('-')[1]))
    assert.deepEqual(
      numbers,
      [...numbers].sort((a, b) => a - b),
      `group ${group} in order`,
    )
  }
})

test('max length: drop-head drops the oldest, reject-publish refuses', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('dh', { maxLength: 3 })
  await broker.createQueue('rp', { maxLength: 2, overflow: 'reject-publish' })
  await broker.sendToQueue('dh', msgs(5))
  const kept = await broker.get('dh', { owner: 'x', max: 10 })
  assert.deepEqual(kept.map(text), ['m2', 'm3', 'm4'])
  await broker.sendToQueue('rp', msgs(2))
  await assert.rejects(broker.sendToQueue('rp', msgs(1, 'z')), (e) => isWharfError(e, 'QUEUE_FULL'))
  assert.equal(broker.queueStats('rp').depth, 2)
})

test('prefetch bounds unacked deliveries per consumer; single active consumer takes everything', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('pf')
  const held: Delivery[] = []
  broker.consume('pf', { owner: 'o', prefetch: 2, onDeliver: (ds) => held.push(...ds) })
  await broker.sendToQueue('pf', msgs(10))
  await sleep(50)
  assert.equal(held.length, 2)
  await broker.queue('pf').ack(held[0]!.partition, held[0]!.offset)
  await until(() => held.length === 3, 1000, 'credit returned')
  await sleep(30)
  assert.equal(held.length, 3)

  await broker.createQueue('sac', { singleActiveConsumer: true })
  const a: string[] = []
  const b: string[] = []
  const ca = broker.consume('sac', { owner: 'a', onDeliver: (ds) => a.push(...ds.map(text)) })
  broker.consume('sac', { owner: 'b', onDeliver: (ds) => b.push(...ds.map(text)) })
  await broker.sendToQueue('sac', msgs(5))
  await until(() => a.length === 5)
  assert.equal(b.length, 0)
  broker.queue('sac').cancel(ca)
  await broker.sendToQueue('sac', msgs(2, 'n'))
  await until(() => b.length === 2, 1000, 'next consumer takes over')
})

test('exclusive consumers and auto-delete queues', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('ex')
  broker.consume('ex', { owner: 'a', exclusive: true, onDeliver: () => {} })
  assert.throws(
    () => broker.consume('ex', { owner: 'b', onDeliver: () => {} }),
    (e) => isWharfError(e, 'RESOURCE_LOCKED'),
  )
  await broker.createQueue('auto', { autoDelete: true })
  const c = broker.consume('auto', { owner: 'a', onDeliver: () => {} })
  broker.queue('auto').cancel(c)
  await until(() => broker.getQueue('auto') === undefined, 1000, 'auto-delete')
  await broker.createQueue('mine', { exclusiveOwner: 'conn-1' })
  await broker.releaseOwner('conn-1')
  assert.equal(broker.getQueue('mine'), undefined)
})

test('releasing an owner returns its leases, flagged redelivered', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('rel')
  await broker.sendToQueue('rel', msgs(3))
  const got = await broker.get('rel', { owner: 'chan-1', max: 3 })
  assert.equal(got.length, 3)
  await broker.releaseOwner('chan-1')
  const again = await broker.get('rel', { owner: 'chan-2', max: 3 })
  assert.deepEqual(again.map(text), ['m0', 'm1', 'm2'])
  assert.ok(again.every((d) => d.redelivered))
})

test('long-poll get wakes on publish', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('lp')
  const pending = broker.get('lp', { owner: 'x', waitMs: 5000, max: 5 })
  await sleep(30)
  await broker.sendToQueue('lp', [{ value: 'hello' }])
  const got = await pending
  assert.deepEqual(got.map(text), ['hello'])
  const empty = await broker.get('lp', { owner: 'x', waitMs: 50 })
  assert.deepEqual(empty, [])
})

test('two queues on one stream each get every message (fan-out by subscription)', async (t) => {
  const broker = await openBroker(t)
  await broker.createStream('events', { workQueue: true })
  await broker.createQueue('billing', { stream: 'events' })
  await broker.createQueue('audit', { stream: 'events' })
  await broker.produce('events', msgs(20))
  const a = await broker.get('billing', { owner: 'x', max: 100 })
  const b = await broker.get('audit', { owner: 'x', max: 100 })
  assert.equal(a.length, 20)
  assert.equal(b.length, 20)
})

test('state survives restart: acked messages stay gone, unacked come back redelivered', async (t) => {
  const dir = tempDir(t)
  let broker = await createBroker({ dataDir: dir })
  await broker.createQueue('durable', { maxDeliveries: 5 })
  await broker.createQueue('transient', { durable: false })
  await broker.sendToQueue('durable', msgs(4))
  const got = await broker.get('durable', { owner: 'x', max: 4 })
  await broker.queue('durable').ack(got[0]!.partition, got[0]!.offset)
  await broker.queue('durable').ack(got[2]!.partition, got[2]!.offset)
  await broker.close()
  broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  assert.equal(broker.getQueue('transient'), undefined, 'transient queue gone')
  assert.equal(broker.queue('durable').config.maxDeliveries, 5)
  const after = await broker.get('durable', { owner: 'y', max: 10 })
  assert.deepEqual(after.map(text), ['m1', 'm3'])
  assert.ok(
    after.every((d) => d.redelivered),
    'in-flight before restart → redelivered',
  )
})

test('transient and exclusive queues live in memory: no files, no catalog entries, same semantics', async (t) => {
  const dir = tempDir(t)
  const broker = await createInspectableBroker({ dataDir: dir })
  t.after(() => broker.close())
  const logsBefore = readdirSync(join(dir, 'logs'))
  await broker.createQueue('mem', { durable: false, maxDeliveries: 2 })
  await broker.createQueue('mine', { exclusiveOwner: 'conn-1' })
  await broker.sendToQueue('mem', msgs(3))
  await broker.sendToQueue('mine', msgs(2))
  assert.deepEqual(readdirSync(join(dir, 'logs')), logsBefore, 'no log directory for transient queues')
  assert.equal(storageOf(broker).metadata.get('stream', 'mem'), undefined)
  const q = broker.queue('mem')
  const first = await broker.get('mem', { owner: 'a', max: 3, leaseMs: 60_000 })
  assert.deepEqual(first.map(text), ['m0', 'm1', 'm2'])
  await q.ack(first[0]!.partition, first[0]!.offset, first[0]!.leaseId)
  await q.nack(first[1]!.partition, first[1]!.offset, true, first[1]!.leaseId)
  const again = await broker.get('mem', { owner: 'a', max: 3 })
  assert.deepEqual(again.map(text), ['m1'])
  assert.ok(again[0]!.redelivered)
  assert.equal(q.depth(), 2)
  assert.deepEqual(storageOf(broker).cursors.keys(), [], 'acks of transient queues never reach the durable store')
  assert.deepEqual((await broker.get('mine', { owner: 'conn-1', max: 5 })).map(text), ['m0', 'm1'])
  await broker.deleteQueue('mem')
  assert.deepEqual(storageOf(broker).memoryCursors.keys('q'), [])
})

test('invalid calls get typed errors with stable codes', async (t) => {
  const broker = await openBroker(t)
  await assert.rejects(broker.sendToQueue('nope', msgs(1)), (e) => isWharfError(e, 'SUBSCRIPTION_NOT_FOUND'))
  await assert.rejects(broker.produce('nope', msgs(1)), (e) => isWharfError(e, 'STREAM_NOT_FOUND'))
  await assert.rejects(broker.createQueue('bad', { maxPriority: 300 }), (e) => isWharfError(e, 'INVALID_CONFIG'))
  await assert.rejects(broker.createQueue('bad', { nonsense: 1 } as never), (e) => isWharfError(e, 'INVALID_CONFIG'))
  await assert.rejects(broker.createStream('', {}), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
  await assert.rejects(broker.createStream('s', { partitions: 0 }), (e) => isWharfError(e, 'INVALID_CONFIG'))
  await broker.createStream('small', { maxMessageBytes: 100 })
  await assert.rejects(broker.produce('small', [{ value: Buffer.alloc(200) }]), (e) =>
    isWharfError(e, 'MESSAGE_TOO_LARGE'),
  )
  await assert.rejects(broker.produce('small', msgs(1), { partition: 3 }), (e) =>
    isWharfError(e, 'PARTITION_NOT_FOUND'),
  )
  await assert.rejects(broker.createStream('small'), (e) => isWharfError(e, 'STREAM_EXISTS'))
  await broker.createQueue('q1')
  await assert.rejects(broker.deleteStream('q1'), (e) => isWharfError(e, 'PRECONDITION_FAILED'))
})

test('work-queue retention deletes segments once every queue acked past them; log readers see the start move', async (t) => {
  const broker = await openBroker(t)
  await broker.createStream('jobs', { workQueue: true, segmentBytes: 4096 })
  await broker.createQueue('a', { stream: 'jobs' })
  await broker.createQueue('b', { stream: 'jobs' })
  for (let i = 0; i < 100; i++) await broker.produce('jobs', [{ value: Buffer.alloc(300, i) }])
  const log = broker.stream('jobs').partitionLog(0)
  const segments = log.segmentCount
  assert.ok(segments > 3)
  const drain = async (queue: string) => {
    for (;;) {
      const got = await broker.get(queue, { owner: 'x', max: 500 })
      if (got.length === 0) return
      await Promise.all(got.map((d) => broker.queue(queue).ack(d.partition, d.offset)))
    }
  }
  await drain('a')
  await sleep(300)
  assert.equal(log.segmentCount, segments, 'queue b has not acked: nothing deleted')
  await drain('b')
  await until(() => log.segmentCount < segments, 3000, 'segments deleted')
  assert.ok(log.logStartOffset > 0)
})

test('extend changes a lease deadline; extend to 0 makes the message visible at once', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.createQueue('vis', { leaseMs: 100 })
  await broker.sendToQueue('vis', [{ value: 'v' }])
  const [d] = await broker.get('vis', { owner: 'x' })
  assert.equal(queue.extend(d!.partition, d!.offset, 2000, d!.leaseId), true)
  await sleep(250)
  assert.deepEqual(await broker.get('vis', { owner: 'y' }), [], 'extended lease still held')
  assert.equal(queue.extend(d!.partition, d!.offset, 0, d!.leaseId), true)
  const [again] = await broker.get('vis', { owner: 'y' })
  assert.equal(text(again!), 'v')
  assert.equal(queue.extend(d!.partition, d!.offset, 1000, d!.leaseId), false, 'the old lease is gone')
})

test('log mode and queue mode read the same stream at once', async (t) => {
  const broker = await openBroker(t)
  await broker.createStream('shared')
  await broker.createQueue('workers', { stream: 'shared' })
  await broker.produce('shared', msgs(5))
  const fromLog = await broker.readMessages('shared', 0, 0)
  const fromQueue = await broker.get('workers', { owner: 'x', max: 10 })
  assert.deepEqual(
    fromLog.messages.map((m) => m.value!.toString()),
    fromQueue.map(text),
  )
  await Promise.all(fromQueue.map((d) => broker.queue('workers').ack(d.partition, d.offset)))
  assert.equal((await broker.readMessages('shared', 0, 0)).messages.length, 5, 'acks do not remove log data')
})
