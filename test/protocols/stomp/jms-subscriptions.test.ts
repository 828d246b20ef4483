// JMS subscriptions over STOMP with real clients: durable subscriptions with stomp.py (client-id +
// activemq.subscriptionName: collect while disconnected, UNSUBSCRIBE with the name removes it) and stompjs
// (a changed topic recreates it, it survives a broker restart, a second connection with the client id is
// refused), shared subscriptions, noLocal, queue browsers, exclusive and priority consumers.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Client, IFrame, IMessage } from '@stomp/stompjs'
import { collector, sendWithReceipt, startWharf, stompjs, stompPy } from './helpers.ts'

const pyDurable = `
import os, stomp, sys, time
port = int(os.environ['PORT'])
class L(stomp.ConnectionListener):
    def __init__(self): self.messages = []; self.errors = []
    def on_message(self, frame): self.messages.append(frame)
    def on_error(self, frame): self.errors.append(frame)
def connect():
    conn = stomp.Connection12([('127.0.0.1', port)])
    l = L()
    conn.set_listener('l', l)
    conn.connect(wait=True, headers={'client-id': 'py-app'})
    return conn, l
def wait_for(l, n):
    for _ in range(400):
        if len(l.messages) >= n: return
        time.sleep(0.05)
conn, l = connect()
conn.subscribe('/topic/py.news', id='1', ack='client-individual', headers={'activemq.subscriptionName': 'news'}, receipt='s1')
time.sleep(0.3)
conn.disconnect(receipt='bye')
pub = stomp.Connection12([('127.0.0.1', port)])
pub.connect(wait=True)
for i in range(3):
    pub.send('/topic/py.news', 'n-%d' % i, receipt='p%d' % i)
time.sleep(0.3)
print('QUEUED')
sys.stdout.flush()
conn, l = connect()
conn.subscribe('/topic/py.news', id='1', ack='client-individual', headers={'activemq.subscriptionName': 'news'})
wait_for(l, 3)
print('GOT', ','.join(m.body for m in l.messages))
for m in l.messages:
    conn.ack(m.headers['ack'])
conn.unsubscribe('1', headers={'activemq.subscriptionName': 'news'}, receipt='u1')
time.sleep(0.3)
print('ERRORS', len(l.errors))
conn.disconnect(receipt='bye2')
pub.disconnect()
`

test('stomp.py durable subscription: subscribe with client-id + subscriptionName, disconnect, 3 published, reconnect, receive 3; UNSUBSCRIBE removes it', async (t) => {
  const w = await startWharf(t)
  const { stdout } = await stompPy(pyDurable, { PORT: String(w.port) })
  assert.match(stdout, /QUEUED/)
  assert.match(stdout, /GOT n-0,n-1,n-2/)
  assert.match(stdout, /ERRORS 0/)
  assert.equal(w.broker.getQueue('py-app.news'), undefined, 'UNSUBSCRIBE with the name deleted the subscription')
  assert.equal(w.broker.jms.durable.get('py-app', 'news'), undefined)
})

function withClientId(clientId: string) {
  return { config: { connectHeaders: { 'client-id': clientId } } }
}

function subscribed(
  client: Client,
  destination: string,
  on: (m: IMessage) => void,
  headers: Record<string, string> = {},
) {
  return new Promise<{ unsubscribe(headers?: Record<string, string>): void }>((resolve) => {
    const receipt = `s-${Math.random().toString(36).slice(2)}`
    let sub: { unsubscribe(headers?: Record<string, string>): void } | undefined
    client.watchForReceipt(receipt, () => resolve(sub!))
    sub = client.subscribe(destination, on, { ...headers, receipt })
  })
}

function stompError(client: Client): Promise<IFrame> {
  return new Promise((resolve) => {
    client.onStompError = resolve
  })
}

