// Stream queues (x-queue-type: stream): log-mode consumers with x-stream-offset, offsets in headers.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type amqp from 'amqplib'
import { connect, deferred, startWharf } from './helpers.ts'

async function readStream(
  conn: amqp.ChannelModel,
  queue: string,
  offset: unknown,
  n: number,
): Promise<amqp.ConsumeMessage[]> {
  const ch = await conn.createChannel()
  await ch.prefetch(2)
  const got: amqp.ConsumeMessage[] = []
  const done = deferred<void>()
  const timer = setTimeout(() => done.reject(new Error(`timeout: ${got.length}/${n}`)), 10_000)
  await ch.consume(
    queue,
    (m) => {
      if (!m) return
      got.push(m)
      ch.ack(m)
      if (got.length === n) done.resolve()
    },
    { arguments: { 'x-stream-offset': offset } },
  )
  await done.promise
  clearTimeout(timer)
  await ch.close()
  return got
}

test('stream queue: first / offset / next / last / timestamp, x-stream-offset header, replay', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createConfirmChannel()
  ch.on('error', () => {})
  await ch.assertQueue('events', { durable: true, arguments: { 'x-queue-type': 'stream' } })
  for (let i = 0; i < 5; i++) ch.sendToQueue('events', Buffer.from(`m${i}`))
  await ch.waitForConfirms()
  assert.equal((await ch.checkQueue('events')).messageCount, 5)

  const first = await readStream(conn, 'events', 'first', 5)
  assert.deepEqual(
    first.map((m) => m.content.toString()),
    ['m0', 'm1', 'm2', 'm3', 'm4'],
  )
  assert.deepEqual(
    first.map((m) => Number(m.properties.headers?.['x-stream-offset'])),
    [0, 1, 2, 3, 4],
  )
  // Replay from an offset: acks only returned credit, nothing was removed.
  const from2 = await readStream(conn, 'events', 2, 3)
  assert.deepEqual(
    from2.map((m) => m.content.toString()),
    ['m2', 'm3', 'm4'],
  )
  const last = await readStream(conn, 'events', 'last', 1)
  assert.equal(last[0]!.content.toString(), 'm4')
  // amqplib's typed-value form for an AMQP timestamp (seconds).
  const byTime = await readStream(conn, 'events', { '!': 'timestamp', value: Math.floor(Date.now() / 1000) - 60 }, 5)
  assert.equal(byTime.length, 5)

  // next: only messages published after the consumer started.
  const nextCh = await conn.createChannel()
  await nextCh.prefetch(10)
  const live = deferred<string>()
  await nextCh.consume('events', (m) => m && live.resolve(m.content.toString()), {
    arguments: { 'x-stream-offset': 'next' },
  })
  ch.sendToQueue('events', Buffer.from('live'))
  assert.equal(await live.promise, 'live')

  // Stream rules: prefetch required; basic.get is 540 NOT_IMPLEMENTED, a hard error closing that connection.
  const doomed = await connect(t, w.url)
  const closed = new Promise<Error>((resolve) => doomed.on('error', resolve))
  const bad = await doomed.createChannel()
  bad.on('error', () => {})
  await assert.rejects(bad.get('events'))
  assert.match((await closed).message, /540|NOT.IMPLEMENTED/)
  const noPrefetch = await conn.createChannel()
  noPrefetch.on('error', () => {})
  await assert.rejects(
    noPrefetch.consume('events', () => {}),
    /PRECONDITION_FAILED/,
  )
  // Bound through an exchange too.
  const ch2 = await conn.createConfirmChannel()
  await ch2.bindQueue('events', 'amq.fanout', '')
  ch2.publish('amq.fanout', 'k', Buffer.from('via-exchange'))
  await ch2.waitForConfirms()
  const all = await readStream(conn, 'events', 'first', 7)
  assert.equal(all[6]!.content.toString(), 'via-exchange')
  assert.equal(all[6]!.fields.exchange, 'amq.fanout')
})
