// One stream, two protocols (issue 6's cross-protocol proof): a Kafka topic written by kafkajs is consumed over
// AMQP as a stream queue (x-stream-offset, offsets in the x-stream-offset header), and an AMQP publish on the
// default exchange to the topic's name is appended to it and read back by a kafkajs consumer.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type amqp from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import { startAmqpListener } from '../../../src/protocols/amqp/index.ts'
import { startKafkaListener } from '../../../src/protocols/kafka/index.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'
import { connect, deferred } from './helpers.ts'

test('a Kafka topic is an AMQP stream queue, and an AMQP publish reaches the Kafka topic', {
  timeout: 60_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cross-'))
  const broker = await createTestBroker({ dataDir: join(dir, 'data'), durability: 'never' })
  const kafkaListener = await startKafkaListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  const amqpListener = await startAmqpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  t.after(async () => {
    await amqpListener.close()
    await kafkaListener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const kafka = new Kafka({
    clientId: 'cross',
    brokers: [`127.0.0.1:${kafkaListener.port}`],
    logLevel: logLevel.NOTHING,
  })

  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({
    topic: 'orders',
    acks: -1,
    messages: [0, 1, 2].map((i) => ({ key: `k${i}`, value: `from-kafka-${i}` })),
  })
  await producer.disconnect()

  // AMQP: the topic is a stream queue; read it from the first offset.
  const conn = await connect(t, `amqp://guest:guest@127.0.0.1:${amqpListener.port}`)
  const ch = await conn.createConfirmChannel()
  await ch.prefetch(10)
  const got: amqp.ConsumeMessage[] = []
  const three = deferred<void>()
  await ch.consume(
    'orders',
    (m) => {
      if (!m) return
      got.push(m)
      ch.ack(m)
      if (got.length === 3) three.resolve()
    },
    { arguments: { 'x-stream-offset': 'first' } },
  )
  await three.promise
  assert.deepEqual(
    got.map((m) => [m.content.toString(), Number(m.properties.headers?.['x-stream-offset'])]),
    [
      ['from-kafka-0', 0],
      ['from-kafka-1', 1],
      ['from-kafka-2', 2],
    ],
  )

  // AMQP publish (confirmed) to the topic's name on the default exchange: a Kafka consumer sees it at offset 3.
  ch.sendToQueue('orders', Buffer.from('from-amqp'))
  await ch.waitForConfirms()
  const consumer = kafka.consumer({ groupId: 'cross-readers' })
  await consumer.connect()
  await consumer.subscribe({ topic: 'orders', fromBeginning: true })
  const seen: Array<[string, string]> = []
  const four = deferred<void>()
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push([message.offset, message.value?.toString() ?? ''])
      if (seen.length === 4) four.resolve()
    },
  })
  const timer = setTimeout(() => four.reject(new Error(`kafkajs saw ${JSON.stringify(seen)}`)), 30_000)
  await four.promise
  clearTimeout(timer)
  await consumer.disconnect()
  assert.deepEqual(seen, [
    ['0', 'from-kafka-0'],
    ['1', 'from-kafka-1'],
    ['2', 'from-kafka-2'],
    ['3', 'from-amqp'],
  ])
})
