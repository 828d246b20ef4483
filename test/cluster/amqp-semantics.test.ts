// RabbitMQ semantics that involve a queue's server on a cluster of two brokers, with amqplib: dead-lettering
// (message TTL and a reject without requeue) into a queue the other broker may serve, a confirmed publish to a
// fanout exchange whose queues the two brokers serve between them, a purge through one broker
// of a queue consumed through the other, and a queue deleted through one broker while the other has a consumer
// on it (cancelled, as RabbitMQ cancels consumers of a deleted queue).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type amqp from 'amqplib'
import { type ClusterBroker, startCluster, until } from '../fixtures/cluster.ts'
import { amqpConnect } from './amqp-helpers.ts'
import { sleep } from './kafka-helpers.ts'

test('dead letters, fanout, purge and queue deletion across the brokers of a cluster', {
  timeout: 180_000,
}, async (t) => {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['amqp'] })
  if (cluster === undefined) return
  const [a, b] = cluster.brokers as [ClusterBroker, ClusterBroker]
  const [connA, connB] = [await amqpConnect(t, a), await amqpConnect(t, b)]
  const [one, two] = [await connA.createChannel(), await connB.createChannel()]

  await t.test('expired and rejected messages reach the dead-letter queue, whoever serves it', async () => {
    await one.assertQueue('dead', { durable: true })
    await two.assertQueue('short-lived', {
      durable: true,
      arguments: { 'x-message-ttl': 300, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' },
    })
    await one.assertQueue('refused', {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' },
    })
    const confirm = await connB.createConfirmChannel()
    confirm.sendToQueue('short-lived', Buffer.from('expired'), { persistent: true })
    confirm.sendToQueue('refused', Buffer.from('rejected'), { persistent: true })
    await confirm.waitForConfirms()
    const refused = await until('the message to reject', async () => (await two.get('refused')) || undefined)
    two.reject(refused, false)
    const dead: amqp.GetMessage[] = []
    await until('both dead letters', async () => {
      const m = await one.get('dead', { noAck: true })
      if (m) dead.push(m)
      return dead.length === 2 ? true : undefined
    })
    const reasons = Object.fromEntries(
      dead.map((m) => [
        m.content.toString(),
        (m.properties.headers!['x-death'] as Array<{ reason: string }>)[0]!.reason,
      ]),
    )
    assert.deepEqual(reasons, { expired: 'expired', rejected: 'rejected' })
  })

  await t.test('a confirmed publish to a fanout exchange reaches every bound queue, whoever serves each', async () => {
    const queues = ['fan-1', 'fan-2', 'fan-3', 'fan-4']
    await one.assertExchange('fan', 'fanout', { durable: true })
    for (const queue of queues) {
      await one.assertQueue(queue, { durable: true })
      await one.bindQueue(queue, 'fan', '')
    }
    const confirm = await connB.createConfirmChannel()
    // The bindings reach the publishing broker within moments: publish a probe until every queue has one.
    await until('the bindings known where the publisher is', async () => {
      confirm.publish('fan', '', Buffer.from('probe'), { persistent: true })
      await confirm.waitForConfirms()
      const counts = await Promise.all(queues.map(async (q) => (await one.checkQueue(q)).messageCount))
      return counts.every((n) => n > 0) ? true : undefined
    })
    for (const queue of queues) await one.purgeQueue(queue)
    for (let i = 0; i < 20; i++) confirm.publish('fan', '', Buffer.from(`f-${i}`), { persistent: true })
    await confirm.waitForConfirms()
    for (const queue of queues) {
      const got: string[] = []
      for (let m = await one.get(queue, { noAck: true }); m; m = await one.get(queue, { noAck: true }))
        got.push(m.content.toString())
      assert.deepEqual(
        got,
        Array.from({ length: 20 }, (_, i) => `f-${i}`),
        `${queue}: every confirmed message, in order`,
      )
    }
  })

  await t.test('a purge through one broker empties the queue consumed through the other', async () => {
    await one.assertQueue('purged', { durable: true })
    for (let i = 0; i < 5; i++) two.sendToQueue('purged', Buffer.from(`p-${i}`), { persistent: true })
    await until('5 messages', async () => ((await one.checkQueue('purged')).messageCount === 5 ? true : undefined))
    assert.equal((await two.purgeQueue('purged')).messageCount, 5)
    assert.equal(await one.get('purged'), false)
  })

  await t.test('a queue deleted through one broker cancels its consumer on the other', async () => {
    await one.assertQueue('doomed', { durable: true })
    const cancelled = new Promise<true>((resolve) => {
      void one.consume('doomed', (m) => {
        if (m === null) resolve(true) // amqplib: basic.cancel from the server
      })
    })
    await two.deleteQueue('doomed')
    assert.equal(await Promise.race([cancelled, sleep(15_000).then(() => false)]), true, 'the consumer was cancelled')
    const probe = await connA.createChannel()
    probe.on('error', () => {})
    await assert.rejects(probe.checkQueue('doomed'), /404|NOT_FOUND/)
  })
})
