// Direct reply-to (amq.rabbitmq.reply-to) with real clients over TCP: amqplib for the RPC roundtrip and every
// error case, pika for the same roundtrip from another client library. Texts and counts as RabbitMQ 3.10.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import type amqp from 'amqplib'
import { connect, deferred, sleep, startWharf } from './helpers.ts'

/** basic.return fields (amqplib's typings omit reply code and text). */
const returnFields = (m: amqp.Message) => m.fields as unknown as { replyCode: number; replyText: string }

const REPLY_TO = 'amq.rabbitmq.reply-to'
const run = promisify(execFile)

/** Resolves with the error a channel closes with (or rejects after 5 s). */
function closedWith(ch: amqp.Channel): Promise<Error & { code?: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('channel was not closed')), 5000)
    ch.on('error', (e) => {
      clearTimeout(timer)
      resolve(e)
    })
  })
}

/** A responder on its own connection: answers every request on `queue` with the body upper-cased. */
async function startResponder(t: Parameters<typeof startWharf>[0], url: string, queue: string) {
  const conn = await connect(t, url)
  const ch = await conn.createChannel()
  await ch.assertQueue(queue, { durable: false })
  const seenReplyTo: string[] = []
  await ch.consume(
    queue,
    (m) => {
      if (m === null) return
      seenReplyTo.push(m.properties.replyTo)
      ch.publish('', m.properties.replyTo, Buffer.from(m.content.toString().toUpperCase()), {
        correlationId: m.properties.correlationId,
      })
    },
    { noAck: true },
  )
  return { conn, ch, seenReplyTo }
}

/** The reply address of a requester channel: one request through a queue, read back with basic.get. */
async function replyAddressOf(requester: amqp.Channel, reader: amqp.Channel, queue: string): Promise<string> {
  await reader.assertQueue(queue, { durable: false })
  requester.sendToQueue(queue, Buffer.from('probe'), { replyTo: REPLY_TO })
  for (let i = 0; i < 100; i++) {
    const m = await reader.get(queue, { noAck: true })
    if (m) return m.properties.replyTo as string
    await sleep(20)
  }
  throw new Error('request never arrived')
}

test('direct reply-to: RPC roundtrip across connections; reply_to rewritten; nothing is stored', async (t) => {
  const w = await startWharf(t)
  const responder = await startResponder(t, w.url, 'rpc')
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  const replies: amqp.ConsumeMessage[] = []
  const all = deferred<void>()
  const { consumerTag } = await ch.consume(
    REPLY_TO,
    (m) => {
      if (m === null) return
      replies.push(m)
      if (replies.length === 20) all.resolve()
    },
    { noAck: true },
  )
  for (let i = 0; i < 20; i++)
    ch.sendToQueue('rpc', Buffer.from(`ping ${i}`), { replyTo: REPLY_TO, correlationId: `c${i}` })
  await all.promise

  assert.deepEqual(
    replies.map((m) => [m.content.toString(), m.properties.correlationId]),
    Array.from({ length: 20 }, (_, i) => [`PING ${i}`, `c${i}`]),
  )
  const address = responder.seenReplyTo[0]!
  assert.ok(address.startsWith(`${REPLY_TO}.`) && address.length > REPLY_TO.length + 16, address)
  assert.ok(
    responder.seenReplyTo.every((a) => a === address),
    'one address per reply consumer',
  )
  const first = replies[0]!.fields
  assert.equal(first.consumerTag, consumerTag)
  assert.equal(first.exchange, '')
  assert.equal(first.routingKey, address)
  assert.deepEqual(
    replies.map((m) => m.fields.deliveryTag),
    Array.from({ length: 20 }, (_, i) => i + 1),
  )
  assert.equal(w.broker.getQueue(address), undefined, 'no queue behind the address')
  assert.equal(w.broker.getQueue(REPLY_TO), undefined)

  // Declaring the pseudo-queue or a live address succeeds (0 messages, 1 consumer) and creates nothing.
  const other = await responder.conn.createChannel()
  assert.deepEqual(await other.checkQueue(REPLY_TO), { queue: REPLY_TO, messageCount: 0, consumerCount: 1 })
  assert.deepEqual(await other.assertQueue(address), { queue: address, messageCount: 0, consumerCount: 1 })
  assert.deepEqual(await other.checkQueue(address), { queue: address, messageCount: 0, consumerCount: 1 })
  assert.equal(w.broker.getQueue(address), undefined)
})

test('direct reply-to errors close the channel with RabbitMQ texts; the connection stays usable', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)

  const acking = await conn.createChannel()
  const ackClosed = closedWith(acking)
  await assert.rejects(
    acking.consume(REPLY_TO, () => {}, { noAck: false }),
    /406/,
  )
  assert.match((await ackClosed).message, /PRECONDITION_FAILED - reply consumer cannot acknowledge/)

  const twice = await conn.createChannel()
  const twiceClosed = closedWith(twice)
  await twice.consume(REPLY_TO, () => {}, { noAck: true })
  await assert.rejects(
    twice.consume(REPLY_TO, () => {}, { noAck: true }),
    /406/,
  )
  assert.match((await twiceClosed).message, /PRECONDITION_FAILED - reply consumer already set/)

  const noConsumer = await conn.createChannel()
  await noConsumer.assertQueue('requests', { durable: false })
  const noConsumerClosed = closedWith(noConsumer)
  noConsumer.sendToQueue('requests', Buffer.from('req'), { replyTo: REPLY_TO })
  const error = await noConsumerClosed
  assert.equal(error.code, 406)
  assert.match(error.message, /PRECONDITION_FAILED - fast reply consumer does not exist/)

  const reserved = await conn.createChannel()
  const unknown = `${REPLY_TO}.not-a-token`
  const reservedClosed = closedWith(reserved)
  await assert.rejects(reserved.checkQueue(unknown), /404/)
  assert.match((await reservedClosed).message, new RegExp(`NOT_FOUND - no queue '${unknown}'`))

  // The connection still works, and the refused request was not enqueued.
  const ok = await conn.createChannel()
  assert.equal((await ok.checkQueue('requests')).messageCount, 0)
  ok.sendToQueue('requests', Buffer.from('after'))
  await sleep(50)
  const got = await ok.get('requests', { noAck: true })
  assert.equal(got ? got.content.toString() : null, 'after')
})

