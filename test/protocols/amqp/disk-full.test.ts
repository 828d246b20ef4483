// AMQP 0-9-1 on a real full disk (a small tmpfs). Alarm off, so the writes themselves fail: a confirming
// amqplib publisher gets basic.nack for what could not be stored (RabbitMQ nacks what a queue failed to
// take), consumers go on draining, deleting a queue gives the space back, publishing works again without a
// restart, and every confirmed message is there after a SIGKILL and restart. Alarm on: the filling publisher
// gets connection.blocked before the disk is full, and unblocked once a delete frees space. Needs root (mount).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import amqp from 'amqplib'
import { startFullDiskWharf } from '../../fixtures/full-disk-wharf.ts'
import { sleep } from './helpers.ts'

const BODY = 8 * 1024

/** Publishes one message with confirms; true if acked, false if nacked. */
function publish(ch: amqp.ConfirmChannel, queue: string, id: string): Promise<boolean> {
  return new Promise((resolve) => {
    ch.sendToQueue(queue, Buffer.alloc(BODY, id), { messageId: id, persistent: true }, (error) => resolve(!error))
  })
}

/** Consumes (and acks) whatever the queue holds until it has been quiet for a moment; the message ids. */
async function drain(ch: amqp.Channel, queue: string): Promise<string[]> {
  const ids: string[] = []
  await ch.prefetch(200)
  const { consumerTag } = await ch.consume(queue, (m) => {
    if (m === null) return
    ids.push(m.properties.messageId as string)
    ch.ack(m)
  })
  for (let seen = -1; seen !== ids.length; ) {
    seen = ids.length
    await sleep(500)
  }
  await ch.cancel(consumerTag)
  return ids
}

test('amqplib with confirms on a full disk: nacks, draining, recovery after a delete, nothing confirmed lost', {
  timeout: 120_000,
}, async (t) => {
  const w = await startFullDiskWharf(t, {
    size: '12m',
    portFlag: '--amqp-port',
    args: ['--disk-free-limit-bytes', '0'],
  })
  if (w === undefined) return
  const url = `amqp://guest:guest@127.0.0.1:${w.port}`
  let conn = await amqp.connect(url)
  conn.on('error', () => {})
  const ch = await conn.createConfirmChannel()
  ch.on('error', () => {})
  await ch.assertQueue('work', { durable: true })
  await ch.assertQueue('ballast', { durable: true })

  // Fill: alternate between the two queues in rounds of 32 until the broker nacks.
  const confirmed = new Set<string>()
  let nacked = 0
  for (let round = 0; nacked === 0 && round < 2000; round++) {
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) => {
        const id = `${i % 2 === 0 ? 'work' : 'ballast'}-${round}-${i}`
        return publish(ch, i % 2 === 0 ? 'work' : 'ballast', id).then((ok) => ({ id, ok }))
      }),
    )
    for (const r of results) {
      if (r.ok) confirmed.add(r.id)
      else nacked++
    }
  }
  assert.ok(nacked > 0, 'the broker nacked once the disk was full')
  assert.ok(w.free() < 64 * 1024, `the disk is full (${w.free()} bytes free)`)
  // The connection and channel stay usable (a failed write gives its pages back, so this may even fit).
  if (await publish(ch, 'work', 'work-still-full')) confirmed.add('work-still-full')

  // Reads keep working: a consumer drains what was confirmed to 'work' (its acks are what it may lose).
  const consumer = await conn.createChannel()
  const drained = await drain(consumer, 'work')
  const confirmedWork = [...confirmed].filter((id) => id.startsWith('work-'))
  for (const id of confirmedWork) assert.ok(drained.includes(id), `confirmed ${id} was delivered`)

  // Deleting the ballast queue gives its space back; publishing recovers without a restart.
  await ch.deleteQueue('ballast')
  assert.ok(w.free() > 2 * 1024 * 1024, `space came back (${w.free()} bytes free)`)
  const after: string[] = []
  for (let i = 0; i < 20; i++) {
    const id = `after-${i}`
    assert.equal(await publish(ch, 'work', id), true, `${id} confirmed after space came back`)
    after.push(id)
  }
  await conn.close()

  // Every confirmed message survives a SIGKILL: the ones published after recovery are all there; the
  // drained ones are there unless their ack was stored.
  await w.restart()
  conn = await amqp.connect(url)
  conn.on('error', () => {})
  const again = await drain(await conn.createChannel(), 'work')
  for (const id of after) assert.ok(again.includes(id), `${id} survived the restart`)
  for (const id of confirmedWork) assert.ok(drained.includes(id) || again.includes(id))
  await conn.close()
})

test('amqplib on a disk that fills to the alarm: connection.blocked, then unblocked once a delete frees space', {
  timeout: 120_000,
}, async (t) => {
  const w = await startFullDiskWharf(t, {
    size: '16m',
    portFlag: '--amqp-port',
    args: ['--disk-free-limit-bytes', String(6 * 1024 * 1024), '--alarm-interval-ms', '100'],
  })
  if (w === undefined) return
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${w.port}`)
  conn.on('error', () => {})
  const events: string[] = []
  conn.on('blocked', () => events.push('blocked'))
  conn.on('unblocked', () => events.push('unblocked'))
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue('ballast', { durable: true })
  await ch.assertQueue('work', { durable: true })

  // Publish until the broker blocks the connection; the publishes in flight then wait in the socket.
  const pending: Promise<boolean>[] = []
  for (let i = 0; !events.includes('blocked') && i < 4000; i++) {
    pending.push(publish(ch, 'ballast', `ballast-${i}`))
    if (i % 32 === 31) {
      await Promise.race([Promise.all(pending.splice(0)), sleep(2000)])
      // Room for at least one alarm check (every 100 ms) per batch: on a loaded machine a publisher that never
      // pauses can otherwise fill the gap between the limit and a full disk before the timer gets to run.
      await sleep(250)
    }
  }
  assert.deepEqual(events, ['blocked'], 'the disk alarm blocked the publisher')
  assert.ok(w.free() > 1024 * 1024, `the alarm came before the disk was full (${w.free()} bytes free)`)

  // Blocked: a consumer on another connection still reads; deleting the ballast clears the alarm.
  const other = await amqp.connect(`amqp://guest:guest@127.0.0.1:${w.port}`)
  other.on('error', () => {})
  const admin = await other.createChannel()
  await admin.deleteQueue('ballast')
  for (let i = 0; i < 100 && !events.includes('unblocked'); i++) await sleep(50)
  assert.deepEqual(events, ['blocked', 'unblocked'])
  await Promise.all(pending)
  assert.equal(await publish(ch, 'work', 'work-after'), true, 'publishing works again without a restart')
  assert.equal((await admin.checkQueue('work')).messageCount, 1)
  await conn.close()
  await other.close()
})
