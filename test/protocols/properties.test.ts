// Typed message properties across protocols with real clients on one in-process broker (docs/properties.md):
// amqplib publishes a typed headers table and basic properties → stompjs sees text headers, mqtt.js v5 user
// properties, kafkajs headers (with `wharf.types`), amqplib the exact table; STOMP SEND headers and MQTT 5
// user properties reach amqplib as longstr table entries and STOMP; Kafka headers typed by `wharf.types` reach
// amqplib as a typed table.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs'
import amqplib from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import mqtt from 'mqtt'
import { startAmqpListener } from '../../src/protocols/amqp/index.ts'
import { startHttpListener } from '../../src/protocols/http/listener.ts'
import { startKafkaListener } from '../../src/protocols/kafka/index.ts'
import { startMqttListener } from '../../src/protocols/mqtt/index.ts'
import { silentLogger } from '../../src/util/logger.ts'
import { sqsClient } from './http/helpers.ts'
import { collector, sendWithReceipt, startWharf, stompjs, stompPy } from './stomp/helpers.ts'

const host = '127.0.0.1'

async function everyProtocol(t: TestContext) {
  const w = await startWharf(t)
  const context = { broker: w.broker, host, port: 0, logger: silentLogger }
  const amqpListener = await startAmqpListener(context)
  t.after(() => amqpListener.close())
  const mqttListener = await startMqttListener({ ...context, mqttLimits: { sysIntervalMs: 0 } })
  t.after(() => mqttListener.close())
  const kafkaListener = await startKafkaListener(context)
  t.after(() => kafkaListener.close())
  const amqp = await amqplib.connect(`amqp://alice:alice-pw@${host}:${amqpListener.port}`)
  t.after(() => amqp.close().catch(() => {}))
  const kafka = new Kafka({ clientId: 'props', brokers: [`${host}:${kafkaListener.port}`], logLevel: logLevel.NOTHING })
  const http = await startHttpListener(context)
  t.after(() => http.close())
  return { w, amqp, mqttPort: mqttListener.port, kafka, sqsUrl: `http://${host}:${http.port}` }
}

async function mqttV5(t: TestContext, port: number): Promise<mqtt.MqttClient> {
  const client = await mqtt.connectAsync({ host, port, protocolVersion: 5, reconnectPeriod: 0 })
  t.after(() => client.end(true))
  return client
}

function nextMqttMessage(client: mqtt.MqttClient): Promise<mqtt.IPublishPacket> {
  return new Promise((resolve) => client.once('message', (_topic, _payload, packet) => resolve(packet)))
}

/** One headers table with every JMS type (amqplib's `{'!': type}` picks the field letter). */
const table = {
  t: true,
  b: { '!': 'byte', value: -5 },
  s: { '!': 'short', value: 1234 },
  i: { '!': 'int', value: 100000 },
  l: { '!': 'long', value: 5000000000 },
  f: { '!': 'float', value: 0.1 },
  d: { '!': 'double', value: 0.25 },
  str: 'café',
  dec: { '!': 'decimal', value: { places: 2, digits: 12345 } },
  ts: { '!': 'timestamp', value: 1700000000 },
  nested: { a: 1 },
}
/** What every text protocol shows for it. */
const asText: Record<string, string> = {
  t: 'true',
  b: '-5',
  s: '1234',
  i: '100000',
  l: '5000000000',
  f: '0.1',
  d: '0.25',
  str: 'café',
  dec: '123.45',
  ts: '1700000000000',
  'correlation-id': 'corr-1',
  'reply-to': 'replies',
  type: 'order',
  'content-type': 'text/plain',
  persistent: 'true',
  timestamp: '1700000001000',
  JMSXAppID: 'shop',
  JMSXUserID: 'alice',
}
const publishOptions = {
  headers: table,
  correlationId: 'corr-1',
  replyTo: 'replies',
  type: 'order',
  messageId: 'm-1',
  contentType: 'text/plain',
  persistent: true,
  timestamp: 1700000001,
  appId: 'shop',
  userId: 'alice',
}

