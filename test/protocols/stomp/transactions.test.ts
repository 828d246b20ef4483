// STOMP transactions over broker transactions, driven by stompit and stomp.py: a transaction's SENDs are
// invisible until COMMIT, ABORT drops them, an ACK inside a transaction that is aborted gives its message back
// redelivered (ActiveMQ Classic semantics), several transactions interleave on one connection.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import stompit from 'stompit'
import { sleep, until } from '../../broker/helpers.ts'
import { startWharf, stompPy } from './helpers.ts'

function connect(port: number): Promise<stompit.Client> {
  return new Promise((resolve, reject) =>
    stompit.connect({ host: '127.0.0.1', port, connectHeaders: { host: '/' } }, (error, c) =>
      error ? reject(error) : resolve(c),
    ),
  )
}

test('stompit: three interleaved transactions on one connection; only the committed ones arrive, each whole', async (t) => {
  const w = await startWharf(t, { durability: 'always' })
  const client = await connect(w.port)
  client.on('error', () => {})
  t.after(() => client.destroy())
  const txs = [client.begin(), client.begin(), client.begin()]
  for (let i = 0; i < 5; i++)
    for (const [n, tx] of txs.entries()) {
      tx.send({ destination: `/queue/tx-${i % 2}` }).end(`t${n}-m${i}`)
    }
  // The first SEND to each destination declares its queue; the later ones follow on the same connection.
  await until(
    () => w.broker.getQueue('tx-0') !== undefined && w.broker.getQueue('tx-1') !== undefined,
    10_000,
    'queues',
  )
  await sleep(200)
  assert.equal(w.broker.queueStats('tx-0').depth, 0, 'no SEND of an open transaction is visible')
  assert.equal(w.broker.queueStats('tx-1').depth, 0)
  txs[1]!.abort()
  txs[0]!.commit()
  txs[2]!.commit()
  await until(() => w.broker.queueStats('tx-0').depth + w.broker.queueStats('tx-1').depth === 10, 10_000, 'commits')
  const bodies: string[] = []
  for (const q of ['tx-0', 'tx-1'])
    for (const d of await w.broker.get(q, { owner: 'check', max: 100, waitMs: 100 }))
      bodies.push(String(d.message.value))
  assert.deepEqual(
    bodies.sort(),
    ['t0-m0', 't0-m1', 't0-m2', 't0-m3', 't0-m4', 't2-m0', 't2-m1', 't2-m2', 't2-m3', 't2-m4'],
    'both committed transactions whole, nothing of the aborted one',
  )
  await new Promise((resolve) => client.disconnect(resolve))
})

test('stompit: an ACK inside an aborted transaction gives the message back, redelivered; a committed one settles it', async (t) => {
  const w = await startWharf(t, { durability: 'always' })
  await w.broker.createQueue('acks')
  await w.broker.sendToQueue('acks', [{ value: 'm' }])
  const client = await connect(w.port)
  client.on('error', () => {})
  t.after(() => client.destroy())
  const received: Array<{ body: string; message: stompit.Message }> = []
  client.subscribe({ destination: '/queue/acks', ack: 'client-individual' }, (error, message) => {
    if (error) return
    message.readString('utf8', (_e, body) => received.push({ body: body ?? '', message }))
  })
  await until(() => received.length === 1, 10_000, 'first delivery')
  assert.equal(received[0]!.message.headers.redelivered, undefined)
  const aborted = client.begin()
  client.ack(received[0]!.message, { transaction: aborted.id })
  await sleep(100)
  assert.equal(received.length, 1, 'acked in an open transaction: still leased, not redelivered')
  aborted.abort()
  await until(() => received.length === 2, 10_000, 'redelivery after ABORT')
  assert.equal(received[1]!.body, 'm')
  assert.equal(received[1]!.message.headers.redelivered, 'true')
  const committed = client.begin()
  client.ack(received[1]!.message, { transaction: committed.id })
  committed.commit()
  await until(() => w.broker.queueStats('acks').depth === 0, 10_000, 'the committed ACK')
  await sleep(100)
  assert.equal(received.length, 2)
  await new Promise((resolve) => client.disconnect(resolve))
})

const pyTx = `
import os, stomp, time
conn = stomp.Connection12([('127.0.0.1', int(os.environ['PORT']))])
class L(stomp.ConnectionListener):
    def __init__(self): self.messages = []
    def on_message(self, frame): self.messages.append(frame)
l = L()
conn.set_listener('l', l)
conn.connect(wait=True)
kept = conn.begin()
dropped = conn.begin()
for i in range(3):
    conn.send('/queue/py-tx', 'kept-%d' % i, transaction=kept)
    conn.send('/queue/py-tx', 'dropped-%d' % i, transaction=dropped)
conn.abort(dropped)
conn.subscribe('/queue/py-tx', id='1', ack='client-individual')
time.sleep(0.3)
print('BEFORE', len(l.messages))
conn.commit(kept)
for _ in range(200):
    if len(l.messages) >= 3: break
    time.sleep(0.05)
print('AFTER', ' '.join(sorted(m.body for m in l.messages)))
first = l.messages[0]
undo = conn.begin()
conn.ack(first.headers['ack'], transaction=undo)
conn.abort(undo)
for _ in range(200):
    if len(l.messages) >= 4: break
    time.sleep(0.05)
again = l.messages[3]
print('AGAIN', again.body == first.body, again.headers.get('redelivered'))
done = conn.begin()
for m in l.messages[1:]:
    conn.ack(m.headers['ack'], transaction=done)
conn.commit(done)
conn.disconnect(receipt='bye')
`

test('stomp.py: BEGIN / COMMIT / ABORT, and an ACK undone by ABORT comes back redelivered', async (t) => {
  const w = await startWharf(t, { durability: 'always' })
  const { stdout } = await stompPy(pyTx, { PORT: String(w.port) })
  assert.match(stdout, /^BEFORE 0$/m, 'nothing delivered before COMMIT')
  assert.match(stdout, /^AFTER kept-0 kept-1 kept-2$/m, 'the committed SENDs, none of the aborted ones')
  assert.match(stdout, /^AGAIN True true$/m)
  await until(() => w.broker.queueStats('py-tx').depth === 0, 10_000, 'the committed ACKs')
})
