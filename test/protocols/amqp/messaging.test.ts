// Publishing and consuming semantics with amqplib: properties, confirms, returns, qos, acks, requeue,
// basic.get, recover, tx, TTL, dead-lettering with x-death, priorities, max-length, single active consumer.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type amqp from 'amqplib'
import { collect, connect, deferred, sleep, startWharf } from './helpers.ts'

async function getOne(ch: amqp.Channel, queue: string, noAck = false, timeoutMs = 5000): Promise<amqp.GetMessage> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const m = await ch.get(queue, { noAck })
    if (m) return m
    if (Date.now() > deadline) throw new Error(`no message in ${queue}`)
    await sleep(20)
  }
}

test('all basic properties and headers round trip exactly', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  await ch.assertQueue('props')
  const headers = {
    str: 'v',
    int: 42,
    neg: -7,
    big: 2 ** 40,
    float: 1.5,
    bool: true,
    nested: { a: [1, 'two'] },
    nul: null,
  }
  const options = {
    contentType: 'application/json',
    contentEncoding: 'gzip',
    headers,
    deliveryMode: 2,
    priority: 3,
    correlationId: 'corr-1',
    replyTo: 'reply-q',
    expiration: '60000',
    messageId: 'msg-1',
    timestamp: 1_700_000_000,
    type: 'test.type',
    userId: 'guest',
    appId: 'app-1',
  }
  ch.sendToQueue('props', Buffer.from('{"x":1}'), options)
  const m = await getOne(ch, 'props', true)
  const p = m.properties
  assert.equal(p.contentType, options.contentType)
  assert.equal(p.contentEncoding, options.contentEncoding)
  assert.deepEqual(p.headers, headers)
  assert.equal(p.deliveryMode, 2)
  assert.equal(p.priority, 3)
  assert.equal(p.correlationId, 'corr-1')
  assert.equal(p.replyTo, 'reply-q')
  assert.equal(p.expiration, '60000')
  assert.equal(p.messageId, 'msg-1')
  assert.equal(p.timestamp, 1_700_000_000)
  assert.equal(p.type, 'test.type')
  assert.equal(p.userId, 'guest')
  assert.equal(p.appId, 'app-1')
  assert.equal(m.fields.exchange, '')
  assert.equal(m.fields.routingKey, 'props')
})

test('exchanges: direct, fanout, topic, headers and exchange-to-exchange bindings route', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  await ch.assertExchange('x.topic', 'topic')
  await ch.assertExchange('x.fan', 'fanout')
  await ch.assertExchange('x.head', 'headers')
  await ch.assertExchange('x.e2e', 'direct')
  for (const q of ['t1', 't2', 'f1', 'h1', 'e1']) await ch.assertQueue(q)
  await ch.bindQueue('t1', 'x.topic', 'a.*.c')
  await ch.bindQueue('t2', 'x.topic', 'a.#')
  await ch.bindQueue('f1', 'x.fan', 'ignored')
  await ch.bindQueue('h1', 'x.head', '', { 'x-match': 'all', kind: 'k1', n: 5 })
  // amqplib: bindExchange(destination, source, pattern)
  await ch.bindExchange('x.topic', 'x.e2e', 'a.e2e')
  await ch.bindQueue('e1', 'x.e2e', 'a.e2e')
  ch.publish('x.topic', 'a.b.c', Buffer.from('abc'))
  ch.publish('x.topic', 'a.b.d', Buffer.from('abd'))
  ch.publish('x.fan', 'whatever', Buffer.from('fan'))
  ch.publish('x.head', '', Buffer.from('h-yes'), { headers: { kind: 'k1', n: 5 } })
  ch.publish('x.head', '', Buffer.from('h-no'), { headers: { kind: 'k1', n: 6 } })
  ch.publish('x.e2e', 'a.e2e', Buffer.from('e2e'))
  const bodies = async (q: string, n: number) =>
    (await collect(ch, q, n, { noAck: true })).map((m) => m.content.toString()).sort()
  assert.deepEqual(await bodies('t1', 1), ['abc'])
  assert.deepEqual(await bodies('t2', 3), ['abc', 'abd', 'e2e'])
  assert.deepEqual(await bodies('f1', 1), ['fan'])
  assert.deepEqual(await bodies('h1', 1), ['h-yes'])
  assert.deepEqual(await bodies('e1', 1), ['e2e'])
  await ch.unbindQueue('t1', 'x.topic', 'a.*.c')
  ch.publish('x.topic', 'a.b.c', Buffer.from('after-unbind'))
  assert.deepEqual(await bodies('t2', 1), ['after-unbind'])
  assert.equal((await ch.checkQueue('t1')).messageCount, 0)
  await ch.deleteExchange('x.fan')
  await assert.rejects(ch.checkExchange('x.fan'), /NOT_FOUND/)
})