test('amqplib typed headers and basic properties → stompjs text headers, mqtt.js v5 user properties, kafkajs headers, amqplib the exact table', {
  timeout: 90_000,
}, async (t) => {
  const { w, amqp, mqttPort, kafka } = await everyProtocol(t)
  const channel = await amqp.createConfirmChannel()
  await channel.assertQueue('props-amqp')
  await channel.bindQueue('props-amqp', 'amq.topic', 'props.all')

  const stomp = await stompjs(t, w)
  const received = collector()
  await new Promise<void>((resolve) => {
    stomp.watchForReceipt('sub', () => resolve())
    stomp.subscribe('/topic/props.all', received.onMessage, { receipt: 'sub' })
  })
  const m5 = await mqttV5(t, mqttPort)
  await m5.subscribeAsync('props/all', { qos: 1 })
  const mqttMessage = nextMqttMessage(m5)

  channel.publish('amq.topic', 'props.all', Buffer.from('typed'), publishOptions)
  await channel.waitForConfirms()

  // AMQP consumer: the table exactly as published (amqplib decodes the float as its 32-bit value).
  const got = await channel.get('props-amqp', { noAck: true })
  assert.ok(got)
  assert.deepEqual(got.properties.headers, {
    t: true,
    b: -5,
    s: 1234,
    i: 100000,
    l: 5000000000,
    f: Math.fround(0.1),
    d: 0.25,
    str: 'café',
    dec: { '!': 'decimal', value: { places: 2, digits: 12345 } },
    ts: { '!': 'timestamp', value: 1700000000 },
    nested: { a: 1 },
  })
  assert.equal(got.properties.correlationId, 'corr-1')
  assert.equal(got.properties.messageId, 'm-1')
  assert.equal(got.properties.deliveryMode, 2)
  assert.equal(got.properties.timestamp, 1700000001)

  // STOMP: every property and JMS header as text; the AMQP message-id under RabbitMQ's STOMP name.
  const [message] = await received.next(1, 15_000)
  for (const [name, value] of Object.entries(asText)) assert.equal(message!.headers[name], value, name)
  assert.equal(message!.headers['amqp-message-id'], 'm-1')
  assert.equal(message!.headers.nested, undefined, 'tables stay AMQP-only')
  for (const name of Object.keys(message!.headers))
    assert.ok(!name.startsWith('wharf.') && !name.startsWith('amqp.'), `${name} leaked to STOMP`)

  // MQTT 5: the same, as user properties.
  const packet = await mqttMessage
  const user = packet.properties?.userProperties ?? {}
  for (const [name, value] of Object.entries(asText)) assert.equal(user[name], value, name)
  assert.equal(user['message-id'], 'm-1')
  for (const name of Object.keys(user))
    assert.ok(!name.startsWith('wharf.') && !name.startsWith('amqp.'), `${name} leaked to MQTT`)

  // Kafka: the record headers as stored, text values plus wharf.types (and the raw amqp.props).
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'props-kafka', numPartitions: 1 }] })
  await admin.disconnect()
  channel.sendToQueue('props-kafka', Buffer.from('typed'), publishOptions)
  await channel.waitForConfirms()
  const consumer = kafka.consumer({ groupId: 'props-readers' })
  await consumer.connect()
  t.after(() => consumer.disconnect())
  await consumer.subscribe({ topic: 'props-kafka', fromBeginning: true })
  const headers = await new Promise<Record<string, string>>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message: record }) => {
        const out: Record<string, string> = {}
        for (const [k, v] of Object.entries(record.headers ?? {})) out[k] = String(v)
        resolve(out)
      },
    })
  })
  for (const [name, value] of Object.entries(asText)) assert.equal(headers[name], value, name)
  assert.deepEqual(JSON.parse(headers['wharf.types']!), {
    t: 'boolean',
    b: 'byte',
    s: 'short',
    i: 'int',
    l: 'long',
    f: 'float',
    d: 'double',
    ts: 'long',
  })
  assert.ok('amqp.props' in headers)
})