test('durable subscription (Artemis header): a changed topic recreates it; a plain UNSUBSCRIBE keeps it; it survives a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-stomp-durable-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  let w = await startWharf(t, { dir, durability: 'always' })
  let client = await stompjs(t, w, withClientId('app'))
  const name = { 'durable-subscription-name': 'audit' }
  let sub = await subscribed(client, '/topic/audit.a', () => {}, name)
  sub.unsubscribe()
  let producer = await stompjs(t, w)
  await sendWithReceipt(producer, '/topic/audit.a', 'kept after a plain UNSUBSCRIBE')
  assert.equal(w.broker.queue('app.audit').depth(), 1)
  sub = await subscribed(client, '/topic/audit.b', () => {}, name)
  assert.equal(w.broker.queue('app.audit').depth(), 0, 'a changed topic recreated the subscription')
  sub.unsubscribe()
  await sendWithReceipt(producer, '/topic/audit.a', 'old topic: not kept')
  await sendWithReceipt(producer, '/topic/audit.b', 'before restart')
  await client.deactivate()
  await producer.deactivate()
  await w.stop()
  w = await startWharf(t, { dir, durability: 'always' })
  producer = await stompjs(t, w)
  await sendWithReceipt(producer, '/topic/audit.b', 'after restart')
  client = await stompjs(t, w, withClientId('app'))
  const got = collector()
  await subscribed(client, '/topic/audit.b', got.onMessage, name)
  assert.deepEqual(
    (await got.next(2)).map((m) => m.body),
    ['before restart', 'after restart'],
  )
  assert.equal(got.messages[0]!.headers.destination, '/topic/audit.b')
})

