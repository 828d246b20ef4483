// kafkajs 2.2.4, unmodified, against Wharf's Kafka listener.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CompressionTypes, Kafka, logLevel } from 'kafkajs'
import { silentKafkaLogs, startHarness } from './harness.ts'

function client(bootstrap: string, clientId = 'wharf-test') {
  return new Kafka({
    clientId,
    brokers: [bootstrap],
    ...(process.env.WHARF_TEST_LOG
      ? { logLevel: logLevel.DEBUG }
      : { logLevel: logLevel.NOTHING, logCreator: silentKafkaLogs }),
    retry: { retries: 3, initialRetryTime: 100 },
  })
}

test('kafkajs produces (plain and gzip) and consumes every message back with a consumer group', async (t) => {
  const h = await startHarness(t)
  const kafka = client(h.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  t.after(() => admin.disconnect())
  assert.equal(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] }), true)
  const producer = kafka.producer()
  await producer.connect()
  t.after(() => producer.disconnect())
  const sent: string[] = []
  for (let i = 0; i < 30; i++) sent.push(`m-${i}`)
  const plain = await producer.send({
    topic: 'orders',
    messages: sent.slice(0, 15).map((v, i) => ({ key: `k${i}`, value: v, headers: { h: 'x' } })),
  })
  assert.ok(plain.every((r) => r.errorCode === 0))
  await producer.send({
    topic: 'orders',
    compression: CompressionTypes.GZIP,
    messages: sent.slice(15).map((v, i) => ({ key: `g${i}`, value: v })),
  })

  const consumer = kafka.consumer({ groupId: 'g1', sessionTimeout: 10_000, heartbeatInterval: 500 })
  await consumer.connect()
  t.after(() => consumer.disconnect())
  await consumer.subscribe({ topic: 'orders', fromBeginning: true })
  const received: string[] = []
  let headerSeen = false
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length} of 30 received`)), 30_000)
    consumer
      .run({
        eachMessage: async ({ message }) => {
          received.push(message.value!.toString())
          if (message.headers?.h?.toString() === 'x') headerSeen = true
          if (received.length === sent.length) {
            clearTimeout(timer)
            resolve()
          }
        },
      })
      .catch(reject)
  })
  assert.deepEqual([...received].sort(), [...sent].sort())
  assert.ok(headerSeen, 'record headers survive')
  // Committed offsets are visible through the admin API (OffsetFetch).
  await consumer.commitOffsets([])
  const deadline = Date.now() + 10_000
  let total = 0
  while (Date.now() < deadline) {
    const offsets = await admin.fetchOffsets({ groupId: 'g1', topics: ['orders'] })
    total = offsets[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)
    if (total === 30) break
    await new Promise((r) => setTimeout(r, 200))
  }
  assert.equal(total, 30)
})