test('queue declare semantics: server-named, counts, exclusive, purge, delete if-empty, consumer cancel notification', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  const gen = await ch.assertQueue('', { exclusive: true })
  assert.match(gen.queue, /^amq\.gen-/)
  await ch.assertQueue('counts')
  for (let i = 0; i < 5; i++) ch.sendToQueue('counts', Buffer.from(`m${i}`))
  await ch.consume('counts', () => {}, { noAck: false })
  await sleep(100)
  const declared = await ch.checkQueue('counts')
  assert.equal(declared.consumerCount, 1)
  assert.equal(declared.messageCount, 0, 'ready count excludes the 5 unacked deliveries')

  // Exclusive: another connection gets 405 RESOURCE_LOCKED; the queue goes when its connection closes.
  const other = await connect(t, w.url)
  const och = await other.createChannel()
  och.on('error', () => {})
  await assert.rejects(och.checkQueue(gen.queue), /RESOURCE_LOCKED/)

  await ch.assertQueue('purge-me')
  for (let i = 0; i < 3; i++) ch.sendToQueue('purge-me', Buffer.from('x'))
  await sleep(50)
  assert.equal((await ch.purgeQueue('purge-me')).messageCount, 3)
  ch.sendToQueue('purge-me', Buffer.from('x'))
  const ch2 = await conn.createChannel()
  ch2.on('error', () => {})
  await assert.rejects(ch2.deleteQueue('purge-me', { ifEmpty: true }), /PRECONDITION_FAILED/)

  // Server-sent basic.cancel when the queue is deleted: amqplib calls the consumer with null.
  await ch.assertQueue('doomed')
  const cancelled = deferred<null>()
  await ch.consume('doomed', (m) => {
    if (m === null) cancelled.resolve(null)
  })
  const ch3 = await conn.createChannel()
  assert.equal((await ch3.deleteQueue('doomed')).messageCount, 0)
  assert.equal(await cancelled.promise, null)

  await conn.close()
  const after = await other.createChannel()
  after.on('error', () => {})
  await sleep(100)
  await assert.rejects(after.checkQueue(gen.queue), /NOT_FOUND/)
})

test('confirms: thousands of in-flight publishes all acked; mandatory unroutable returned before its ack', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue('confirmed')
  const n = 5000
  let acked = 0
  for (let i = 0; i < n; i++) {
    ch.sendToQueue('confirmed', Buffer.from(`m${i}`), {}, (err) => {
      if (!err) acked++
    })
  }
  await ch.waitForConfirms()
  assert.equal(acked, n)
  assert.equal((await ch.checkQueue('confirmed')).messageCount, n)

  const order: string[] = []
  ch.on('return', (m: amqp.Message) =>
    order.push(`return:${m.fields.routingKey}:${(m.fields as unknown as { replyCode: number }).replyCode}`),
  )
  const done = deferred<void>()
  ch.publish('amq.direct', 'nowhere', Buffer.from('lost'), { mandatory: true }, (err) => {
    order.push(err ? 'nack' : 'ack')
    done.resolve()
  })
  await done.promise
  assert.deepEqual(order, ['return:nowhere:312', 'ack'])
})

test('confirms: reject-publish overflow nacks', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue('bounded', { maxLength: 2, arguments: { 'x-overflow': 'reject-publish' } })
  const results: string[] = []
  for (let i = 0; i < 4; i++) {
    ch.sendToQueue('bounded', Buffer.from(`m${i}`), {}, (err) => results.push(err ? 'nack' : 'ack'))
    await new Promise((r) => setTimeout(r, 30))
  }
  await ch.waitForConfirms().catch(() => {})
  assert.deepEqual(results, ['ack', 'ack', 'nack', 'nack'])
})

test('prefetch per consumer, ack multiple, nack/reject, requeue on channel close with redelivered', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  await ch.assertQueue('work')
  for (let i = 0; i < 10; i++) ch.sendToQueue('work', Buffer.from(`m${i}`))
  await ch.prefetch(3)
  const got: amqp.ConsumeMessage[] = []
  await ch.consume('work', (m) => m && got.push(m))
  await sleep(200)
  assert.equal(got.length, 3, 'prefetch 3 bounds unacked deliveries')
  ch.ack(got[1]!, true) // acks tags 1 and 2
  await sleep(200)
  assert.equal(got.length, 5)
  ch.nack(got[2]!, false, true) // requeue m2
  ch.reject(got[3]!, false) // drop m3 (no DLX)
  await sleep(200)
  const redelivered = got.filter((m) => m.fields.redelivered).map((m) => m.content.toString())
  assert.deepEqual(redelivered, ['m2'])
  const unackedBodies = new Set(got.slice(4).map((m) => m.content.toString()))
  await ch.close()
  // Unacked deliveries return to the queue, redelivered.
  const ch2 = await conn.createChannel()
  const again = await collect(ch2, 'work', 10 - 3, { noAck: true })
  const redeliveredAgain = again.filter((m) => m.fields.redelivered).map((m) => m.content.toString())
  for (const body of unackedBodies) assert.ok(redeliveredAgain.includes(body), `${body} redelivered`)
  assert.ok(!again.some((m) => m.content.toString() === 'm3'), 'rejected without requeue is gone')
})

