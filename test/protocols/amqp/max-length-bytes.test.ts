// x-max-length-bytes on classic/quorum queues with amqplib: drop-head keeps the newest bodies within the limit,
// reject-publish nacks confirm-mode publishes once full, dropped messages are dead-lettered with x-death reason
// maxlen, redeclares with another value fail with 406, invalid values are refused like x-max-length.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type amqp from 'amqplib'
import { collect, connect, sleep, startWharf } from './helpers.ts'

const body = (label: string, size: number) => Buffer.from(label.padEnd(size, '.'))

/** Publishes on a confirm channel and resolves with the broker's verdict. */
function confirmed(ch: amqp.ConfirmChannel, queue: string, content: Buffer): Promise<'ack' | 'nack'> {
  return new Promise((resolve) => ch.sendToQueue(queue, content, {}, (err) => resolve(err ? 'nack' : 'ack')))
}

async function until(test: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

for (const type of ['classic', 'quorum']) {
  test(`${type}: drop-head keeps the newest messages within x-max-length-bytes; headers do not count`, async (t) => {
    const w = await startWharf(t)
    const conn = await connect(t, w.url)
    const ch = await conn.createConfirmChannel()
    await ch.assertQueue('q', { arguments: { 'x-queue-type': type, 'x-max-length-bytes': 10 } })
    for (const label of ['m0', 'm1', 'm2', 'm3', 'm4']) {
      ch.sendToQueue('q', body(label, 4), { headers: { padding: 'x'.repeat(1000) } })
    }
    await ch.waitForConfirms()
    const declared = await ch.checkQueue('q')
    assert.equal(declared.messageCount, 2)
    const kept = await collect(ch, 'q', 2, { noAck: true })
    assert.deepEqual(
      kept.map((m) => m.content.toString()),
      ['m3..', 'm4..'],
    )
    assert.equal(w.broker.queueStats('q').bytes, 0)
  })
}

test('reject-publish: a confirm channel publish is nacked once full and acked again after consuming', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue('bounded', { arguments: { 'x-max-length-bytes': 10, 'x-overflow': 'reject-publish' } })
  const verdicts: string[] = []
  for (const size of [4, 4, 4, 2, 1]) verdicts.push(await confirmed(ch, 'bounded', body('p', size)))
  assert.deepEqual(verdicts, ['ack', 'ack', 'nack', 'ack', 'nack'])
  assert.equal((await ch.checkQueue('bounded')).messageCount, 3)

  const m = await ch.get('bounded')
  assert.ok(m)
  assert.equal(m.content.length, 4)
  ch.ack(m)
  await until(() => w.broker.queueStats('bounded').bytes === 6, 'ack frees 4 bytes')
  assert.equal(await confirmed(ch, 'bounded', body('q', 4)), 'ack')
  assert.equal(await confirmed(ch, 'bounded', body('r', 1)), 'nack')

  // Without confirms a refused publish is dropped silently (as for x-max-length), the channel stays open.
  const plain = await conn.createChannel()
  plain.sendToQueue('bounded', body('s', 4))
  await sleep(50)
  assert.equal((await plain.checkQueue('bounded')).messageCount, 3)
  const rest = await collect(plain, 'bounded', 3, { noAck: true })
  assert.deepEqual(
    rest.map((r) => r.content.toString()),
    ['p...', 'p.', 'q...'],
  )
})

test('x-max-length and x-max-length-bytes together: whichever is hit first applies', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue('both', { maxLength: 3, arguments: { 'x-max-length-bytes': 100 } })
  for (let i = 0; i < 5; i++) ch.sendToQueue('both', body(`s${i}`, 2))
  await ch.waitForConfirms()
  assert.equal((await ch.checkQueue('both')).messageCount, 3)
  for (let i = 0; i < 3; i++) ch.sendToQueue('both', body(`b${i}`, 40))
  await ch.waitForConfirms()
  const kept = await collect(ch, 'both', 2, { noAck: true })
  assert.deepEqual(
    kept.map((m) => m.content.toString().slice(0, 2)),
    ['b1', 'b2'],
  )
  assert.equal((await ch.checkQueue('both')).messageCount, 0)
})

