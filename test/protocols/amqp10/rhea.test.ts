import assert from 'node:assert/strict'
import { test } from 'node:test'
import rhea from 'rhea'
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

test('a message released with delivery-failed (modified) comes back to the next receiver with its delivery count', async (t) => {
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

/** Opens a receiver and gathers the bodies of its messages. */
function gather(receiver: rhea.Receiver): { bodies: string[]; next(n: number): Promise<string[]> } {
  const bodies: string[] = []
  const waiters: Array<() => void> = []
  receiver.on('message', (ctx) => {
    const body = ctx.message!.body
    bodies.push(typeof body === 'string' ? body : Buffer.from(body.content ?? body).toString())
    for (const w of waiters.splice(0)) w()
  })
  return {
    bodies,
    async next(n) {
      const deadline = Date.now() + 10_000
      while (bodies.length < n) {
        if (Date.now() > deadline) throw new Error(`got ${bodies.length} of ${n} messages`)
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 100)
        })
      }
      return bodies.slice(0, n)
    },
  }
}

async function sendAll(connection: rhea.Connection, address: string, messages: rhea.Message[]): Promise<void> {
  const sender = connection.open_sender(address)
  await new Promise<void>((resolve) => sender.once('sendable', () => resolve()))
  let accepted = 0
  const done = new Promise<void>((resolve) =>
    sender.on('accepted', () => {
      if (++accepted === messages.length) resolve()
    }),
  )
  for (const m of messages) sender.send(m)
  await done
  sender.close()
}

test('a receiver with a JMS selector (rhea.filter.selector) gets only what it selects; the filter is echoed', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  await sendAll(
    connection,
    'priced',
    [1, 7, 3, 9].map((price) => ({ body: `p${price}`, application_properties: { price } })),
  )
  const receiver = connection.open_receiver({
    source: { address: 'priced', filter: rhea.filter.selector('price > 5') },
  })
  const attached = await new Promise<rhea.EventContext>((resolve) => receiver.once('receiver_open', resolve))
  assert.ok(attached.receiver!.source.filter, 'the broker echoes the selector it applies')
  const got = gather(receiver)
  assert.deepEqual(await got.next(2), ['p7', 'p9'])
  await new Promise((r) => setTimeout(r, 200))
  assert.equal(got.bodies.length, 2)
  assert.equal(wharf.broker.queueStats('priced').ready, 2, 'what it does not select stays for others')
})

test('request/reply through a dynamic receiver (a temporary queue gone with its connection)', async (t) => {
  const wharf = await startWharf(t)
  const server = await connect(t, wharf)
  const requests = gather(server.open_receiver('requests'))
  const replies = server.open_sender({ target: {} })
  void replies
  const client = await connect(t, wharf)
  const dynamic = client.open_receiver({ source: { dynamic: true } as unknown as rhea.Source })
  const opened = await new Promise<rhea.EventContext>((resolve) => dynamic.once('receiver_open', resolve))
  const replyTo = opened.receiver!.source.address as string
  assert.match(replyTo, /^temp-queue\./)
  const answers = gather(dynamic)
  await sendAll(client, 'requests', [{ body: 'ping', reply_to: replyTo }])
  assert.deepEqual(await requests.next(1), ['ping'])
  await sendAll(server, replyTo, [{ body: 'pong' }])
  assert.deepEqual(await answers.next(1), ['pong'])
  client.close()
  const deadline = Date.now() + 5000
  while (wharf.broker.getQueue(replyTo) !== undefined && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  assert.equal(wharf.broker.getQueue(replyTo), undefined, 'the temporary queue goes with its connection')
})

test('a durable subscription (container id + link name) collects while detached; closing the link removes it', async (t) => {
  const wharf = await startWharf(t)
  const durableSource = { address: 'topic://news.sport', durable: 2, expiry_policy: 'never' }
  const first = await connect(t, wharf, { container_id: 'reader-app' } as never)
  const receiver = first.open_receiver({ name: 'sport', source: durableSource })
  await new Promise((resolve) => receiver.once('receiver_open', resolve))
  receiver.detach()
  await new Promise((resolve) => receiver.once('receiver_close', resolve))
  const publisher = await connect(t, wharf)
  await sendAll(publisher, 'topic://news.sport', [{ body: 'goal' }, { body: 'save' }])
  assert.equal(wharf.broker.queueStats('reader-app.sport').depth, 2)
  first.close()
  const again = await connect(t, wharf, { container_id: 'reader-app' } as never)
  const resumed = again.open_receiver({ name: 'sport', source: durableSource })
  assert.deepEqual(await gather(resumed).next(2), ['goal', 'save'])
  resumed.close()
  const deadline = Date.now() + 5000
  while (wharf.broker.getQueue('reader-app.sport') !== undefined && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  assert.equal(wharf.broker.getQueue('reader-app.sport'), undefined, 'close unsubscribes')
})
