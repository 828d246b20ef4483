// Sender-selected distribution (CC / BCC headers) with amqplib over TCP: extra routing keys through the same
// exchange, one copy per queue, BCC stripped, CC kept. Behaviour checked against RabbitMQ 3.10.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type amqp from 'amqplib'
import { connect, sleep, startWharf } from './helpers.ts'

/** basic.return fields (amqplib's typings omit reply code and text). */
const returnFields = (m: amqp.Message) => m.fields as unknown as { replyCode: number; replyText: string }

/** Every message in a queue (basic.get no-ack until empty). */
async function drain(ch: amqp.Channel, queue: string): Promise<amqp.GetMessage[]> {
  const out: amqp.GetMessage[] = []
  for (let m = await ch.get(queue, { noAck: true }); m !== false; m = await ch.get(queue, { noAck: true })) out.push(m)
  return out
}

test('CC and BCC on a direct exchange: one copy per queue, routing key kept, BCC removed, CC kept', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createConfirmChannel()
  await ch.assertExchange('cc-x', 'direct', { durable: false })
  for (const [queue, keys] of [
    ['q1', ['k1']],
    ['q2', ['k2']],
    ['q3', ['k3']],
    ['q12', ['k1', 'k2']],
    ['q4', ['k4']],
  ] as const) {
    await ch.assertQueue(queue, { durable: false })
    for (const key of keys) await ch.bindQueue(queue, 'cc-x', key)
  }
  ch.publish('cc-x', 'k1', Buffer.from('hello'), { CC: ['k2'], BCC: ['k3', 'k2'], headers: { app: 'x' } })
  await ch.waitForConfirms()

  for (const queue of ['q1', 'q2', 'q3', 'q12']) {
    const got = await drain(ch, queue)
    assert.equal(got.length, 1, `${queue} gets exactly one copy`)
    const m = got[0]!
    assert.equal(m.content.toString(), 'hello')
    assert.equal(m.fields.exchange, 'cc-x')
    assert.equal(m.fields.routingKey, 'k1', 'delivered with the publish routing key')
    assert.deepEqual(m.properties.headers, { app: 'x', CC: ['k2'] }, 'CC stays, BCC is gone')
  }
  assert.equal((await drain(ch, 'q4')).length, 0)
})

test('CC/BCC through topic, default and fanout exchanges; mandatory returns only when no key routes', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createConfirmChannel()
  const returned: amqp.Message[] = []
  ch.on('return', (m) => returned.push(m))
  await ch.assertExchange('cc-topic', 'topic', { durable: false })
  await ch.assertExchange('cc-fan', 'fanout', { durable: false })
  for (const q of ['ta', 'tb', 'd1', 'd2', 'f']) await ch.assertQueue(q, { durable: false })
  await ch.bindQueue('ta', 'cc-topic', 'a.*')
  await ch.bindQueue('tb', 'cc-topic', 'b.#')
  await ch.bindQueue('f', 'cc-fan', '')

  ch.publish('cc-topic', 'a.1', Buffer.from('topic'), { BCC: ['b.x.y', 'a.2'] })
  ch.sendToQueue('d1', Buffer.from('default'), { CC: ['d2', 'no-such-queue', 'd1'] })
  ch.publish('cc-fan', 'k', Buffer.from('fanout'), { CC: ['k2', 'k3'] })
  // The publish key routes nowhere, a CC key does: routed, so not returned.
  ch.publish('cc-topic', 'nothing', Buffer.from('cc only'), { CC: ['b.z'], mandatory: true })
  ch.publish('cc-topic', 'nothing', Buffer.from('unroutable'), { CC: ['c.z'], BCC: ['d.z'], mandatory: true })
  await ch.waitForConfirms()
  await sleep(50)

  const bodies = async (q: string) => (await drain(ch, q)).map((m) => m.content.toString())
  assert.deepEqual(await bodies('ta'), ['topic'])
  assert.deepEqual(await bodies('tb'), ['topic', 'cc only'])
  assert.deepEqual(await bodies('d1'), ['default'])
  assert.deepEqual(await bodies('d2'), ['default'])
  assert.deepEqual(await bodies('f'), ['fanout'])
  assert.deepEqual(
    returned.map((m) => [returnFields(m).replyCode, m.fields.routingKey, m.content.toString(), m.properties.headers]),
    [[312, 'nothing', 'unroutable', { CC: ['c.z'] }]],
  )
})

test('a headers exchange does not see BCC; a CC that is not an array closes the channel with 406', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createConfirmChannel()
  await ch.assertExchange('cc-h', 'headers', { durable: false })
  await ch.assertQueue('hq', { durable: false })
  await ch.bindQueue('hq', 'cc-h', '', { 'x-match': 'any', BCC: ['z'], CC: ['z'] })
  ch.publish('cc-h', '', Buffer.from('bcc'), { BCC: ['z'] })
  ch.publish('cc-h', '', Buffer.from('cc'), { CC: ['z'] })
  await ch.waitForConfirms()
  assert.deepEqual(
    (await drain(ch, 'hq')).map((m) => m.content.toString()),
    ['cc'],
  )

  for (const [value, type] of [
    ['just-a-string', 'longstr'],
    [{ a: 1 }, 'table'],
  ] as const) {
    const bad = await conn.createChannel()
    const closed = new Promise<Error & { code?: number }>((resolve) => bad.on('error', resolve))
    bad.sendToQueue('hq', Buffer.from('x'), { headers: { CC: value } })
    const error = await closed
    assert.equal(error.code, 406)
    assert.match(error.message, new RegExp(`invalid message: \\{unacceptable_type_in_header,"CC",${type}\\}`))
  }
  const ok = await conn.createChannel()
  assert.equal((await ok.checkQueue('hq')).messageCount, 0, 'nothing was enqueued by the refused publishes')
})
