// `wharf start`: a quorum queue's x-delivery-limit counts deliveries across a restart (RabbitMQ keeps the
// count in its Raft log): two nack-requeued deliveries, SIGTERM, restart, and the first nack-requeue after
// the restart dead-letters the message (x-delivery-limit 2 = at most 3 deliveries).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type amqp from 'amqplib'
import { collect, sleep, wharfRestarts } from './helpers.ts'

/** basic.get until a message is there (a requeued message is back after the nack is processed). */
async function getOne(ch: amqp.Channel, queue: string): Promise<amqp.GetMessage> {
  for (let i = 0; i < 200; i++) {
    const m = await ch.get(queue)
    if (m !== false) return m
    await sleep(10)
  }
  throw new Error(`no message in ${queue}`)
}

test('quorum queue x-delivery-limit counts the deliveries from before a SIGTERM restart', async (t) => {
  const wharf = await wharfRestarts(t, 'wharf-amqp-limit-')
  const { wharf: first, conn: firstConn } = await wharf.start()
  let conn = firstConn
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue('limit-dead', { durable: true })
  await ch.assertQueue('limit-q', {
    durable: true,
    deadLetterExchange: '',
    deadLetterRoutingKey: 'limit-dead',
    arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 2 },
  })
  ch.sendToQueue('limit-q', Buffer.from('poison'), { persistent: true })
  await ch.waitForConfirms()
  for (const redelivered of [false, true]) {
    const m = await getOne(ch, 'limit-q')
    assert.equal(m.content.toString(), 'poison')
    assert.equal(m.fields.redelivered, redelivered)
    ch.nack(m, false, true)
  }
  assert.equal((await ch.checkQueue('limit-q')).messageCount, 1, 'requeued twice, still there')
  await conn.close()
  first.proc.kill('SIGTERM')
  assert.equal(await first.exit, 0)

  const { wharf: second, conn: secondConn } = await wharf.start()
  conn = secondConn
  const ch2 = await conn.createChannel()
  const third = await getOne(ch2, 'limit-q')
  assert.equal(third.content.toString(), 'poison')
  assert.equal(third.fields.redelivered, true)
  // The third delivery is the last one x-delivery-limit 2 allows: requeueing it dead-letters it.
  ch2.nack(third, false, true)
  const [dead] = await collect(ch2, 'limit-dead', 1, { noAck: true }, 5000)
  assert.equal(dead!.content.toString(), 'poison')
  const xDeath = dead!.properties.headers?.['x-death'] as unknown as Array<Record<string, unknown>>
  assert.equal(xDeath[0]!.reason, 'delivery_limit')
  assert.equal(xDeath[0]!.queue, 'limit-q')
  for (let i = 0; i < 100 && (await ch2.checkQueue('limit-q')).messageCount > 0; i++) await sleep(20)
  assert.equal((await ch2.checkQueue('limit-q')).messageCount, 0)
  assert.equal(await ch2.get('limit-q'), false, 'not redelivered again')
  await conn.close()
  second.proc.kill('SIGTERM')
  assert.equal(await second.exit, 0)
})
