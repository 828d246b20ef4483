// JMS delivery semantics over STOMP with real clients (stompjs over TCP, stomp.py): message groups
// (JMSXGroupID pinned to one subscriber, spread, moved when a subscriber goes, closed by JMSXGroupSeq -1),
// scheduled delivery (AMQ_SCHEDULED_DELAY / TIME / PERIOD / REPEAT / CRON, across a restart) and the
// redelivery policy (redelivery delay, JMSXDeliveryCount, DLQ.<queue> and the shared ActiveMQ.DLQ).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IMessage } from '@stomp/stompjs'
import { collector, sendWithReceipt, startWharf, stompjs, stompPy } from './helpers.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('stompjs groups: A, B, C interleaved over two subscribers: each group on one subscriber, in order, spread', async (t) => {
  const w = await startWharf(t)
  const one = await stompjs(t, w)
  const two = await stompjs(t, w)
  const producer = await stompjs(t, w)
  const got1 = collector()
  const got2 = collector()
  one.subscribe('/queue/grouped', got1.onMessage)
  two.subscribe('/queue/grouped', got2.onMessage)
  await sleep(100)
  for (let i = 0; i < 4; i++)
    for (const g of ['A', 'B', 'C']) await sendWithReceipt(producer, '/queue/grouped', `${g}-${i}`, { JMSXGroupID: g })
  await collectorsReach(got1, got2, 12)
  const groups = (ms: IMessage[]) => new Set(ms.map((m) => m.headers.JMSXGroupID))
  const g1 = groups(got1.messages)
  const g2 = groups(got2.messages)
  for (const g of g1) assert.ok(!g2.has(g), `group ${g} reached both subscribers`)
  assert.ok(g1.size > 0 && g2.size > 0, 'groups spread over both subscribers')
  for (const got of [got1, got2])
    for (const g of groups(got.messages)) {
      const mine = got.messages.filter((m) => m.headers.JMSXGroupID === g)
      assert.deepEqual(
        mine.map((m) => m.body),
        [0, 1, 2, 3].map((i) => `${g}-${i}`),
        `group ${g} in order`,
      )
      assert.equal(mine[0]!.headers.JMSXGroupFirstForConsumer, 'true', 'the first of a group says so')
      assert.equal(mine[1]!.headers.JMSXGroupFirstForConsumer, undefined)
    }
})

async function collectorsReach(a: ReturnType<typeof collector>, b: ReturnType<typeof collector>, n: number) {
  const deadline = Date.now() + 10_000
  while (a.messages.length + b.messages.length < n) {
    if (Date.now() > deadline) throw new Error(`timed out with ${a.messages.length + b.messages.length}/${n}`)
    await sleep(10)
  }
}

test('stompjs groups: when a subscriber goes, its groups and unacked messages move to the other', async (t) => {
  const w = await startWharf(t)
  const one = await stompjs(t, w)
  const two = await stompjs(t, w)
  const producer = await stompjs(t, w)
  const got1 = collector()
  const got2 = collector()
  const sub1 = one.subscribe('/queue/moving', got1.onMessage, { ack: 'client-individual' })
  two.subscribe('/queue/moving', got2.onMessage, { ack: 'client-individual' })
  await sleep(100)
  for (const g of ['A', 'B', 'C', 'D']) await sendWithReceipt(producer, '/queue/moving', `${g}-0`, { JMSXGroupID: g })
  await collectorsReach(got1, got2, 4)
  const moved = got1.messages.map((m) => m.headers.JMSXGroupID!)
  assert.ok(moved.length > 0, 'the first subscriber owns some groups')
  for (const m of got2.messages) m.ack()
  sub1.unsubscribe() // its unacked messages return; its groups are free
  for (const g of ['A', 'B', 'C', 'D']) await sendWithReceipt(producer, '/queue/moving', `${g}-1`, { JMSXGroupID: g })
  await got2.next(8, 10_000) // its own, the returned ones and the four new ones
  for (const g of moved) {
    const bodies = got2.messages.filter((m) => m.headers.JMSXGroupID === g)
    assert.deepEqual(
      bodies.map((m) => m.body),
      [`${g}-0`, `${g}-1`],
      `moved group ${g} in order`,
    )
    assert.equal(bodies[0]!.headers.redelivered, 'true')
  }
  assert.equal(got1.messages.length, moved.length, 'nothing more for the subscriber that left')
})

const pyGroupSeq = `
import os, stomp, time
conn = stomp.Connection12([('127.0.0.1', int(os.environ['PORT']))])
got = []
class L(stomp.ConnectionListener):
    def on_message(self, frame): got.append((frame.headers['subscription'], frame.body, frame.headers.get('JMSXGroupFirstForConsumer')))
conn.set_listener('l', L())
conn.connect(wait=True)
conn.subscribe('/queue/seq', id='s1', ack='auto')
conn.subscribe('/queue/seq', id='s2', ack='auto')
time.sleep(0.2)
for i in range(6):
    conn.send('/queue/seq', 'g%d-a' % i, headers={'JMSXGroupID': 'G', 'JMSXGroupSeq': '1'}, receipt='a%d' % i)
    conn.send('/queue/seq', 'g%d-b' % i, headers={'JMSXGroupID': 'G', 'JMSXGroupSeq': '-1'}, receipt='b%d' % i)
    time.sleep(0.05)
for _ in range(200):
    if len(got) >= 12: break
    time.sleep(0.05)
for sub, body, first in got: print(sub, body, first)
conn.disconnect()
`