test('dropped messages are dead-lettered with x-death reason maxlen', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createConfirmChannel()
  await ch.assertExchange('dlx', 'fanout')
  await ch.assertQueue('dead')
  await ch.bindQueue('dead', 'dlx', '')
  await ch.assertQueue('src', { deadLetterExchange: 'dlx', arguments: { 'x-max-length-bytes': 8 } })
  for (const label of ['m0', 'm1', 'm2']) ch.sendToQueue('src', body(label, 4), { headers: { keep: label } })
  await ch.waitForConfirms()
  const [dead] = await collect(ch, 'dead', 1, { noAck: true })
  assert.equal(dead!.content.toString(), 'm0..')
  assert.equal(dead!.properties.headers?.keep, 'm0')
  const xDeath = dead!.properties.headers?.['x-death'] as unknown as Array<Record<string, unknown>>
  assert.equal(xDeath.length, 1)
  assert.equal(xDeath[0]!.queue, 'src')
  assert.equal(xDeath[0]!.reason, 'maxlen')
  assert.equal(xDeath[0]!.count, 1)
  assert.deepEqual(xDeath[0]!['routing-keys'], ['src'])
  const left = await collect(ch, 'src', 2, { noAck: true })
  assert.deepEqual(
    left.map((m) => m.content.toString()),
    ['m1..', 'm2..'],
  )
})

test('redeclare with another x-max-length-bytes fails with PRECONDITION_FAILED; the same value is fine', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  await ch.assertQueue('q', { arguments: { 'x-max-length-bytes': 1000 } })
  await ch.assertQueue('q', { arguments: { 'x-max-length-bytes': 1000 } })
  const other = await conn.createChannel()
  other.on('error', () => {})
  await assert.rejects(
    other.assertQueue('q', { arguments: { 'x-max-length-bytes': 2000 } }),
    /PRECONDITION_FAILED - inequivalent arg 'x-max-length-bytes' for queue 'q' in vhost '\/': received '2000' but current is '1000'/,
  )
  const third = await conn.createChannel()
  third.on('error', () => {})
  await assert.rejects(
    third.assertQueue('q'),
    /PRECONDITION_FAILED - inequivalent arg 'x-max-length-bytes' for queue 'q' in vhost '\/': received 'none' but current is '1000'/,
  )
  assert.equal(w.broker.queue('q').config.maxLengthBytes, 1000)
  // The connection survives the channel errors.
  const again = await conn.createChannel()
  assert.equal((await again.checkQueue('q')).messageCount, 0)
})

test('invalid x-max-length-bytes values are refused like x-max-length; stream queues keep it as retention', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  for (const [arg, value] of [
    ['x-max-length-bytes', -1],
    ['x-max-length-bytes', 1.5],
    ['x-max-length-bytes', 'lots'],
    ['x-max-length', -1],
  ] as const) {
    const ch = await conn.createChannel()
    ch.on('error', () => {})
    await assert.rejects(
      ch.assertQueue(`bad-${arg}`, { arguments: { [arg]: value } }),
      new RegExp(`PRECONDITION_FAILED - invalid arg '${arg}' for queue 'bad-${arg}' in vhost '/'`),
    )
  }
  assert.equal(w.broker.getQueue('bad-x-max-length-bytes'), undefined)

  const ch = await conn.createChannel()
  await ch.assertQueue('events', { arguments: { 'x-queue-type': 'stream', 'x-max-length-bytes': 5_000_000 } })
  assert.equal(w.broker.getStream('events')?.config.retentionBytes, 5_000_000)
  assert.equal(w.broker.getQueue('events'), undefined)
})
