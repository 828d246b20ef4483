// Delivery counts of queues with a delivery limit (maxDeliveries) survive a broker restart: a message
// re-read from the log goes on from the count stored before, so redelivered and the limit apply. Queues
// without a limit store nothing for it; an ack forgets a stored count.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import type { Broker } from '../../src/index.ts'
import { createInspectableBroker, storageOf, tempDir, text, until } from './helpers.ts'

const child = new URL('./fixtures/delivery-count-child.ts', import.meta.url).pathname

function storedCounts(broker: Broker, queue: string): Array<[number, number]> {
  const q = broker.queue(queue)
  const store =
    q.config.durable && q.config.exclusiveOwner === null ? storageOf(broker).cursors : storageOf(broker).memoryCursors
  return [...(store.getDeliveryCounts(q.partitions[0]!.ackKey) ?? new Map<number, number>())]
}

function deathsOf(message: {
  headers: Array<{ key: string; value: Buffer | null }>
}): Array<{ reason: string; queue: string }> {
  return JSON.parse(message.headers.find((h) => h.key === 'wharf.deaths')!.value!.toString())
}

test('maxDeliveries 3: deliveries before a restart (nacked and in flight) count on; past the limit the requeue dead-letters', async (t) => {
  const dir = tempDir(t)
  let broker = await createInspectableBroker({ dataDir: dir })
  await broker.createQueue('dlq')
  await broker.createQueue('limited', { maxDeliveries: 3, deadLetter: { queue: 'dlq' } })
  await broker.sendToQueue('limited', [{ value: 'poison' }, { value: 'held' }])
  for (let i = 1; i <= 2; i++) {
    const [d] = await broker.get('limited', { owner: 'c', max: 1 })
    assert.equal(text(d!), 'poison')
    assert.equal(d!.deliveryCount, i)
    assert.ok(broker.queue('limited').nack(d!.partition, d!.offset, true, d!.leaseId))
  }
  // In flight at the restart: that delivery counts too (a broker restart loop must not deliver it forever).
  const [held] = await broker.get('limited', { owner: 'c', max: 1 })
  assert.equal(text(held!), 'poison')
  const [other] = await broker.get('limited', { owner: 'c', max: 1 })
  assert.equal(text(other!), 'held')
  await broker.close()

  broker = await createInspectableBroker({ dataDir: dir })
  t.after(() => broker.close())
  const after = await broker.get('limited', { owner: 'c', max: 2 })
  assert.deepEqual(
    after.map((d) => [text(d), d.deliveryCount, d.redelivered]),
    [
      ['poison', 4, true],
      ['held', 2, true],
    ],
  )
  const queue = broker.queue('limited')
  // Past the limit (4 >= 3): the requeue dead-letters it, counting the deliveries from before the restart.
  assert.ok(queue.nack(after[0]!.partition, after[0]!.offset, true, after[0]!.leaseId))
  const [dead] = await broker.get('dlq', { owner: 'c', waitMs: 2000 })
  assert.equal(text(dead!), 'poison')
  assert.equal(deathsOf(dead!.message)[0]!.reason, 'delivery_limit')
  assert.ok(await queue.ack(after[1]!.partition, after[1]!.offset, after[1]!.leaseId))
  await until(() => queue.depth() === 0, 2000, 'source emptied')
  assert.deepEqual(storedCounts(broker, 'limited'), [], 'settled messages leave no counts behind')
})

test('exactly at the limit after a restart: deliveryCount 3, then delivery_limit', async (t) => {
  const dir = tempDir(t)
  let broker = await createInspectableBroker({ dataDir: dir })
  await broker.createQueue('dlq')
  await broker.createQueue('limited', { maxDeliveries: 3, deadLetter: { queue: 'dlq' } })
  await broker.sendToQueue('limited', [{ value: 'poison' }])
  for (let i = 1; i <= 2; i++) {
    const [d] = await broker.get('limited', { owner: 'c' })
    assert.equal(d!.deliveryCount, i)
    broker.queue('limited').nack(d!.partition, d!.offset, true, d!.leaseId)
  }
  await broker.close()
  broker = await createInspectableBroker({ dataDir: dir })
  t.after(() => broker.close())
  const queue = broker.queue('limited')
  const [third] = await broker.get('limited', { owner: 'c' })
  assert.equal(third!.deliveryCount, 3)
  assert.equal(third!.redelivered, true)
  queue.nack(third!.partition, third!.offset, true, third!.leaseId)
  const [dead] = await broker.get('dlq', { owner: 'c', waitMs: 2000 })
  assert.equal(deathsOf(dead!.message)[0]!.reason, 'delivery_limit')
  assert.deepEqual(await broker.get('limited', { owner: 'c' }), [])
})