test('stomp.py groups: JMSXGroupSeq -1 closes a group, so its next instance starts afresh, on either subscriber', async (t) => {
  const w = await startWharf(t)
  const { stdout } = await stompPy(pyGroupSeq, { PORT: String(w.port) })
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
  assert.equal(lines.length, 12, stdout)
  const bySub = new Map<string, string>()
  for (const [sub, body] of lines) bySub.set(body!, sub!)
  for (let i = 0; i < 6; i++) {
    assert.equal(bySub.get(`g${i}-a`), bySub.get(`g${i}-b`), `instance ${i} stays on one subscriber`)
    const first = lines.find(([, body]) => body === `g${i}-a`)!
    assert.equal(first[2], 'true', `instance ${i} starts the group afresh`)
  }
  assert.equal(new Set(bySub.values()).size, 2, 'closed groups are free to go to the other subscriber')
})

const pyDelay = `
import os, stomp, time
conn = stomp.Connection12([('127.0.0.1', int(os.environ['PORT']))])
got = []
class L(stomp.ConnectionListener):
    def on_message(self, frame): got.append((time.time(), frame))
conn.set_listener('l', L())
conn.connect(wait=True)
conn.subscribe('/queue/later', id='1', ack='auto')
sent = time.time()
conn.send('/queue/later', 'delayed', headers={'AMQ_SCHEDULED_DELAY': '1500'}, receipt='r')
for _ in range(200):
    if got: break
    time.sleep(0.02)
at, frame = got[0]
print('ELAPSED', int((at - sent) * 1000))
print('HEADERS', sorted(k for k in frame.headers if k.startswith('AMQ_')))
conn.disconnect()
`

test('stomp.py: AMQ_SCHEDULED_DELAY:1500 arrives no earlier than 1.5 s later, without the schedule header', async (t) => {
  const w = await startWharf(t)
  const { stdout } = await stompPy(pyDelay, { PORT: String(w.port) })
  const elapsed = Number(/ELAPSED (\d+)/.exec(stdout)?.[1])
  assert.ok(elapsed >= 1500, `arrived after ${elapsed} ms`)
  assert.match(stdout, /HEADERS \[\]/)
})

test('stompjs: AMQ_SCHEDULED_PERIOD:200 with AMQ_SCHEDULED_REPEAT:3 delivers 4 copies; TIME is an absolute time', async (t) => {
  const w = await startWharf(t)
  const client = await stompjs(t, w)
  const got = collector()
  client.subscribe('/queue/ticks', got.onMessage)
  const sent = Date.now()
  await sendWithReceipt(client, '/queue/ticks', 'tick', {
    AMQ_SCHEDULED_PERIOD: '200',
    AMQ_SCHEDULED_REPEAT: '3',
    'x-kept': 'yes',
  })
  const copies = await got.next(4, 10_000)
  assert.ok(Date.now() - sent >= 600, 'three periods between the first and the last copy')
  for (const m of copies) {
    assert.equal(m.body, 'tick')
    assert.equal(m.headers['x-kept'], 'yes')
    assert.equal(m.headers.AMQ_SCHEDULED_REPEAT, undefined, 'the schedule headers are not on the copies')
  }
  await sleep(500)
  assert.equal(got.messages.length, 4, 'no fifth copy')

  const at = Date.now() + 700
  const timed = collector()
  client.subscribe('/queue/timed', timed.onMessage)
  await sendWithReceipt(client, '/queue/timed', 'at', { AMQ_SCHEDULED_TIME: String(at) })
  await timed.next(1, 5000)
  assert.ok(Date.now() >= at, 'not before AMQ_SCHEDULED_TIME')
})

test('stompjs: AMQ_SCHEDULED_CRON makes a stored job; a bad expression gets ERROR', async (t) => {
  const w = await startWharf(t)
  const client = await stompjs(t, w)
  await sendWithReceipt(client, '/queue/nightly', 'report', { AMQ_SCHEDULED_CRON: '0 2 * * *' })
  const [job] = w.broker.scheduler.list()
  assert.equal(job?.cron, '0 2 * * *')
  assert.equal(job?.routingKey, 'nightly')
  assert.ok(job!.next > Date.now())

  const bad = await stompjs(t, w)
  const error = new Promise<string>((resolve) => {
    bad.onStompError = (frame) => resolve(frame.headers.message ?? '')
  })
  bad.publish({ destination: '/queue/nightly', body: 'x', headers: { AMQ_SCHEDULED_CRON: '61 * * * *' } })
  assert.match(await error, /invalid cron expression/)

  // A delay over the broker's bound (a year by default) and a malformed one are refused too.
  for (const delay of [String(400 * 24 * 3600 * 1000), '-5', 'soon']) {
    const other = await stompjs(t, w)
    const refused = new Promise<string>((resolve) => {
      other.onStompError = (frame) => resolve(frame.headers.message ?? '')
    })
    other.publish({ destination: '/queue/nightly', body: 'x', headers: { AMQ_SCHEDULED_DELAY: delay } })
    assert.match(await refused, /delay|AMQ_SCHEDULED_DELAY/, delay)
  }
  assert.equal(w.broker.getQueue('nightly')!.depth(), 0, 'nothing was stored')
})