test('client-id: a second connection with a connected client id gets ERROR; free again after close', async (t) => {
  const w = await startWharf(t)
  const first = await stompjs(t, w, withClientId('solo'))
  await assert.rejects(stompjs(t, w, withClientId('solo')), /ERROR client-id 'solo' is already connected/)
  await first.deactivate()
  const deadline = Date.now() + 10_000
  while (w.broker.jms.clientIds.holder('solo') !== undefined && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  await stompjs(t, w, withClientId('solo'))
})

test('durable subscription: without a client id it is refused; an active one cannot be subscribed twice', async (t) => {
  const w = await startWharf(t)
  const anonymous = await stompjs(t, w)
  const error = stompError(anonymous)
  anonymous.subscribe('/topic/x', () => {}, { 'activemq.subscriptionName': 'n' })
  assert.match((await error).headers.message!, /needs a client id/)
  const client = await stompjs(t, w, withClientId('twice'))
  await subscribed(client, '/topic/x', () => {}, { 'activemq.subscriptionName': 'n' })
  const error2 = stompError(client)
  client.subscribe('/topic/x', () => {}, { 'activemq.subscriptionName': 'n' })
  assert.match((await error2).headers.message!, /already has an active subscriber/)
})

test('shared subscription: the consumers of one name share its messages, each message once', async (t) => {
  const w = await startWharf(t)
  const a = await stompjs(t, w)
  const b = await stompjs(t, w)
  const got = collector()
  const counts = { a: 0, b: 0 }
  const headers = { 'shared-subscription-name': 'workers', 'activemq.prefetchSize': '1', ack: 'client-individual' }
  const on = (who: 'a' | 'b') => (m: IMessage) => {
    counts[who]++
    got.onMessage(m)
    setTimeout(() => m.ack(), 20)
  }
  await subscribed(a, '/topic/jobs', on('a'), headers)
  await subscribed(b, '/topic/jobs', on('b'), headers)
  const producer = await stompjs(t, w)
  for (let i = 0; i < 8; i++) await sendWithReceipt(producer, '/topic/jobs', `job-${i}`)
  const all = await got.next(8)
  assert.equal(new Set(all.map((m) => m.body)).size, 8)
  assert.ok(counts.a > 0 && counts.b > 0, `both got some: ${JSON.stringify(counts)}`)
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(got.messages.length, 8)
})

test('activemq.noLocal: a topic subscriber does not get what its own connection sent, and gets the others', async (t) => {
  const w = await startWharf(t)
  const me = await stompjs(t, w)
  const other = await stompjs(t, w)
  const mine = collector()
  await subscribed(me, '/topic/chat', mine.onMessage, { 'activemq.noLocal': 'true' })
  const all = collector()
  await subscribed(other, '/topic/chat', all.onMessage)
  await sendWithReceipt(me, '/topic/chat', 'from me')
  await sendWithReceipt(other, '/topic/chat', 'from other')
  assert.deepEqual(
    (await all.next(2)).map((m) => m.body),
    ['from me', 'from other'],
  )
  assert.deepEqual(
    (await mine.next(1)).map((m) => m.body),
    ['from other'],
  )
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(mine.messages.length, 1)
  assert.equal(mine.messages[0]!.headers['wharf.publisher'], undefined, 'the stamp never reaches a client')
})

test('browser:true: every current message, then MESSAGE browser:end; they stay in the queue', async (t) => {
  const w = await startWharf(t)
  const producer = await stompjs(t, w)
  for (let i = 0; i < 5; i++) await sendWithReceipt(producer, '/queue/browsed', `b-${i}`, { k: String(i) })
  const browser = await stompjs(t, w)
  const got = collector()
  browser.subscribe('/queue/browsed', got.onMessage, { browser: 'true' })
  const frames = await got.next(6)
  assert.deepEqual(
    frames.slice(0, 5).map((m) => [m.body, m.headers.k]),
    [0, 1, 2, 3, 4].map((i) => [`b-${i}`, String(i)]),
  )
  assert.equal(frames[5]!.headers.browser, 'end')
  assert.equal(frames[5]!.body, '')
  assert.equal(w.broker.queue('browsed').depth(), 5, 'browsing took nothing')
  const consumer = await stompjs(t, w)
  const consumed = collector()
  consumer.subscribe('/queue/browsed', consumed.onMessage)
  assert.equal((await consumed.next(5)).length, 5)
})

test('activemq.exclusive: the exclusive consumer gets every message; the other gets nothing until it leaves', async (t) => {
  const w = await startWharf(t)
  const first = await stompjs(t, w)
  const second = await stompjs(t, w)
  const a = collector()
  const b = collector()
  await subscribed(first, '/queue/exclusive', a.onMessage, { 'activemq.exclusive': 'true' })
  await subscribed(second, '/queue/exclusive', b.onMessage, { 'activemq.exclusive': 'true' })
  const producer = await stompjs(t, w)
  for (let i = 0; i < 6; i++) await sendWithReceipt(producer, '/queue/exclusive', `e-${i}`)
  assert.equal((await a.next(6)).length, 6)
  assert.equal(b.messages.length, 0)
  await first.deactivate()
  await new Promise((r) => setTimeout(r, 100))
  await sendWithReceipt(producer, '/queue/exclusive', 'after')
  const [m] = await b.next(1)
  assert.equal(m!.body, 'after')
})

test('activemq.priority: the higher priority consumer gets the messages while it has room', async (t) => {
  const w = await startWharf(t)
  const low = await stompjs(t, w)
  const high = await stompjs(t, w)
  const lows = collector()
  const highs = collector()
  await subscribed(low, '/queue/prioritized', lows.onMessage, { 'activemq.priority': '1' })
  await subscribed(high, '/queue/prioritized', highs.onMessage, { 'activemq.priority': '9' })
  const producer = await stompjs(t, w)
  for (let i = 0; i < 6; i++) await sendWithReceipt(producer, '/queue/prioritized', `p-${i}`)
  assert.equal((await highs.next(6)).length, 6)
  assert.equal(lows.messages.length, 0)
  const error = stompError(low)
  low.subscribe('/queue/prioritized', () => {}, { 'activemq.priority': 'high' })
  assert.match((await error).headers.message!, /invalid activemq.priority 'high'/)
})

test('Artemis style: client-id on SUBSCRIBE names the subscription and claims the id; UNSUBSCRIBE with it removes it', async (t) => {
  const w = await startWharf(t)
  const client = await stompjs(t, w)
  const headers = { 'client-id': 'art', 'durable-subscriber-name': 'feed' }
  const sub = await subscribed(client, '/topic/art.feed', () => {}, headers)
  assert.ok(w.broker.getQueue('art.feed'))
  await assert.rejects(stompjs(t, w, withClientId('art')), /already connected/)
  const done = new Promise<void>((resolve) => client.watchForReceipt('gone', () => resolve()))
  sub.unsubscribe({ ...headers, receipt: 'gone' })
  await done
  assert.equal(w.broker.getQueue('art.feed'), undefined)
})
