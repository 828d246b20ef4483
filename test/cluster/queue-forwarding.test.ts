// AMQP 0-9-1 has no redirect, so any broker of a cluster takes the connection and forwards what it does not
// own over the broker-to-broker link: a publish to a queue whose log another broker owns is appended there
// (the confirm follows that broker's commit), and a consumer on any broker is served from the owner's state
// (the owner leases, the consumer's broker relays deliveries and acks). "Confirmed" below means amqplib's
// waitForConfirms resolved for the message; every confirmed message must be consumed afterwards.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import amqp from 'amqplib'
import { type ClusterBroker, settledOwner, startCluster, streamOwner } from '../fixtures/cluster.ts'
import { sleep } from './kafka-helpers.ts'

const url = (broker: ClusterBroker) => `amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`

/** Waits until a broker knows the queue (the catalog reaches the others through PostgreSQL NOTIFY). */
async function waitForQueue(broker: ClusterBroker, queue: string): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${broker.ports.http}/api/v1/queues/${queue}`)
    await response.body?.cancel()
    if (response.status === 200) return
    assert.ok(Date.now() < deadline, `broker ${broker.nodeId} never learned of queue ${queue}`)
    await sleep(100)
  }
}

/** Consumes from `broker` until every id in `expected` was seen; returns how often each id came. */
async function consumeAll(broker: ClusterBroker, queue: string, expected: Set<string>, timeoutMs = 60_000) {
  const connection = await amqp.connect(url(broker))
  const channel = await connection.createChannel()
  await channel.prefetch(20)
  const seen = new Map<string, number>()
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing = [...expected].filter((id) => !seen.has(id))
        reject(
          new Error(
            `not consumed after ${timeoutMs} ms: ${missing.length} of ${expected.size}, e.g. ${missing.slice(0, 5)}`,
          ),
        )
      }, timeoutMs)
      void channel.consume(queue, (message) => {
        if (message === null) return
        const id = message.content.toString()
        seen.set(id, (seen.get(id) ?? 0) + 1)
        channel.ack(message)
        if ([...expected].every((e) => seen.has(e))) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
  } finally {
    // The channel first: amqplib writes a connection close ahead of channel frames it has not sent yet
    // (the last acks), while a channel close follows them.
    await channel.close().catch(() => {})
    await connection.close().catch(() => {})
  }
  return seen
}

test('AMQP clients on any broker of a cluster publish to and consume from a queue another broker serves', {
  timeout: 300_000,
}, async (t) => {
  const cluster = await startCluster(t, { brokers: 3, listeners: ['amqp', 'http'] })
  if (cluster === undefined) return
  const [one] = cluster.brokers
  const declarer = await amqp.connect(url(one!))
  const setup = await declarer.createChannel()
  await setup.assertQueue('work', { durable: true })
  await declarer.close()
  const owner = await settledOwner(cluster, 'work')
  const others = cluster.brokers.filter((b) => b.nodeId !== owner)
  const [publishAt, consumeAt] = [others[0]!, others[1]!]
  await waitForQueue(publishAt, 'work')
  await waitForQueue(consumeAt, 'work')

  await t.test('publish with confirms on one non-owner, consume on the other', async () => {
    const connection = await amqp.connect(url(publishAt))
    const channel = await connection.createConfirmChannel()
    const ids = new Set<string>()
    for (let i = 0; i < 300; i++) {
      const id = `m-${i}`
      channel.sendToQueue('work', Buffer.from(id), { persistent: true })
      ids.add(id)
    }
    await channel.waitForConfirms()
    await connection.close()
    const seen = await consumeAll(consumeAt, 'work', ids)
    assert.deepEqual(
      [...seen.values()].filter((n) => n > 1),
      [],
      'each message delivered once',
    )
    // Acked through the relay: nothing is left for a consumer on any broker.
    const check = await amqp.connect(url(publishAt))
    const ch = await check.createChannel()
    assert.equal(await ch.get('work', { noAck: true }), false)
    await check.close()
  })

  await t.test("the queue's numbers asked of a broker that does not serve it are its server's", async () => {
    const connection = await amqp.connect(url(publishAt))
    const channel = await connection.createConfirmChannel()
    const ids = new Set<string>()
    for (let i = 0; i < 7; i++) {
      channel.sendToQueue('work', Buffer.from(`n-${i}`), { persistent: true })
      ids.add(`n-${i}`)
    }
    await channel.waitForConfirms()
    // queue.declare-ok (passive) on a non-owner counts what the owner holds.
    assert.equal((await channel.checkQueue('work')).messageCount, 7)
    await channel.close()
    await connection.close()
    const described = await fetch(`http://127.0.0.1:${consumeAt.ports.http}/api/v1/queues/work`)
    assert.equal(((await described.json()) as { depth: number }).depth, 7)
    // Only the serving broker exports the queue's depths: a sum over the brokers' series counts each once.
    const metrics = async (broker: ClusterBroker) =>
      (await fetch(`http://127.0.0.1:${broker.ports.http}/metrics`)).text()
    assert.match(await metrics(cluster.byNodeId(owner)), /^wharf_queue_messages\{queue="work"\} 7$/m)
    assert.doesNotMatch(await metrics(consumeAt), /^wharf_queue_messages\{queue="work"\}/m)
    await consumeAll(consumeAt, 'work', ids)
  })

  await t.test('a message rejected with requeue through the relay comes back, redelivered', async () => {
    const publisher = await amqp.connect(url(cluster.byNodeId(owner)))
    const pch = await publisher.createConfirmChannel()
    pch.sendToQueue('work', Buffer.from('again'), { persistent: true })
    await pch.waitForConfirms()
    await publisher.close()
    const connection = await amqp.connect(url(consumeAt))
    const channel = await connection.createChannel()
    const first = await waitForGet(channel, 'work')
    assert.equal(first.content.toString(), 'again')
    assert.equal(first.fields.redelivered, false)
    channel.nack(first, false, true)
    const second = await waitForGet(channel, 'work')
    assert.equal(second.content.toString(), 'again')
    assert.equal(second.fields.redelivered, true)
    channel.ack(second)
    await channel.close()
    await connection.close()
  })

  await t.test('SIGKILL of the owner mid-stream: every confirmed message is consumed afterwards', async () => {
    const confirmed = new Set<string>()
    const connection = await amqp.connect(url(publishAt))
    const channel = await connection.createConfirmChannel()
    let killed = false
    for (let i = 0; i < 60; i++) {
      const batch = Array.from({ length: 10 }, (_, j) => `k-${i}-${j}`)
      for (const id of batch) channel.sendToQueue('work', Buffer.from(id), { persistent: true })
      await channel.waitForConfirms()
      for (const id of batch) confirmed.add(id)
      if (i === 20 && !killed) {
        killed = true
        await cluster.byNodeId(owner).kill()
      }
    }
    await connection.close()
    const next = await streamOwner(consumeAt, 'work', owner)
    assert.notEqual(next, owner)
    const seen = await consumeAll(consumeAt, 'work', confirmed, 90_000)
    for (const id of confirmed) assert.ok(seen.has(id), `confirmed ${id} was consumed`)
  })
})

async function waitForGet(channel: amqp.Channel, queue: string): Promise<amqp.GetMessage> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const message = await channel.get(queue, { noAck: false })
    if (message !== false) return message
    assert.ok(Date.now() < deadline, `nothing to get from ${queue}`)
    await sleep(50)
  }
}
