import assert from 'node:assert/strict'
import { test } from 'node:test'
import { collect, connect, startWharf } from './helpers.ts'

test('amqplib: connect, declare, publish, consume, ack', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  const q = await ch.assertQueue('smoke')
  assert.equal(q.queue, 'smoke')
  ch.sendToQueue('smoke', Buffer.from('hello'), { contentType: 'text/plain', headers: { a: 1, b: 'x' } })
  const [m] = await collect(ch, 'smoke', 1)
  assert.equal(m!.content.toString(), 'hello')
  assert.equal(m!.properties.contentType, 'text/plain')
  assert.deepEqual(m!.properties.headers, { a: 1, b: 'x' })
  ch.ack(m!)
  await ch.close()
})