test('STOMP SEND headers are string properties: amqplib gets them as longstr table entries, JMS ones as basic properties', {
  timeout: 60_000,
}, async (t) => {
  const { w, amqp } = await everyProtocol(t)
  const channel = await amqp.createChannel()
  const stomp = await stompjs(t, w)
  await sendWithReceipt(stomp, '/queue/from-stomp', 'hello', {
    count: '42',
    flag: 'true',
    name: 'plain',
    'wharf.types': '{"count":"int"}',
    'correlation-id': 'c-1',
    persistent: 'true',
    'amqp-message-id': 'stomp-m-1',
  })
  const got = await channel.get('from-stomp', { noAck: true })
  assert.ok(got)
  assert.equal(got.properties.headers?.count, '42', 'a STOMP client cannot type a header by sending wharf.types')
  assert.equal(got.properties.headers?.flag, 'true')
  assert.equal(got.properties.headers?.name, 'plain')
  assert.equal(got.properties.headers?.['wharf.types'], undefined)
  assert.equal(got.properties.correlationId, 'c-1')
  assert.equal(got.properties.deliveryMode, 2)
  assert.equal(got.properties.messageId, 'stomp-m-1')
})

test('MQTT 5 user properties → amqplib headers table and stomp.py headers; reserved names are refused', {
  timeout: 60_000,
}, async (t) => {
  const { w, amqp, mqttPort } = await everyProtocol(t)
  const channel = await amqp.createChannel()
  await channel.assertQueue('from-mqtt')
  await channel.bindQueue('from-mqtt', 'amq.topic', 'mq.props')
  const m5 = await mqttV5(t, mqttPort)
  // stomp.py subscribes, reports when it is ready, then prints the headers of the first MESSAGE.
  const script = `
import json, os, sys, threading, time, stomp
got = threading.Event()
class L(stomp.ConnectionListener):
    def on_message(self, frame):
        print(json.dumps(frame.headers)); sys.stdout.flush(); got.set()
c = stomp.Connection12([('127.0.0.1', int(os.environ['PORT']))])
c.set_listener('', L())
c.connect(wait=True)
c.subscribe('/topic/mq.props', id='1', ack='auto', headers={'receipt': 'ready'})
time.sleep(1)
open(os.environ['READY'], 'w').close()
got.wait(30)
c.disconnect()
`
  const dir = mkdtempSync(join(tmpdir(), 'wharf-props-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const ready = join(dir, 'ready')
  const python = stompPy(script, { PORT: String(w.port), READY: ready })
  const deadline = Date.now() + 30_000
  while (!existsSync(ready) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  assert.ok(existsSync(ready), 'stomp.py subscribed')

  await m5.publishAsync('mq/props', 'reading', {
    qos: 1,
    properties: { userProperties: { region: 'eu', n: '7', 'wharf.types': '{"n":"int"}', 'wharf.priority': '9' } },
  })
  let got: amqplib.GetMessage | false = false
  for (let i = 0; i < 100 && !got; i++) {
    got = await channel.get('from-mqtt', { noAck: true })
    if (!got) await new Promise((r) => setTimeout(r, 50))
  }
  assert.ok(got)
  assert.equal(got.properties.headers?.region, 'eu')
  assert.equal(got.properties.headers?.n, '7', 'an MQTT client cannot type a user property by sending wharf.types')
  assert.equal(got.properties.headers?.['wharf.types'], undefined)
  assert.equal(got.properties.headers?.['wharf.priority'], undefined)

  const headers = JSON.parse((await python).stdout.trim().split('\n')[0]!) as Record<string, string>
  assert.equal(headers.region, 'eu')
  assert.equal(headers.n, '7')
  assert.equal(headers.priority, undefined)
})

test('Kafka headers typed by wharf.types reach amqplib as a typed table', {
  timeout: 90_000,
}, async (t) => {
  const { amqp, kafka } = await everyProtocol(t)
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'typed-kafka', numPartitions: 1 }] })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({
    topic: 'typed-kafka',
    acks: -1,
    messages: [
      {
        value: 'from kafka',
        headers: {
          count: '42',
          ok: 'false',
          ratio: '0.5',
          label: 'x',
          'wharf.types': JSON.stringify({ count: 'int', ok: 'boolean', ratio: 'double' }),
        },
      },
    ],
  })
  await producer.disconnect()

  const ch = await amqp.createChannel()
  await ch.prefetch(10)
  const delivered = new Promise<amqplib.ConsumeMessage>((resolve) => {
    void ch.consume(
      'typed-kafka',
      (m) => {
        if (m) resolve(m)
      },
      { arguments: { 'x-stream-offset': 'first' } },
    )
  })
  const m = await delivered
  assert.equal(m.properties.headers?.count, 42)
  assert.equal(m.properties.headers?.ok, false)
  assert.equal(m.properties.headers?.ratio, 0.5)
  assert.equal(m.properties.headers?.label, 'x')
  assert.equal(m.properties.headers?.['wharf.types'], undefined)
  ch.ack(m)
})