test('global qos is shared by the channel; basic.get message-count; recover requeues', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  await ch.assertQueue('g1')
  await ch.assertQueue('g2')
  for (let i = 0; i < 5; i++) {
    ch.sendToQueue('g1', Buffer.from(`a${i}`))
    ch.sendToQueue('g2', Buffer.from(`b${i}`))
  }
  await ch.prefetch(4, true)
  const got: amqp.ConsumeMessage[] = []
  await ch.consume('g1', (m) => m && got.push(m))
  await ch.consume('g2', (m) => m && got.push(m))
  await sleep(200)
  assert.equal(got.length, 4, 'global prefetch bounds both consumers together')
  ch.ackAll()
  await sleep(200)
  assert.equal(got.length, 8)

  const ch2 = await conn.createChannel()
  ch2.on('error', () => {})
  await ch2.assertQueue('getq')
  for (let i = 0; i < 3; i++) ch2.sendToQueue('getq', Buffer.from(`g${i}`))
  const first = await getOne(ch2, 'getq')
  assert.equal(first.content.toString(), 'g0')
  assert.equal(first.fields.messageCount, 2)
  await assert.rejects(ch2.get('getq-missing'), /NOT_FOUND/)
  const ch3 = await conn.createChannel()
  const m = await getOne(ch3, 'getq')
  await ch3.recover()
  const again = await getOne(ch3, 'getq')
  assert.ok(again.fields.redelivered || again.content.toString() !== m.content.toString())
})

test('tx: publishes and acks take effect on commit only; rollback discards', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  await ch.assertQueue('txq')
  // amqplib has no tx API: send the methods through its low-level rpc (method id, fields, expected reply id).
  const rpc = (ch as unknown as { rpc(method: number, fields: object, expect: number): Promise<unknown> }).rpc.bind(ch)
  const TX_SELECT = (90 << 16) | 10
  const TX_COMMIT = (90 << 16) | 20
  const TX_ROLLBACK = (90 << 16) | 30
  const call = (method: number) => rpc(method, {}, method + 1)
  await call(TX_SELECT)
  ch.sendToQueue('txq', Buffer.from('t1'))
  await sleep(100)
  const peek = await conn.createChannel()
  assert.equal((await peek.checkQueue('txq')).messageCount, 0, 'not visible before commit')
  await call(TX_COMMIT)
  assert.equal((await peek.checkQueue('txq')).messageCount, 1)
  ch.sendToQueue('txq', Buffer.from('t2'))
  await call(TX_ROLLBACK)
  await call(TX_COMMIT)
  assert.equal((await peek.checkQueue('txq')).messageCount, 1, 'rolled back publish is gone')
})

test('TTL: queue x-message-ttl and per-message expiration; DLX adds x-death', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  await ch.assertExchange('dlx', 'fanout')
  await ch.assertQueue('dead')
  await ch.bindQueue('dead', 'dlx', '')
  await ch.assertQueue('ttl', { messageTtl: 200, deadLetterExchange: 'dlx' })
  ch.sendToQueue('ttl', Buffer.from('expire-me'), { headers: { keep: 'me' } })
  await ch.assertQueue('ttl-msg')
  ch.sendToQueue('ttl-msg', Buffer.from('short'), { expiration: '100' })
  ch.sendToQueue('ttl-msg', Buffer.from('long'))
  const [dead] = await collect(ch, 'dead', 1, { noAck: true })
  assert.equal(dead!.content.toString(), 'expire-me')
  assert.equal(dead!.fields.exchange, 'dlx')
  const xDeath = dead!.properties.headers?.['x-death'] as unknown as Array<Record<string, unknown>>
  assert.equal(xDeath.length, 1)
  assert.equal(xDeath[0]!.queue, 'ttl')
  assert.equal(xDeath[0]!.reason, 'expired')
  assert.equal(xDeath[0]!.count, 1)
  assert.deepEqual(xDeath[0]!['routing-keys'], ['ttl'])
  assert.equal(dead!.properties.headers?.keep, 'me')
  await sleep(300)
  const left = await getOne(ch, 'ttl-msg', true)
  assert.equal(left.content.toString(), 'long')

  // Rejected without requeue → dead-lettered with reason rejected, to a routing key override.
  await ch.assertQueue('rej', { deadLetterExchange: '', deadLetterRoutingKey: 'dead' })
  ch.sendToQueue('rej', Buffer.from('bad'))
  const m = await getOne(ch, 'rej')
  ch.reject(m, false)
  const [rejected] = await collect(ch, 'dead', 1, { noAck: true })
  const rd = rejected!.properties.headers?.['x-death'] as unknown as Array<Record<string, unknown>>
  assert.equal(rd[0]!.reason, 'rejected')
  assert.equal(rd[0]!.queue, 'rej')
})

