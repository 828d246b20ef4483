// Consumer priorities (basic.consume x-priority, RabbitMQ semantics) with amqplib over TCP: the highest
// priority consumers with prefetch credit get the messages, lower ones only the overflow; round robin within
// one priority; a non-integer x-priority closes the channel with 406 PRECONDITION_FAILED.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type amqp from 'amqplib'
import { connect, sleep, startWharf } from './helpers.ts'

interface Probe {
  ch: amqp.Channel
  got: amqp.ConsumeMessage[]
  tag: string
}

/** A consumer on its own channel with basic.qos `prefetch` (0 = unlimited) that does not ack by itself. */
async function probe(
  conn: amqp.ChannelModel,
  queue: string,
  prefetch: number,
  options: amqp.Options.Consume = {},
): Promise<Probe> {
  const ch = await conn.createChannel()
  if (prefetch > 0) await ch.prefetch(prefetch)
  const got: amqp.ConsumeMessage[] = []
  const { consumerTag } = await ch.consume(queue, (m) => m && got.push(m), options)
  return { ch, got, tag: consumerTag }
}

const bodies = (p: Probe) => p.got.map((m) => m.content.toString())

async function until(test: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

async function publish(ch: amqp.ConfirmChannel, queue: string, names: string[]): Promise<void> {
  for (const name of names) ch.sendToQueue(queue, Buffer.from(name))
  await ch.waitForConfirms()
}

const names = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

test('x-priority: the high priority consumer gets everything while it has credit, the low one the overflow', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const pub = await conn.createConfirmChannel()
  await pub.assertQueue('work')
  const low = await probe(conn, 'work', 100)
  const high = await probe(conn, 'work', 3, { priority: 10 }) // amqplib sends it as x-priority
  await publish(pub, 'work', names(2))
  await until(() => high.got.length === 2, 'high gets the first two')
  await sleep(50)
  assert.deepEqual(bodies(high), ['m0', 'm1'])
  assert.deepEqual(bodies(low), [], 'low gets nothing while high has credit')

  await publish(pub, 'work', names(8, 'n'))
  await until(() => high.got.length + low.got.length === 10, '10 deliveries')
  assert.deepEqual(bodies(high), ['m0', 'm1', 'n0'], 'high takes up to its prefetch (unacked = 3)')
  assert.deepEqual(bodies(low), ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'], 'the overflow goes to low')

  // An ack gives high credit again: the next message is its, although low has credit too.
  high.ch.ack(high.got[0]!)
  await sleep(50)
  await publish(pub, 'work', ['x'])
  await until(() => high.got.length === 4, 'high gets x')
  await sleep(50)
  assert.equal(high.got[3]!.content.toString(), 'x')
  assert.equal(low.got.length, 7)
})

test('x-priority: equal priorities round robin, above a lower consumer and among themselves', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const pub = await conn.createConfirmChannel()
  await pub.assertQueue('rr')
  const low = await probe(conn, 'rr', 0, { arguments: { 'x-priority': 1 } })
  const a = await probe(conn, 'rr', 0, { arguments: { 'x-priority': 5 } })
  const b = await probe(conn, 'rr', 0, { arguments: { 'x-priority': 5 } })
  await publish(pub, 'rr', names(10))
  await until(() => a.got.length + b.got.length === 10, '10 deliveries')
  await sleep(50)
  assert.equal(a.got.length, 5, `a: ${bodies(a)}`)
  assert.equal(b.got.length, 5, `b: ${bodies(b)}`)
  assert.deepEqual(bodies(low), [])

  // All consumers at one (non-default) priority: plain round robin.
  await pub.assertQueue('same')
  const c = await probe(conn, 'same', 0, { priority: 3 })
  const d = await probe(conn, 'same', 0, { priority: 3 })
  await publish(pub, 'same', names(6))
  await until(() => c.got.length + d.got.length === 6, '6 deliveries')
  assert.equal(c.got.length, 3, `c: ${bodies(c)}`)
  assert.equal(d.got.length, 3, `d: ${bodies(d)}`)
})

test('x-priority: a negative priority consumer only gets what the default one has no credit for', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const pub = await conn.createConfirmChannel()
  await pub.assertQueue('neg')
  const negative = await probe(conn, 'neg', 0, { arguments: { 'x-priority': -5 } })
  const normal = await probe(conn, 'neg', 2)
  await publish(pub, 'neg', names(5))
  await until(() => negative.got.length + normal.got.length === 5, '5 deliveries')
  assert.deepEqual(bodies(normal), ['m0', 'm1'])
  assert.deepEqual(bodies(negative), ['m2', 'm3', 'm4'])
})

test('x-priority: cancelling the high priority consumer moves delivery to the lower one', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const pub = await conn.createConfirmChannel()
  await pub.assertQueue('cancel')
  const low = await probe(conn, 'cancel', 0)
  const high = await probe(conn, 'cancel', 0, { priority: 1 })
  await publish(pub, 'cancel', names(3))
  await until(() => high.got.length === 3, 'high gets all three')
  await sleep(50)
  assert.deepEqual(bodies(low), [])
  await high.ch.cancel(high.tag)
  await publish(pub, 'cancel', names(2, 'after'))
  await until(() => low.got.length === 2, 'low gets the rest')
  assert.deepEqual(bodies(low), ['after0', 'after1'])
  assert.equal(high.got.length, 3)
})

test('x-priority of the wrong type closes the channel with 406 PRECONDITION_FAILED', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const setup = await conn.createChannel()
  await setup.assertQueue('typed')
  for (const [value, type] of [
    ['high', 'longstr'],
    [1.5, 'double'],
    [true, 'bool'],
  ] as const) {
    const ch = await conn.createChannel()
    const closed = new Promise<Error & { code?: number }>((resolve) => ch.on('error', resolve))
    await assert.rejects(ch.consume('typed', () => {}, { arguments: { 'x-priority': value } }))
    const error = await closed
    assert.equal(error.code, 406)
    assert.ok(
      error.message.includes(
        `PRECONDITION_FAILED - invalid arg 'x-priority' for queue 'typed' in vhost '/': {unacceptable_type,${type}}`,
      ),
      error.message,
    )
  }
  assert.equal(w.broker.queueStats('typed').consumers, 0, 'no consumer was registered')
  // The connection survives a channel error: a valid x-priority works on a new channel.
  const ok = await probe(conn, 'typed', 0, { priority: 7 })
  await setup.sendToQueue('typed', Buffer.from('fine'))
  await until(() => ok.got.length === 1, 'the valid consumer gets the message')
})
