// STOMP across protocols on one broker: stompjs ↔ amqplib (a STOMP queue is the AMQP queue of that name; a
// STOMP topic is amq.topic's routing key; JMS-style headers become AMQP properties, custom ones AMQP
// headers) and stompjs ↔ mqtt.js (`/topic/a.b` is MQTT `a/b`; headers are MQTT 5 user properties both ways).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import amqplib from 'amqplib'
import mqtt from 'mqtt'
import { startAmqpListener } from '../../../src/protocols/amqp/index.ts'
import { startMqttListener } from '../../../src/protocols/mqtt/index.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { collector, sendWithReceipt, startWharf, stompjs } from './helpers.ts'

test('STOMP → AMQP 0-9-1: a /queue/ SEND is consumed by amqplib with its properties and headers; amqplib → /topic/ subscriber', async (t) => {
  const w = await startWharf(t)
  const amqpListener = await startAmqpListener({ broker: w.broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  t.after(() => amqpListener.close())
  const amqp = await amqplib.connect(`amqp://alice:alice-pw@127.0.0.1:${amqpListener.port}`)
  t.after(() => amqp.close().catch(() => {}))
  const channel = await amqp.createChannel()
  const client = await stompjs(t, w)

  await sendWithReceipt(client, '/queue/interop', '{"n":1}', {
    'content-type': 'application/json',
    'correlation-id': 'corr-7',
    'reply-to': '/queue/replies',
    type: 'order',
    'x-tenant': 'acme',
  })
  const got = await channel.get('interop', { noAck: true })
  assert.ok(got, 'amqplib gets the STOMP message from the queue of the same name')
  assert.equal(got.content.toString(), '{"n":1}')
  assert.equal(got.properties.contentType, 'application/json')
  assert.equal(got.properties.correlationId, 'corr-7')
  assert.equal(got.properties.replyTo, '/queue/replies')
  assert.equal(got.properties.type, 'order')
  assert.equal(got.properties.headers?.['x-tenant'], 'acme')

  const received = collector()
  await new Promise<void>((resolve) => {
    client.watchForReceipt('sub', () => resolve())
    client.subscribe('/topic/orders.*', received.onMessage, { receipt: 'sub' })
  })
  channel.publish('amq.topic', 'orders.created', Buffer.from('from amqp'))
  const [m] = await received.next(1)
  assert.equal(m!.body, 'from amqp')
  assert.equal(m!.headers.destination, '/topic/orders.created')
})

test('STOMP ↔ MQTT: /topic/a.b meets MQTT a/b, headers travel as MQTT 5 user properties both ways', async (t) => {
  const w = await startWharf(t)
  const mqttListener = await startMqttListener({
    broker: w.broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    mqttLimits: { sysIntervalMs: 0 },
  })
  t.after(() => mqttListener.close())
  const m = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: mqttListener.port,
    protocolVersion: 5,
    reconnectPeriod: 0,
  })
  t.after(() => m.end(true))
  await m.subscribeAsync('sensors/+/temp', { qos: 1 })
  const fromStomp = new Promise<{ topic: string; payload: Buffer; packet: mqtt.IPublishPacket }>((resolve) =>
    m.once('message', (topic, payload, packet) => resolve({ topic, payload, packet })),
  )
  const client = await stompjs(t, w)
  await sendWithReceipt(client, '/topic/sensors.kitchen.temp', '21.5', { unit: 'C', 'content-type': 'text/plain' })
  const seen = await fromStomp
  assert.equal(seen.topic, 'sensors/kitchen/temp')
  assert.equal(seen.payload.toString(), '21.5')
  assert.equal(seen.packet.properties?.userProperties?.unit, 'C')

  const received = collector()
  await new Promise<void>((resolve) => {
    client.watchForReceipt('sub', () => resolve())
    client.subscribe('/topic/alerts.>', received.onMessage, { receipt: 'sub' })
  })
  await m.publishAsync('alerts/door/open', 'opened', {
    qos: 1,
    properties: { userProperties: { who: 'sensor-9' }, contentType: 'text/plain' },
  })
  const [message] = await received.next(1)
  assert.equal(message!.body, 'opened')
  assert.equal(message!.headers.destination, '/topic/alerts.door.open')
  assert.equal(message!.headers.who, 'sensor-9')
  assert.equal(message!.headers['content-type'], 'text/plain')
})