test('a queue without maxDeliveries stores no counts; one with a limit stores them, and an ack drops them', async (t) => {
  const dir = tempDir(t)
  let broker = await createInspectableBroker({ dataDir: dir })
  await broker.createQueue('plain')
  await broker.createQueue('limited', { maxDeliveries: 10 })
  for (const name of ['plain', 'limited']) {
    await broker.sendToQueue(name, [{ value: 'a' }, { value: 'b' }])
    for (let i = 0; i < 2; i++) {
      for (const d of await broker.get(name, { owner: 'c', max: 2 }))
        broker.queue(name).nack(d.partition, d.offset, true)
    }
    await broker.get(name, { owner: 'c', max: 2 }) // in flight, count 3
  }
  // The maintenance tick saves them (no write per delivery).
  await until(() => storedCounts(broker, 'limited').length === 2, 3000, 'counts saved by the tick')
  assert.deepEqual(storedCounts(broker, 'limited').sort(), [
    [0, 3],
    [1, 3],
  ])
  assert.deepEqual(storedCounts(broker, 'plain'), [])
  const plainKeys = storageOf(broker).cursors.keys(`q\u0000plain\u0000`)
  await broker.close()

  broker = await createInspectableBroker({ dataDir: dir })
  t.after(() => broker.close())
  assert.deepEqual(storedCounts(broker, 'plain'), [])
  assert.deepEqual(storageOf(broker).cursors.keys(`q\u0000plain\u0000`), plainKeys, 'no extra keys for a plain queue')
  const plain = await broker.get('plain', { owner: 'c', max: 2 })
  assert.deepEqual(
    plain.map((d) => d.deliveryCount),
    [1, 1],
    'without a limit the count starts again (nothing was stored)',
  )
  const limited = await broker.get('limited', { owner: 'c', max: 2 })
  assert.deepEqual(
    limited.map((d) => d.deliveryCount),
    [4, 4],
  )
  const queue = broker.queue('limited')
  assert.ok(await queue.ack(limited[0]!.partition, limited[0]!.offset, limited[0]!.leaseId))
  assert.deepEqual(storedCounts(broker, 'limited'), [[1, 3]], 'the acked offset is forgotten')
  queue.nack(limited[1]!.partition, limited[1]!.offset, false) // dead-lettered (dropped: no target) = acked
  await until(() => queue.depth() === 0, 2000, 'dropped')
  assert.deepEqual(storedCounts(broker, 'limited'), [])
  await broker.close()
  broker = await createInspectableBroker({ dataDir: dir })
  assert.deepEqual(storedCounts(broker, 'limited'), [], 'and stays forgotten after a replay')
})

test('transient queue with a limit: the memory cursor store keeps the same counts, the durable one nothing', async (t) => {
  const broker = await createInspectableBroker({ dataDir: tempDir(t) })
  t.after(() => broker.close())
  await broker.createQueue('mem', { durable: false, maxDeliveries: 3 })
  await broker.sendToQueue('mem', [{ value: 'x' }])
  const queue = broker.queue('mem')
  for (let i = 1; i <= 2; i++) {
    const [d] = await broker.get('mem', { owner: 'c' })
    assert.equal(d!.deliveryCount, i)
    queue.nack(d!.partition, d!.offset, true)
  }
  await until(() => storedCounts(broker, 'mem').length === 1, 3000, 'counts saved')
  assert.deepEqual(storedCounts(broker, 'mem'), [[0, 2]])
  assert.deepEqual(storageOf(broker).cursors.keys(), [], 'nothing in the durable store')
  const [d] = await broker.get('mem', { owner: 'c' })
  assert.equal(d!.deliveryCount, 3)
  assert.ok(await queue.ack(d!.partition, d!.offset))
  assert.deepEqual(storedCounts(broker, 'mem'), [])
})

test('SIGKILL after the counts were saved: the limit still counts the deliveries from before the crash', async (t) => {
  const dir = tempDir(t)
  await new Promise<void>((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    proc.stdout.on('data', (data: Buffer) => {
      out += data.toString()
      if (out.includes('saved')) proc.kill('SIGKILL')
    })
    proc.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child: ${out}`))))
  })
  const broker = await createInspectableBroker({ dataDir: dir })
  t.after(() => broker.close())
  const [d] = await broker.get('crashy', { owner: 'c' })
  assert.equal(text(d!), 'poison')
  assert.equal(d!.deliveryCount, 3, 'two deliveries before the crash')
  broker.queue('crashy').nack(d!.partition, d!.offset, true)
  const [dead] = await broker.get('crashy-dlq', { owner: 'c', waitMs: 2000 })
  assert.equal(deathsOf(dead!.message)[0]!.reason, 'delivery_limit')
})
