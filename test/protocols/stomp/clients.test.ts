// STOMP with real clients over TCP: stompjs (@stomp/tcp-wrapper), stomp.py (1.0, 1.1, 1.2) and stompit.
// Covers CONNECT per version, a wrong password refused, work distribution between two subscribers with
// client-individual acks and a NACK redelivered, cumulative client acks, receipts, topic fan-out and a
// transaction.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IMessage } from '@stomp/stompjs'
import stompit from 'stompit'
import { collector, sendWithReceipt, startWharf, stompjs, stompPy } from './helpers.ts'

test('stompjs over TCP: CONNECTED 1.2, receipted SEND to a queue, MESSAGE with the headers sent', async (t) => {
  const w = await startWharf(t)
  const client = await stompjs(t, w)
  assert.equal(client.connectedVersion, '1.2')
  const got = collector()
  client.subscribe('/queue/orders', got.onMessage)
  await sendWithReceipt(client, '/queue/orders', 'hello', {
    'content-type': 'text/plain',
    'correlation-id': 'c-1',
    'x-custom': 'a:b',
  })
  const [m] = await got.next(1)
  assert.equal(m!.body, 'hello')
  assert.equal(m!.headers.destination, '/queue/orders')
  assert.equal(m!.headers['content-type'], 'text/plain')
  assert.equal(m!.headers['correlation-id'], 'c-1')
  assert.equal(m!.headers['x-custom'], 'a:b', 'escaped header values come back as sent')
  assert.ok(m!.headers['message-id'])
  assert.ok(w.broker.getQueue('orders'), 'the queue was created on first use')
})

const pyConnect = `
import os, stomp, sys
port = int(os.environ['PORT'])
versions = {'1.0': stomp.Connection10, '1.1': stomp.Connection11, '1.2': stomp.Connection12}
conn = versions[os.environ['VERSION']]([('127.0.0.1', port)])
class L(stomp.ConnectionListener):
    def __init__(self): self.messages = []; self.errors = []
    def on_message(self, frame): self.messages.append(frame)
    def on_error(self, frame): self.errors.append(frame)
l = L()
conn.set_listener('l', l)
try:
    conn.connect(os.environ.get('LOGIN'), os.environ.get('PASSCODE'), wait=True)
except Exception as e:
    print('REFUSED', type(e).__name__, [f.headers.get('message') for f in l.errors])
    sys.exit(0)
print('VERSION', conn.transport.get_ssl and conn.version)
conn.subscribe('/queue/py-' + os.environ['VERSION'], id='1', ack='auto')
conn.send('/queue/py-' + os.environ['VERSION'], 'from stomp.py', headers={'k': 'v'}, receipt='r1')
import time
for _ in range(400):
    if l.messages: break
    time.sleep(0.05)
m = l.messages[0]
print('BODY', m.body, m.headers.get('k'))
conn.disconnect(receipt='bye')
`

for (const version of ['1.0', '1.1', '1.2']) {
  test(`stomp.py ${version}: CONNECT, SEND, SUBSCRIBE, DISCONNECT with receipt`, async (t) => {
    const w = await startWharf(t)
    const { stdout } = await stompPy(pyConnect, { PORT: String(w.port), VERSION: version })
    assert.match(stdout, new RegExp(`VERSION ${version.replace('.', '\\.')}`))
    assert.match(stdout, /BODY from stomp.py v/)
  })
}

test('stomp.py: a wrong passcode gets ERROR "Bad credentials" and the connection closes; the right one connects', async (t) => {
  const w = await startWharf(t, { anonymous: false })
  const wrong = await stompPy(pyConnect, { PORT: String(w.port), VERSION: '1.2', LOGIN: 'bob', PASSCODE: 'nope' })
  assert.match(wrong.stdout, /REFUSED .*Bad credentials/)
  const anonymous = await stompPy(pyConnect, { PORT: String(w.port), VERSION: '1.2' })
  assert.match(anonymous.stdout, /REFUSED .*Bad credentials/)
  const right = await stompPy(pyConnect, { PORT: String(w.port), VERSION: '1.2', LOGIN: 'bob', PASSCODE: 'bob-pw' })
  assert.match(right.stdout, /BODY from stomp.py v/)
})

test('stompjs: two client-individual subscribers share a queue; a NACKed message is redelivered with redelivered:true', async (t) => {
  const w = await startWharf(t)
  const a = await stompjs(t, w)
  const b = await stompjs(t, w)
  const producer = await stompjs(t, w)
  let nacked: string | undefined
  const seen = new Set<string>()
  const counts = { a: 0, b: 0 }
  const all = new Promise<void>((resolve) => {
    const on = (who: 'a' | 'b') => (m: IMessage) => {
      counts[who]++
      if (who === 'a' && nacked === undefined) {
        nacked = m.body
        m.nack()
        return
      }
      seen.add(`${m.body}${m.headers.redelivered === 'true' ? '+' : ''}`)
      // Acked a little later, so that the other subscriber gets the next message meanwhile (prefetch 1).
      setTimeout(() => m.ack(), 10)
      if ([...seen].filter((s) => s.startsWith('job-')).length === 10) resolve()
    }
    const headers = { ack: 'client-individual', 'activemq.prefetchSize': '1' }
    a.subscribe('/queue/work', on('a'), headers)
    b.subscribe('/queue/work', on('b'), headers)
  })
  await new Promise((r) => setTimeout(r, 100))
  for (let i = 0; i < 10; i++) await sendWithReceipt(producer, '/queue/work', `job-${i}`)
  await all
  assert.ok(counts.a >= 2 && counts.b >= 2, `both subscribers got work: ${JSON.stringify(counts)}`)
  assert.ok(seen.has(`${nacked}+`), `the NACKed ${nacked} came back redelivered: ${[...seen].join(',')}`)
  assert.equal(w.broker.queueStats('work').ready, 0)
})