test('stompjs: a delayed message and a repeating job survive a broker restart', async (t) => {
  const first = await startWharf(t)
  const producer = await stompjs(t, first)
  // Taken before the SEND: the delay runs from when the broker got it, which is no earlier than this.
  const sent = Date.now()
  await sendWithReceipt(producer, '/queue/durable-delay', 'later', { AMQ_SCHEDULED_DELAY: '1500' })
  await sendWithReceipt(producer, '/queue/durable-job', 'again', {
    AMQ_SCHEDULED_DELAY: '1200',
    AMQ_SCHEDULED_PERIOD: '200',
    AMQ_SCHEDULED_REPEAT: '1',
  })
  producer.forceDisconnect()
  await first.stop()
  const second = await startWharf(t, { dir: first.dir })
  const consumer = await stompjs(t, second)
  const delayed = collector()
  const repeated = collector()
  consumer.subscribe('/queue/durable-delay', delayed.onMessage)
  consumer.subscribe('/queue/durable-job', repeated.onMessage)
  const [m] = await delayed.next(1, 10_000)
  assert.equal(m!.body, 'later')
  assert.ok(Date.now() - sent >= 1500, 'still delayed after the restart')
  await repeated.next(2, 10_000)
})

test('stompjs NACK: not redelivered before the redelivery delay; JMSXDeliveryCount; then DLQ.<queue> for stomp.py', async (t) => {
  const w = await startWharf(t, {
    limits: { redeliveryDelayMs: 500, redeliveryMax: 2, deadLetterStrategy: 'individual' },
  })
  const client = await stompjs(t, w)
  const deliveries: Array<{ at: number; m: IMessage }> = []
  let nacked = 0
  client.subscribe(
    '/queue/poison',
    (m) => {
      deliveries.push({ at: Date.now(), m })
      nacked = Date.now()
      m.nack()
    },
    { ack: 'client-individual' },
  )
  await sleep(100)
  await sendWithReceipt(client, '/queue/poison', 'bad', { 'x-order': '17' })
  const deadline = Date.now() + 10_000
  while (deliveries.length < 3 && Date.now() < deadline) await sleep(20)
  assert.equal(deliveries.length, 3, 'one delivery and two redeliveries')
  for (let i = 1; i < 3; i++) {
    assert.ok(deliveries[i]!.at - deliveries[i - 1]!.at >= 490, `redelivery ${i} waited for the delay`)
    assert.equal(deliveries[i]!.m.headers.redelivered, 'true')
    assert.equal(deliveries[i]!.m.headers.JMSXDeliveryCount, String(i + 1))
  }
  assert.equal(deliveries[0]!.m.headers.JMSXDeliveryCount, undefined, 'a first delivery carries no count')
  assert.ok(nacked > 0)
  await sleep(200)
  assert.equal(deliveries.length, 3, 'no fourth delivery')

  const { stdout } = await stompPy(
    `
import os, stomp, time
conn = stomp.Connection12([('127.0.0.1', int(os.environ['PORT']))])
got = []
class L(stomp.ConnectionListener):
    def on_message(self, frame): got.append(frame)
conn.set_listener('l', L())
conn.connect(wait=True)
conn.subscribe('/queue/DLQ.poison', id='1', ack='client-individual')
for _ in range(200):
    if got: break
    time.sleep(0.05)
print('DEAD', got[0].body, got[0].headers.get('x-order'))
conn.ack(got[0].headers['ack'])
conn.disconnect()
`,
    { PORT: String(w.port) },
  )
  assert.match(stdout, /DEAD bad 17/)
})

test('stompjs: by default a queue STOMP creates dead-letters to ActiveMQ.DLQ after 6 redeliveries', async (t) => {
  const w = await startWharf(t)
  const client = await stompjs(t, w)
  let deliveries = 0
  client.subscribe(
    '/queue/retried',
    (m) => {
      deliveries++
      m.nack()
    },
    { ack: 'client-individual' },
  )
  await sleep(100)
  await sendWithReceipt(client, '/queue/retried', 'never-ok')
  const deadline = Date.now() + 10_000
  while (w.broker.getQueue('ActiveMQ.DLQ')?.depth() !== 1 && Date.now() < deadline) await sleep(20)
  assert.equal(w.broker.getQueue('ActiveMQ.DLQ')?.depth(), 1, 'dead-lettered to the shared DLQ')
  assert.equal(deliveries, 7, 'one delivery and six redeliveries')
  const dead = collector()
  client.subscribe('/queue/ActiveMQ.DLQ', dead.onMessage)
  const [m] = await dead.next(1)
  assert.equal(m!.body, 'never-ok')
})