test('priorities, max-length drop-head, single active consumer', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  await ch.assertQueue('prio', { maxPriority: 10 })
  for (const p of [1, 9, 5, 0, 9]) ch.sendToQueue('prio', Buffer.from(`p${p}`), { priority: p })
  await sleep(100)
  const order = (await collect(ch, 'prio', 5, { noAck: true })).map((m) => m.content.toString())
  assert.deepEqual(order, ['p9', 'p9', 'p5', 'p1', 'p0'])

  await ch.assertQueue('maxlen', { maxLength: 3 })
  for (let i = 0; i < 6; i++) ch.sendToQueue('maxlen', Buffer.from(`m${i}`))
  await sleep(200)
  const kept = (await collect(ch, 'maxlen', 3, { noAck: true })).map((m) => m.content.toString())
  assert.deepEqual(kept, ['m3', 'm4', 'm5'])

  await ch.assertQueue('sac', { arguments: { 'x-single-active-consumer': true } })
  const a: string[] = []
  const b: string[] = []
  const c1 = await ch.consume('sac', (m) => m && a.push(m.content.toString()), { noAck: true })
  await ch.consume('sac', (m) => m && b.push(m.content.toString()), { noAck: true })
  for (let i = 0; i < 4; i++) ch.sendToQueue('sac', Buffer.from(`s${i}`))
  await sleep(200)
  assert.equal(a.length, 4)
  assert.equal(b.length, 0)
  await ch.cancel(c1.consumerTag)
  ch.sendToQueue('sac', Buffer.from('after'))
  await sleep(200)
  assert.deepEqual(b, ['after'])
})

test('auto-delete after the last consumer, x-expires when unused, x-delivery-limit dead-letters', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  ch.on('error', () => {})
  await ch.assertQueue('auto', { autoDelete: true })
  const { consumerTag } = await ch.consume('auto', () => {})
  await ch.cancel(consumerTag)
  await sleep(100)
  assert.equal(w.broker.getQueue('auto'), undefined, 'auto-delete queue gone after its last consumer')

  await ch.assertQueue('expiring', { expires: 300 })
  await sleep(800)
  assert.equal(w.broker.getQueue('expiring'), undefined, 'x-expires queue gone after being unused')

  await ch.assertQueue('limited-dead')
  await ch.assertQueue('limited', {
    deadLetterExchange: '',
    deadLetterRoutingKey: 'limited-dead',
    arguments: { 'x-delivery-limit': 1 },
  })
  ch.sendToQueue('limited', Buffer.from('poison'))
  const first = await getOne(ch, 'limited')
  ch.nack(first, false, true)
  const second = await getOne(ch, 'limited')
  assert.equal(second.fields.redelivered, true)
  ch.nack(second, false, true)
  const [dead] = await collect(ch, 'limited-dead', 1, { noAck: true })
  assert.equal(dead!.content.toString(), 'poison')
  const xDeath = dead!.properties.headers?.['x-death'] as unknown as Array<Record<string, unknown>>
  assert.equal(xDeath[0]!.reason, 'delivery_limit')
})

test('no-ack consumers: deliveries are settled once written, nothing stays in flight', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue('noack')
  for (let i = 0; i < 5000; i++) ch.sendToQueue('noack', Buffer.alloc(512, i % 256))
  await ch.waitForConfirms()
  const got = await collect(ch, 'noack', 5000, { noAck: true })
  assert.equal(got.length, 5000)
  await sleep(100)
  const stats = w.broker.queueStats('noack')
  assert.equal(stats.inflight, 0)
  assert.equal(stats.depth, 0)
})

test('a message over the queue stream limit closes the channel with 406', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createConfirmChannel()
  const closed = new Promise<Error>((resolve) => ch.on('error', resolve))
  await ch.assertQueue('limit')
  // A queue's own stream takes 16 MiB by default; this one is altered down to 1 MiB.
  await w.broker.alterStream('limit', { maxMessageBytes: 1024 * 1024 })
  ch.sendToQueue('limit', Buffer.alloc(2 * 1024 * 1024))
  assert.match((await closed).message, /PRECONDITION_FAILED/)
  const ch2 = await conn.createChannel()
  assert.equal((await ch2.checkQueue('limit')).messageCount, 0)
})
