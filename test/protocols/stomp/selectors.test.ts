// STOMP SUBSCRIBE `selector` with real clients over TCP: stompjs (`prio > 5` on string headers, which the
// STOMP string conversion compares as numbers), stomp.py with a selective and an unfiltered consumer on one
// queue (each message to exactly one, the selective one only its matches), a topic subscription whose
// selector keeps non-matching messages out of its queue (queueStats), and an invalid selector (ERROR frame).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IFrame } from '@stomp/stompjs'
import { collector, sendWithReceipt, startWharf, stompjs, stompPy } from './helpers.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('stompjs: selector "prio > 5" on a queue gets only prio 6..9; the rest stays queued', async (t) => {
  const w = await startWharf(t)
  const client = await stompjs(t, w)
  const got = collector()
  client.subscribe('/queue/sel', got.onMessage, { selector: 'prio > 5' })
  for (let prio = 0; prio < 10; prio++) await sendWithReceipt(client, '/queue/sel', `p${prio}`, { prio: String(prio) })
  const messages = await got.next(4)
  await sleep(100)
  assert.deepEqual(
    got.messages.map((m) => m.body),
    ['p6', 'p7', 'p8', 'p9'],
  )
  assert.equal(messages[0]!.headers.prio, '6')
  assert.equal(w.broker.queueStats('sel').depth, 6, 'unselected messages stay in the queue')
})

const pyTwoConsumers = `
import os, stomp, time
port = int(os.environ['PORT'])
class L(stomp.ConnectionListener):
    def __init__(self): self.bodies = []
    def on_message(self, frame): self.bodies.append(frame.body)
def connect(listener):
    conn = stomp.Connection12([('127.0.0.1', port)])
    conn.set_listener('l', listener)
    conn.connect(wait=True)
    return conn
odd, rest = L(), L()
a = connect(odd)
a.subscribe('/queue/py-sel', id='odd', ack='auto', headers={'selector': "half = 1 AND kind LIKE 'o%'"})
b = connect(rest)
b.subscribe('/queue/py-sel', id='rest', ack='auto')
time.sleep(0.2)
p = connect(L())
for i in range(40):
    p.send('/queue/py-sel', 'm%d' % i, headers={'half': str(i % 2), 'kind': 'order'})
p.disconnect(receipt='sent')
for _ in range(400):
    if len(odd.bodies) + len(rest.bodies) >= 40: break
    time.sleep(0.05)
time.sleep(0.3)
print('ODD', ' '.join(odd.bodies))
print('REST', ' '.join(rest.bodies))
a.disconnect(); b.disconnect()
`

test('stomp.py: a selective and an unfiltered consumer on one queue; nothing lost, nothing twice', async (t) => {
  const w = await startWharf(t)
  const { stdout } = await stompPy(pyTwoConsumers, { PORT: String(w.port) })
  const line = (name: string) =>
    (stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? name)
      .slice(name.length + 1)
      .split(' ')
      .filter(Boolean)
  const odd = line('ODD')
  const rest = line('REST')
  assert.ok(odd.length > 0, stdout)
  assert.ok(
    odd.every((b) => Number(b.slice(1)) % 2 === 1),
    `the selective consumer got only matches: ${odd.join(' ')}`,
  )
  const all = [...odd, ...rest].sort()
  assert.equal(all.length, 40, stdout)
  assert.equal(new Set(all).size, 40, 'nothing delivered twice')
  assert.ok(
    rest.filter((b) => Number(b.slice(1)) % 2 === 0).length === 20,
    'every non-match went to the other consumer',
  )
})

test('stompjs: a topic subscription with a selector never gets non-matching messages in its queue', async (t) => {
  const w = await startWharf(t)
  const client = await stompjs(t, w)
  const expensive = collector()
  const all = collector()
  client.subscribe('/topic/prices.eu', expensive.onMessage, { id: 'expensive', selector: 'price > 100.5' })
  client.subscribe('/topic/prices.eu', all.onMessage, { id: 'all' })
  await sleep(100)
  const prices = [50, 99.9, 100.5, 100.6, 250, 7, 1000]
  for (const price of prices) await sendWithReceipt(client, '/topic/prices.eu', `${price}`, { price: String(price) })
  await all.next(prices.length)
  await expensive.next(3)
  await sleep(100)
  assert.deepEqual(
    expensive.messages.map((m) => m.body),
    ['100.6', '250', '1000'],
  )
  const subscriptionQueues = w.broker.listQueues().filter((q) => q.name.startsWith('stomp.subscription.'))
  const published = subscriptionQueues.map((q) => w.broker.queueStats(q.name).publishedTotal).sort((a, b) => a - b)
  assert.deepEqual(published, [3, prices.length], 'only the 3 matches ever entered the selective queue')
})

test('stompjs: an invalid selector gets an ERROR frame naming the position', async (t) => {
  const w = await startWharf(t)
  const client = await stompjs(t, w)
  const error = new Promise<IFrame>((resolve) => {
    client.onStompError = resolve
  })
  client.subscribe('/queue/bad', () => {}, { selector: "prio > AND kind = 'x'" })
  const frame = await error
  assert.match(frame.headers.message ?? '', /invalid selector at position 7/)
  assert.ok(w.broker.getQueue('bad') === undefined || w.broker.queueStats('bad').consumers === 0)
})
