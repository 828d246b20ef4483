import assert from 'node:assert/strict'
import { test } from 'node:test'
import type rhea from 'rhea'
import { connect, startWharf } from './helpers.ts'

test('rhea sends to a queue (settled on storage) and a receiver gets the messages with their properties', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  const sender = connection.open_sender('orders')
  await new Promise<void>((resolve) => sender.once('sendable', () => resolve()))
  const accepted: number[] = []
  for (let i = 0; i < 3; i++) {
    const delivery = sender.send({
      body: `order-${i}`,
      message_id: `id-${i}`,
      subject: 'order',
      application_properties: { n: i, region: 'eu' },
    })
    void delivery
  }
  await new Promise<void>((resolve) =>
    sender.on('accepted', () => {
      accepted.push(1)
      if (accepted.length === 3) resolve()
    }),
  )
  assert.equal(wharf.broker.queueStats('orders').depth, 3)
  const received: Array<{ body: unknown; id: unknown; props: unknown; subject: unknown }> = []
  const receiver = connection.open_receiver({ source: 'orders', autoaccept: true, credit_window: 10 })
  await new Promise<void>((resolve) =>
    receiver.on('message', (ctx) => {
      const m = ctx.message!
      received.push({ body: m.body, id: m.message_id, props: m.application_properties, subject: m.subject })
      if (received.length === 3) resolve()
    }),
  )
  assert.deepEqual(
    received.map((r) => r.id),
    ['id-0', 'id-1', 'id-2'],
  )
  assert.equal(received[1]!.subject, 'order')
  assert.deepEqual(received[2]!.props, { n: 2, region: 'eu' })
  const body = received[0]!.body
  assert.equal(
    typeof body === 'string' ? body : Buffer.from((body as { content: Buffer }).content ?? body).toString(),
    'order-0',
  )
  // Accepted deliveries are acked in the queue.
  const deadline = Date.now() + 5000
  while (wharf.broker.queueStats('orders').depth !== 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10))
  assert.equal(wharf.broker.queueStats('orders').depth, 0)
})

test('a released message comes back to the next receiver, redelivered with its delivery count', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  const sender = connection.open_sender('work')
  await new Promise<void>((resolve) => sender.once('sendable', () => resolve()))
  sender.send({ body: 'job' })
  await new Promise<void>((resolve) => sender.once('accepted', () => resolve()))
  const first = connection.open_receiver({ source: 'work', autoaccept: false, credit_window: 1 })
  const firstDelivery = await new Promise<rhea.EventContext>((resolve) => first.once('message', resolve))
  firstDelivery.delivery!.release({ delivery_failed: true })
  first.close()
  const second = connection.open_receiver({ source: 'work', autoaccept: true, credit_window: 1 })
  const again = await new Promise<rhea.EventContext>((resolve) => second.once('message', resolve))
  assert.equal(again.message!.delivery_count, 1)
})

test('wrong credentials get a SASL failure and no connection', async (t) => {
  const wharf = await startWharf(t)
  await assert.rejects(connect(t, wharf, { password: 'nope' }))
})

test('an anonymous client is refused unless anonymous access is on', async (t) => {
  const closed = await startWharf(t, { anonymous: false })
  await assert.rejects(connect(t, closed, { username: undefined, password: undefined }))
  const open = await startWharf(t, { anonymous: true })
  const connection = await connect(t, open, { username: undefined, password: undefined })
  assert.ok(connection.is_open())
})
