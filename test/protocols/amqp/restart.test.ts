// `wharf start --amqp-port`: a durable queue with persistent messages survives a clean restart and a SIGKILL
// after confirms (nothing confirmed is lost); unacked deliveries come back redelivered after the restart.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import amqp from 'amqplib'
import { freePort, spawnWharf } from '../../fixtures/wharf-process.ts'
import { collect } from './helpers.ts'

test('durable queue + persistent messages survive SIGTERM restart and SIGKILL after confirms', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const data = join(dir, 'data')
  const port = await freePort()
  const url = `amqp://guest:guest@127.0.0.1:${port}`

  const first = spawnWharf(['--data-dir', data, '--amqp-port', String(port)])
  t.after(() => first.proc.kill('SIGKILL'))
  await first.ready
  let conn = await amqp.connect(url)
  conn.on('error', () => {})
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

  const second = spawnWharf(['--data-dir', data, '--amqp-port', String(port)])
  t.after(() => second.proc.kill('SIGKILL'))
  await second.ready
  conn = await amqp.connect(url)
  conn.on('error', () => {})
  ch = await conn.createConfirmChannel()
  assert.equal((await ch.checkQueue('durable-q')).messageCount, 100)
  // The binding survived too.
  for (let i = 0; i < 200; i++) ch.publish('orders', 'order.more', Buffer.from(`b${i}`), { persistent: true })
  await ch.waitForConfirms()
  const killed = second.exit
  second.proc.kill('SIGKILL')
  await killed

  const third = spawnWharf(['--data-dir', data, '--amqp-port', String(port)])
  t.after(() => third.proc.kill('SIGKILL'))
  await third.ready
  conn = await amqp.connect(url)
  conn.on('error', () => {})
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
