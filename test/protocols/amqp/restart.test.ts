// `wharf start --amqp-port`: a durable queue with persistent messages survives a clean restart and a SIGKILL
// after confirms (nothing confirmed is lost); unacked deliveries come back redelivered after the restart.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type amqp from 'amqplib'
import { collect, wharfRestarts } from './helpers.ts'

test('durable queue + persistent messages survive SIGTERM restart and SIGKILL after confirms', async (t) => {
  const wharf = await wharfRestarts(t, 'wharf-amqp-cli-')
  const { wharf: first, conn: firstConn } = await wharf.start()
  let conn = firstConn
  let ch: amqp.ConfirmChannel = await conn.createConfirmChannel()
  await ch.assertExchange('orders', 'topic', { durable: true })
  await ch.assertQueue('durable-q', { durable: true })
  await ch.bindQueue('durable-q', 'orders', 'order.*')
  for (let i = 0; i < 100; i++)
    ch.publish('orders', 'order.new', Buffer.from(`a${i}`), { persistent: true, headers: { i } })
  await ch.waitForConfirms()
  // Take two without acking: they must come back redelivered after the restart.
  const ch2 = await conn.createChannel()
  await ch2.prefetch(2)
  const unacked: amqp.ConsumeMessage[] = []
  await ch2.consume('durable-q', (m) => m && unacked.push(m))
  while (unacked.length < 2) await new Promise((r) => setTimeout(r, 20))
  await conn.close()
  first.proc.kill('SIGTERM')
  assert.equal(await first.exit, 0)

  const { wharf: second, conn: secondConn } = await wharf.start()
  conn = secondConn
  ch = await conn.createConfirmChannel()
  assert.equal((await ch.checkQueue('durable-q')).messageCount, 100)
  // The binding survived too.
  for (let i = 0; i < 200; i++) ch.publish('orders', 'order.more', Buffer.from(`b${i}`), { persistent: true })
  await ch.waitForConfirms()
  const killed = second.exit
  second.proc.kill('SIGKILL')
  await killed

  const { wharf: third, conn: thirdConn } = await wharf.start()
  conn = thirdConn
  const ch3 = await conn.createChannel()
  const all = await collect(ch3, 'durable-q', 300, { noAck: true }, 20_000)
  const bodies = all.map((m) => m.content.toString())
  assert.equal(new Set(bodies).size, 300, 'every confirmed message, once')
  assert.equal(bodies[0], 'a0')
  assert.ok(all[0]!.fields.redelivered, 'a delivery unacked before the restart is flagged redelivered')
  assert.equal(all[5]!.properties.headers?.i, 5)
  assert.equal(all[0]!.fields.exchange, 'orders')
  await conn.close()
  third.proc.kill('SIGTERM')
  assert.equal(await third.exit, 0)
})
