// `wharf start` with AMQP, MQTT, STOMP and Kafka on: rhea meets mqtt.js on amq.topic (`topic://a.b` is MQTT
// topic `a/b`) and stompjs on queues (`/queue/x` is AMQP 1.0 address `x`), both ways; a sender to a Kafka
// topic's name attaches a queue over that topic's stream, so kafkajs reads what rhea sent.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IMessage } from '@stomp/stompjs'
import { Kafka, logLevel } from 'kafkajs'
import mqtt from 'mqtt'
import rhea, { type Connection, type EventContext } from 'rhea'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'
import { sendWithReceipt, stompjs } from '../stomp/helpers.ts'

async function rheaConnection(t: Parameters<typeof startSpawned>[0], port: number): Promise<Connection> {
  const connection = rhea.create_container().connect({ host: '127.0.0.1', port, reconnect: false })
  connection.on('disconnected', () => {}) // the broker stops first at the end of the test
  t.after(() => {
    if (connection.is_open()) connection.close()
  })
  await new Promise((resolve) => connection.once('connection_open', resolve))
  return connection
}

async function send(connection: Connection, address: string, message: rhea.Message): Promise<void> {
  const sender = connection.open_sender(address)
  await new Promise((resolve) => sender.once('sendable', resolve))
  sender.send(message)
  await new Promise((resolve) => sender.once('accepted', resolve))
}

const text = (body: unknown): string =>
  typeof body === 'string'
    ? body
    : Buffer.isBuffer(body)
      ? body.toString()
      : Buffer.from((body as { content: Buffer }).content).toString()

test('AMQP 1.0 and MQTT meet on amq.topic, both ways', async (t) => {
  const { ports } = await startSpawned(t, ['amqp', 'mqtt'])
  const connection = await rheaConnection(t, ports.amqp)
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: 'cross-mqtt' })
  t.after(() => client.endAsync())
  await client.subscribeAsync('sensors/+', { qos: 1 })
  const fromAmqp = new Promise<{ topic: string; payload: string }>((resolve) =>
    client.once('message', (topic, payload) => resolve({ topic, payload: payload.toString() })),
  )
  await send(connection, 'topic://sensors.t1', { body: rhea.message.data_section(Buffer.from('21.5')) })
  assert.deepEqual(await fromAmqp, { topic: 'sensors/t1', payload: '21.5' })

  const receiver = connection.open_receiver({ source: { address: 'topic://alerts.*' } })
  await new Promise((resolve) => receiver.once('receiver_open', resolve))
  const fromMqtt = new Promise<EventContext>((resolve) => receiver.once('message', resolve))
  await client.publishAsync('alerts/fire', 'evacuate', { qos: 1 })
  const got = await fromMqtt
  assert.equal(text(got.message!.body), 'evacuate')
})

test('AMQP 1.0 and STOMP meet on queues, both ways, with correlation id and content type', async (t) => {
  const { ports } = await startSpawned(t, ['amqp', 'stomp'])
  const connection = await rheaConnection(t, ports.amqp)
  const stomp = await stompjs(t, { port: ports.stomp })
  await send(connection, 'to-stomp', { body: 'hello stomp', correlation_id: 'c-7', content_type: 'text/plain' })
  const fromAmqp = await new Promise<IMessage>((resolve) => {
    stomp.subscribe('/queue/to-stomp', (m) => resolve(m), { ack: 'auto' })
  })
  assert.equal(fromAmqp.body, 'hello stomp')
  assert.equal(fromAmqp.headers['correlation-id'], 'c-7')
  assert.match(fromAmqp.headers['content-type'] ?? '', /^text\/plain/)

  await sendWithReceipt(stomp, '/queue/to-amqp10', 'hello amqp', { 'correlation-id': 'c-8' })
  const receiver = connection.open_receiver('to-amqp10')
  const got = await new Promise<EventContext>((resolve) => receiver.once('message', resolve))
  assert.equal(text(got.message!.body), 'hello amqp')
  assert.equal(got.message!.correlation_id, 'c-8')
})

test('an AMQP 1.0 sender to a Kafka topic’s name appends to it; kafkajs reads what rhea wrote', {
  timeout: 90_000,
}, async (t) => {
  const { ports } = await startSpawned(t, ['amqp', 'kafka'])
  const kafka = new Kafka({
    clientId: 'cross-amqp10',
    brokers: [`127.0.0.1:${ports.kafka}`],
    logLevel: logLevel.NOTHING,
  })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 1 }], waitForLeaders: true })
  await admin.disconnect()
  const connection = await rheaConnection(t, ports.amqp)
  await send(connection, 'events', { body: rhea.message.data_section(Buffer.from('from-amqp10-0')) })
  await send(connection, 'events', { body: rhea.message.data_section(Buffer.from('from-amqp10-1')) })
  const consumer = kafka.consumer({ groupId: 'amqp10-readers' })
  await consumer.connect()
  await consumer.subscribe({ topic: 'events', fromBeginning: true })
  const seen: Array<[string, string]> = []
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kafkajs saw ${JSON.stringify(seen)}`)), 60_000)
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push([message.offset, message.value?.toString() ?? ''])
        if (seen.length === 2) {
          clearTimeout(timer)
          resolve()
        }
      },
    })
  })
  // Before the broker stops (the first after-hook): kafkajs would otherwise retry its group calls.
  await consumer.disconnect()
  assert.deepEqual(seen, [
    ['0', 'from-amqp10-0'],
    ['1', 'from-amqp10-1'],
  ])
})
