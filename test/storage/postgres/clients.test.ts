// Real clients against `wharf start --storage postgres://...` on a private PostgreSQL: kafkajs acks=all and
// amqplib publisher confirms, consumed; a restart of Wharf (with a fresh data directory: nothing is local)
// keeps messages, committed offsets and queue acks; Kafka DeleteRecords deletes chunk rows.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import amqp from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { startPostgres } from '../../fixtures/postgres.ts'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function sql<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end()
  }
}

async function consumeKafka(kafka: Kafka, topic: string, groupId: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const seen: string[] = []
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => {
    done = resolve
  })
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(message.value!.toString())
      if (seen.length >= count) done()
    },
  })
  await Promise.race([finished, sleep(60_000)])
  await consumer.disconnect()
  return seen
}

test('kafkajs acks=all and amqplib confirms on PostgreSQL storage; a restart keeps messages, offsets and acks', {
  timeout: 300_000,
}, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const url = await server.createDatabase('clients')
  const first = await startSpawned(t, ['kafka', 'amqp'], { args: ['--storage', url] })

  // Kafka: 200 messages acks=all, read by a group that commits.
  const kafka = new Kafka({ brokers: [`127.0.0.1:${first.ports.kafka}`], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  const sent: string[] = []
  for (let b = 0; b < 10; b++) {
    const messages = Array.from({ length: 20 }, (_, i) => ({ value: `order-${b * 20 + i}` }))
    await producer.send({ topic: 'orders', acks: -1, messages })
    sent.push(...messages.map((m) => m.value))
  }
  await producer.disconnect()
  assert.deepEqual(await consumeKafka(kafka, 'orders', 'billing', 200), sent)

  // AMQP: 100 persistent confirmed publishes to a durable queue; 40 consumed and acked.
  const amqpUrl = (port: number) => `amqp://guest:guest@127.0.0.1:${port}`
  let connection = await amqp.connect(amqpUrl(first.ports.amqp))
  const channel = await connection.createConfirmChannel()
  await channel.assertQueue('jobs', { durable: true })
  for (let i = 0; i < 100; i++) channel.sendToQueue('jobs', Buffer.from(`job-${i}`), { persistent: true })
  await channel.waitForConfirms()
  const acked = new Set<string>()
  await channel.prefetch(10)
  await new Promise<void>((resolve) => {
    void channel.consume('jobs', (msg) => {
      if (msg === null || acked.size >= 40) return
      acked.add(msg.content.toString())
      channel.ack(msg)
      if (acked.size === 40) resolve()
    })
  })
  await sleep(500) // the acks reach the broker
  await connection.close()
  const rows = await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM wharf_chunk')
  assert.ok(Number(rows[0]!.n) > 0, 'messages are rows in PostgreSQL')

  // Nothing is written to the data directory, and the disk alarm (which watches it) is off.
  assert.doesNotMatch(first.wharf.output(), /disk space check failed/)
  // Restart on a fresh data directory: everything comes from the database.
  await first.stop()
  const second = await startSpawned(t, ['kafka', 'amqp'], { args: ['--storage', url] })
  const again = new Kafka({ brokers: [`127.0.0.1:${second.ports.kafka}`], logLevel: logLevel.NOTHING })
  const offsets = again.admin()
  await offsets.connect()
  const committed = await offsets.fetchOffsets({ groupId: 'billing', topics: ['orders'] })
  assert.equal(committed[0]!.partitions[0]!.offset, '200', 'the group offset survived')
  assert.deepEqual(await consumeKafka(again, 'orders', 'audit', 200), sent, 'a new group reads everything')

  connection = await amqp.connect(amqpUrl(second.ports.amqp))
  const rest = await connection.createChannel()
  const remaining = new Set<string>()
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${remaining.size} of 60 left over`)), 60_000)
    void rest.consume('jobs', (msg) => {
      if (msg === null) return
      remaining.add(msg.content.toString())
      rest.ack(msg)
      if (remaining.size === 60) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  await connection.close()
  for (const id of acked) assert.ok(!remaining.has(id), `${id} was acked before the restart, not redelivered`)
  assert.equal(acked.size + remaining.size, 100)

  // Kafka DeleteRecords deletes the chunk rows below the new start.
  // Logs are named by stream id; the topic's is the one holding 200 records.
  const { id } = (await sql<{ id: string }>(url, 'SELECT id FROM wharf_log WHERE next_offset = 200'))[0]!
  const before = Number(
    (await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM wharf_chunk WHERE log_id = $1', [id]))[0]!.n,
  )
  await offsets.deleteTopicRecords({ topic: 'orders', partitions: [{ partition: 0, offset: '200' }] })
  await offsets.disconnect()
  const after = Number(
    (await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM wharf_chunk WHERE log_id = $1', [id]))[0]!.n,
  )
  assert.ok(before > 0 && after === 0, `chunk rows ${before} → ${after}`)
})