test('replies to a closed requester or an unknown token are dropped, or returned NO_ROUTE with mandatory', async (t) => {
  const w = await startWharf(t)
  const responderConn = await connect(t, w.url)
  const responder = await responderConn.createConfirmChannel()
  const returned: amqp.Message[] = []
  responder.on('return', (m) => returned.push(m))
  const reader = await responderConn.createChannel()

  const requesterConn = await connect(t, w.url)
  const live = await requesterConn.createChannel()
  const liveReplies: string[] = []
  await live.consume(REPLY_TO, (m) => m && liveReplies.push(m.content.toString()), { noAck: true })
  const liveAddress = await replyAddressOf(live, reader, 'req-a')

  // A forged token (the live address with its end changed) reaches nobody; the genuine one still works.
  const forged = `${liveAddress.slice(0, -4)}${liveAddress.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`
  responder.publish('', forged, Buffer.from('forged'), { mandatory: true })
  responder.publish('', liveAddress, Buffer.from('genuine'), { mandatory: true })
  await responder.waitForConfirms()
  await sleep(50)
  assert.deepEqual(liveReplies, ['genuine'])
  assert.deepEqual(
    returned.map((m) => [
      returnFields(m).replyCode,
      returnFields(m).replyText,
      m.fields.routingKey,
      m.content.toString(),
    ]),
    [[312, 'NO_ROUTE', forged, 'forged']],
  )

  // The requester's channel closes: its address is dead.
  const gone = await requesterConn.createChannel()
  await gone.consume(REPLY_TO, () => {}, { noAck: true })
  const goneAddress = await replyAddressOf(gone, reader, 'req-b')
  await gone.close()
  responder.publish('', goneAddress, Buffer.from('late, dropped'))
  responder.publish('', goneAddress, Buffer.from('late, returned'), { mandatory: true })
  await responder.waitForConfirms()
  await sleep(50)
  assert.deepEqual(
    returned.slice(1).map((m) => m.content.toString()),
    ['late, returned'],
  )
  const probe = await responderConn.createChannel()
  probe.on('error', () => {})
  await assert.rejects(probe.checkQueue(goneAddress), /404/)

  // Cancelling the reply consumer also kills its address; a new reply consumer gets a new one.
  const cancelling = await requesterConn.createChannel()
  const { consumerTag } = await cancelling.consume(REPLY_TO, () => {}, { noAck: true })
  const oldAddress = await replyAddressOf(cancelling, reader, 'req-c')
  await cancelling.cancel(consumerTag)
  responder.publish('', oldAddress, Buffer.from('after cancel'), { mandatory: true })
  await responder.waitForConfirms()
  await sleep(50)
  assert.equal(returned.at(-1)?.content.toString(), 'after cancel')
  const fresh: string[] = []
  await cancelling.consume(REPLY_TO, (m) => m && fresh.push(m.content.toString()), { noAck: true })
  const newAddress = await replyAddressOf(cancelling, reader, 'req-c')
  assert.notEqual(newAddress, oldAddress)
  responder.publish('', newAddress, Buffer.from('to the new consumer'))
  await responder.waitForConfirms()
  await sleep(50)
  assert.deepEqual(fresh, ['to the new consumer'])
  assert.equal(returned.length, 3)
})

const PIKA_RPC = `
import sys, pika
port = int(sys.argv[1])
params = pika.ConnectionParameters('127.0.0.1', port, credentials=pika.PlainCredentials('guest', 'guest'))
server = pika.BlockingConnection(params)
sch = server.channel()
sch.queue_declare('pika-rpc', auto_delete=True)
client = pika.BlockingConnection(params)
cch = client.channel()
replies = []
cch.basic_consume('amq.rabbitmq.reply-to', lambda c, m, p, b: replies.append((b.decode(), p.correlation_id, m.routing_key)), auto_ack=True)
for i in range(3):
    cch.basic_publish('', 'pika-rpc', ('n%d' % i).encode(), pika.BasicProperties(reply_to='amq.rabbitmq.reply-to', correlation_id=str(i)))
handled = 0
while handled < 3:
    method, props, body = sch.basic_get('pika-rpc', auto_ack=True)
    if method is None:
        server.process_data_events(time_limit=0.05)
        continue
    sch.basic_publish('', props.reply_to, body.upper(), pika.BasicProperties(correlation_id=props.correlation_id))
    handled += 1
    address = props.reply_to
while len(replies) < 3:
    client.process_data_events(time_limit=0.1)
print(address.startswith('amq.rabbitmq.reply-to.') and len(address) > 30)
for body, corr, key in replies:
    print(body, corr, key == address)
client.close()
server.close()
`

test('pika: direct reply-to roundtrip (BlockingConnection requester and responder)', async (t) => {
  const w = await startWharf(t)
  const { stdout } = await run('/usr/bin/python3', ['-c', PIKA_RPC, String(w.port)], { timeout: 30_000 })
  assert.deepEqual(stdout.trim().split('\n'), ['True', 'N0 0 True', 'N1 1 True', 'N2 2 True'])
})