test('SQS Number attributes are typed properties where lossless (amqplib sees numbers); typed AMQP headers reach SQS as Number.<type>', {
  timeout: 60_000,
}, async (t) => {
  const { amqp, sqsUrl } = await everyProtocol(t)
  const sqs = sqsClient(t, sqsUrl)
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'props-sqs' }))
  const attributes = {
    n: { DataType: 'Number', StringValue: '42' },
    big: { DataType: 'Number', StringValue: '5000000000' },
    ratio: { DataType: 'Number', StringValue: '0.5' },
    odd: { DataType: 'Number', StringValue: '1.50' },
    jmsInt: { DataType: 'Number.int', StringValue: '7' },
    jmsBool: { DataType: 'Number.Boolean', StringValue: '1' },
    s: { DataType: 'String', StringValue: 'x' },
  }
  const sent = await sqs.send(
    new SendMessageCommand({ QueueUrl, MessageBody: 'from sqs', MessageAttributes: attributes }),
  )
  // SQS gets back exactly what it sent (data types and text), so the attribute MD5s match.
  const back = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['All'], VisibilityTimeout: 0, WaitTimeSeconds: 5 }),
  )
  const m = back.Messages?.[0]
  assert.ok(m)
  assert.deepEqual(m.MessageAttributes, attributes)
  assert.equal(m.MD5OfMessageAttributes, sent.MD5OfMessageAttributes)
  await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle! }))
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'again', MessageAttributes: attributes }))

  const channel = await amqp.createChannel()
  let got: amqplib.GetMessage | false = false
  for (let i = 0; i < 100 && !got; i++) {
    got = await channel.get('props-sqs', { noAck: true })
    if (!got) await new Promise((r) => setTimeout(r, 50))
  }
  assert.ok(got)
  const headers = got.properties.headers ?? {}
  assert.equal(headers.n, 42)
  assert.equal(headers.big, 5000000000)
  assert.equal(headers.ratio, 0.5)
  assert.equal(headers.odd, '1.50', 'not lossless as a number: stays text')
  assert.equal(headers.jmsInt, 7)
  assert.equal(headers.jmsBool, true)
  assert.equal(headers.s, 'x')

  const { QueueUrl: toSqs } = await sqs.send(new CreateQueueCommand({ QueueName: 'props-to-sqs' }))
  const confirm = await amqp.createConfirmChannel()
  confirm.sendToQueue('props-to-sqs', Buffer.from('typed'), publishOptions)
  await confirm.waitForConfirms()
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: toSqs, MessageAttributeNames: ['All'], WaitTimeSeconds: 5 }),
  )
  const a = out.Messages?.[0]?.MessageAttributes ?? {}
  assert.deepEqual(a.i, { DataType: 'Number.int', StringValue: '100000' })
  assert.deepEqual(a.l, { DataType: 'Number.long', StringValue: '5000000000' })
  assert.deepEqual(a.f, { DataType: 'Number.float', StringValue: '0.1' })
  assert.deepEqual(a.t, { DataType: 'Number.Boolean', StringValue: '1' })
  assert.deepEqual(a.str, { DataType: 'String', StringValue: 'café' })
  assert.equal(a['amqp.props'], undefined)
})
