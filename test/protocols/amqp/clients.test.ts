// Other real clients: pika (BlockingConnection, via /usr/bin/python3) and amqp-tools (librabbitmq CLI).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { collect, connect, startWharf } from './helpers.ts'

const run = promisify(execFile)

const PIKA = `
import sys, pika
port = int(sys.argv[1])
conn = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', port, credentials=pika.PlainCredentials('guest', 'guest')))
ch = conn.channel()
ch.confirm_delivery()
ch.queue_declare('pika-q', durable=True)
for i in range(20):
    ch.basic_publish('', 'pika-q', ('p%d' % i).encode(), pika.BasicProperties(content_type='text/plain', headers={'n': i}, delivery_mode=2))
try:
    ch.basic_publish('amq.direct', 'nowhere', b'x', mandatory=True)
    print('no-unroutable-error')
except pika.exceptions.UnroutableError:
    print('unroutable')
method, props, body = ch.basic_get('pika-q', auto_ack=False)
print('get', body.decode(), props.headers['n'], method.message_count)
ch.basic_ack(method.delivery_tag)
got = []
def on_message(c, m, p, b):
    got.append(b.decode())
    c.basic_ack(m.delivery_tag)
    if len(got) == 19:
        c.stop_consuming()
ch.basic_qos(prefetch_count=5)
ch.basic_consume('pika-q', on_message)
ch.start_consuming()
print('consumed', len(got), got[0], got[-1])
conn.close()
`

test('pika: confirm_delivery, mandatory UnroutableError, basic_get with message count, consume with qos', async (t) => {
  const w = await startWharf(t)
  const { stdout } = await run('/usr/bin/python3', ['-c', PIKA, String(w.port)], { timeout: 30_000 })
  const lines = stdout.trim().split('\n')
  assert.deepEqual(lines, ['unroutable', 'get p0 0 19', 'consumed 19 p1 p19'])
})

test('amqp-tools: amqp-declare-queue, amqp-publish, amqp-get, amqp-consume', async (t) => {
  const w = await startWharf(t)
  const server = ['--server', '127.0.0.1', '--port', String(w.port)]
  const declared = await run('amqp-declare-queue', [...server, '-d', '-q', 'tools-q'])
  assert.equal(declared.stdout.trim(), 'tools-q')
  for (const body of ['one', 'two', 'three']) {
    await run('amqp-publish', [...server, '-r', 'tools-q', '-b', body, '-C', 'text/plain', '-H', 'x-custom: yes'])
  }
  const got = await run('amqp-get', [...server, '-q', 'tools-q'])
  assert.equal(got.stdout, 'one')
  const consumed = await run('amqp-consume', [...server, '-q', 'tools-q', '-c', '2', 'cat'], { timeout: 15_000 })
  assert.equal(consumed.stdout, 'twothree')
  // What amqp-publish sent is seen by amqplib with its properties.
  await run('amqp-publish', [...server, '-r', 'tools-q', '-b', 'four', '-C', 'text/plain', '-H', 'x-custom: yes'])
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  const [m] = await collect(ch, 'tools-q', 1, { noAck: true })
  assert.equal(m!.content.toString(), 'four')
  assert.equal(m!.properties.contentType, 'text/plain')
  assert.equal(String(m!.properties.headers?.['x-custom']), 'yes')
})