test('stompjs: a client-mode ACK settles every earlier message of its subscription (cumulative)', async (t) => {
  const w = await startWharf(t)
  const producer = await stompjs(t, w)
  for (let i = 0; i < 5; i++) await sendWithReceipt(producer, '/queue/cumulative', `m-${i}`)
  const consumer = await stompjs(t, w)
  const got = collector()
  const sub = consumer.subscribe('/queue/cumulative', got.onMessage, { ack: 'client' })
  const messages = await got.next(5)
  // ACK the fourth: the first four are settled, the fifth stays unacknowledged.
  const receipt = 'ack-4'
  const acked = new Promise<void>((resolve) => consumer.watchForReceipt(receipt, () => resolve()))
  messages[3]!.ack({ receipt })
  await acked
  sub.unsubscribe()
  // Unsubscribing returns the unacknowledged fifth; a new subscriber gets only it, redelivered.
  const again = collector()
  const other = await stompjs(t, w)
  other.subscribe('/queue/cumulative', again.onMessage, { ack: 'auto' })
  const [m] = await again.next(1)
  assert.equal(m!.body, 'm-4')
  assert.equal(m!.headers.redelivered, 'true')
  await new Promise((r) => setTimeout(r, 200))
  assert.equal(again.messages.length, 1, 'the four acked messages are not delivered again')
})

test('stompjs: a topic fans out to every subscriber; ActiveMQ wildcards * and > match', async (t) => {
  const w = await startWharf(t)
  const one = await stompjs(t, w)
  const two = await stompjs(t, w)
  const wild = await stompjs(t, w)
  const got1 = collector()
  const got2 = collector()
  const gotWild = collector()
  const subscribed = (c: typeof one, dest: string, on: (m: IMessage) => void) =>
    new Promise<void>((resolve) => {
      const receipt = `s-${dest}-${Math.random()}`
      c.watchForReceipt(receipt, () => resolve())
      c.subscribe(dest, on, { receipt })
    })
  await subscribed(one, '/topic/prices.eur', got1.onMessage)
  await subscribed(two, '/topic/prices.*', got2.onMessage)
  await subscribed(wild, '/topic/prices.>', gotWild.onMessage)
  const producer = await stompjs(t, w)
  await sendWithReceipt(producer, '/topic/prices.eur', '1.07')
  await sendWithReceipt(producer, '/topic/prices.usd.spot', '1.00')
  assert.equal((await got1.next(1))[0]!.body, '1.07')
  assert.equal((await got2.next(1))[0]!.headers.destination, '/topic/prices.eur')
  assert.deepEqual(
    (await gotWild.next(2)).map((m) => m.body),
    ['1.07', '1.00'],
  )
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(got1.messages.length, 1)
  assert.equal(got2.messages.length, 1, '* matches one word only')
})

test('stompit: BEGIN / SEND / COMMIT delivers, ABORT drops; an ACK inside a committed transaction settles', async (t) => {
  const w = await startWharf(t)
  const client = await new Promise<stompit.Client>((resolve, reject) =>
    stompit.connect({ host: '127.0.0.1', port: w.port, connectHeaders: { host: '/' } }, (error, c) =>
      error ? reject(error) : resolve(c),
    ),
  )
  client.on('error', () => {}) // the broker's shutdown ERROR at the end of the test
  t.after(() => client.destroy())
  const committed = client.begin()
  const aborted = client.begin()
  for (const [tx, body] of [
    [committed, 'kept'],
    [aborted, 'dropped'],
  ] as const) {
    const frame = tx.send({ destination: '/queue/tx' })
    frame.end(body)
  }
  await new Promise<void>((resolve) => {
    aborted.abort()
    committed.commit({ receipt: 'c1' })
    setTimeout(resolve, 200)
  })
  const got = await new Promise<{ body: string; message: stompit.Message }>((resolve, reject) => {
    client.subscribe({ destination: '/queue/tx', ack: 'client-individual' }, (error, message) => {
      if (error) return reject(error)
      message.readString('utf8', (e, body) => (e ? reject(e) : resolve({ body: body ?? '', message })))
    })
  })
  assert.equal(got.body, 'kept')
  const ackTx = client.begin()
  client.ack(got.message, { transaction: ackTx.id })
  ackTx.commit()
  // The ack settles once its cursor write has committed (a database round trip on PostgreSQL): wait for it.
  for (let deadline = Date.now() + 10_000; w.broker.queueStats('tx').depth > 0 && Date.now() < deadline; )
    await new Promise((r) => setTimeout(r, 50))
  assert.equal(w.broker.queueStats('tx').ready, 0)
  assert.equal(w.broker.queueStats('tx').depth, 0, 'the ACK committed with its transaction')
  await new Promise((resolve) => client.disconnect(resolve))
})
