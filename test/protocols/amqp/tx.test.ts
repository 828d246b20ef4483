// AMQP 0-9-1 tx on broker transactions, with amqplib and pika: publishes and acks are stored together at
// tx.commit; tx.rollback drops the publishes and the held acks, whose deliveries stay unacknowledged with the
// client (RabbitMQ semantics: they are not redelivered); unroutable mandatory publishes come back as
// basic.return at commit.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import type amqp from 'amqplib'
import { connect, sleep, startWharf } from './helpers.ts'

const TX_SELECT = (90 << 16) | 10
const TX_COMMIT = (90 << 16) | 20
const TX_ROLLBACK = (90 << 16) | 30

/** amqplib has no tx API: the methods go through its low-level rpc (method id, fields, expected reply id). */
function txOf(ch: amqp.Channel): (method: number) => Promise<unknown> {
  const rpc = (ch as unknown as { rpc(method: number, fields: object, expect: number): Promise<unknown> }).rpc.bind(ch)
  return (method) => rpc(method, {}, method + 1)
}

test('amqplib tx: publishes to two queues and an ack commit together; rollback keeps acks unacked', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  await ch.assertQueue('in')
  await ch.assertQueue('out-a')
  await ch.assertQueue('out-b')
  await w.broker.sendToQueue('in', [{ value: 'job-1' }, { value: 'job-2' }])
  const tx = txOf(ch)
  await tx(TX_SELECT)
  const first = await ch.get('in', { noAck: false })
  assert.ok(first)
  ch.ack(first)
  ch.sendToQueue('out-a', Buffer.from('result-1'))
  ch.sendToQueue('out-b', Buffer.from('audit-1'))
  await sleep(100)
  assert.equal(w.broker.queueStats('out-a').depth, 0, 'nothing visible before commit')
  assert.equal(w.broker.queueStats('in').depth, 2, 'the ack waits for the commit')
  await tx(TX_COMMIT)
  assert.equal(w.broker.queueStats('out-a').depth, 1)
  assert.equal(w.broker.queueStats('out-b').depth, 1)
  assert.equal(w.broker.queueStats('in').depth, 1, 'the ack committed')

  const second = await ch.get('in', { noAck: false })
  assert.ok(second)
  ch.ack(second)
  ch.sendToQueue('out-a', Buffer.from('result-2'))
  await tx(TX_ROLLBACK)
  assert.equal(w.broker.queueStats('out-a').depth, 1, 'the rolled back publish is gone')
  assert.equal(w.broker.queueStats('in').depth, 1, 'the rolled back ack is gone')
  const peek = await conn.createChannel()
  assert.equal(await peek.get('in', { noAck: false }), false, 'not redelivered: still unacked with the client')
  ch.ack(second)
  await tx(TX_COMMIT)
  assert.equal(w.broker.queueStats('in').depth, 0, 'the same tag acked again in the next transaction')
})

test('amqplib tx: an unroutable mandatory publish comes back as basic.return at commit', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  const returned: string[] = []
  ch.on('return', (m: amqp.Message) => returned.push(m.content.toString()))
  const tx = txOf(ch)
  await tx(TX_SELECT)
  ch.publish('amq.direct', 'nobody', Buffer.from('lost'), { mandatory: true })
  await sleep(100)
  assert.deepEqual(returned, [], 'returned at commit, not before')
  await tx(TX_COMMIT)
  await sleep(100)
  assert.deepEqual(returned, ['lost'])
})

const PIKA_TX = `
import sys, pika
conn = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', int(sys.argv[1])))
ch = conn.channel()
ch.queue_declare('pika-tx')
ch.tx_select()
for i in range(3):
    ch.basic_publish('', 'pika-tx', b'kept-%d' % i)
ch.tx_commit()
ch.basic_publish('', 'pika-tx', b'dropped')
ch.tx_rollback()
ch.tx_commit()
bodies = []
while True:
    method, props, body = ch.basic_get('pika-tx', auto_ack=True)
    if method is None: break
    bodies.append(body.decode())
print(' '.join(bodies))
conn.close()
`

test('pika tx: tx_select, tx_commit, tx_rollback', async (t) => {
  const w = await startWharf(t)
  const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', PIKA_TX, String(w.port)], {
    timeout: 40_000,
  })
  assert.equal(stdout.trim(), 'kept-0 kept-1 kept-2')
})
