// The admin endpoints the dashboard's operations use, over plain HTTP with real clients on the other side:
// publish to an exchange with AMQP properties (amqplib receives them), the peek view of an amqplib publish
// (properties by name), destructive get (requeue, then ack), streams marked by role and hidden with
// ?internal=false, MQTT retained payloads, group members and the consumers of a stream (kafkajs), and the
// rate history counting Kafka fetches and MQTT sends as out.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import amqplib from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import mqtt from 'mqtt'
import { startAllListeners } from '../../../fixtures/all-listeners.ts'

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk untyped JSON replies
type Json = Record<string, any>

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('admin operations over HTTP against real AMQP, Kafka and MQTT clients', { timeout: 60_000 }, async (t) => {
  const w = await startAllListeners(t)
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${w.base}/api/v1${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, json: (await res.json()) as Json }
  }

  // ---- publish to an exchange with AMQP properties; amqplib gets them as an AMQP publisher's ----
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${w.amqp.port}`)
  t.after(() => conn.close().catch(() => {}))
  const ch = await conn.createChannel()
  await ch.assertExchange('orders-x', 'topic')
  await ch.assertQueue('orders-q')
  await ch.bindQueue('orders-q', 'orders-x', 'order.*')
  const published = await call('POST', '/exchanges/orders-x/publish', {
    routingKey: 'order.created',
    value: '{"id":7}',
    encoding: 'text',
    properties: {
      'content-type': 'application/json',
      'delivery-mode': 2,
      'correlation-id': 'corr-7',
      priority: 3,
      headers: { 'x-trace': 'abc', 'x-retries': 2 },
    },
  })
  assert.equal(published.status, 200)
  assert.equal(published.json.routed, 1)
  const got = await ch.get('orders-q', { noAck: true })
  assert.ok(got)
  assert.equal(got.content.toString(), '{"id":7}')
  assert.equal(got.fields.routingKey, 'order.created')
  assert.equal(got.properties.contentType, 'application/json')
  assert.equal(got.properties.deliveryMode, 2)
  assert.equal(got.properties.correlationId, 'corr-7')
  assert.equal(got.properties.priority, 3)
  assert.deepEqual(got.properties.headers, { 'x-trace': 'abc', 'x-retries': 2 })
  const unknown = await call('POST', '/exchanges/orders-x/publish', { value: 'x', properties: { colour: 'red' } })
  assert.equal(unknown.status, 400)
  assert.match(unknown.json.error.message, /unknown AMQP property 'colour'/)
  const badMode = await call('POST', '/exchanges/orders-x/publish', {
    value: 'x',
    properties: { 'delivery-mode': 'x' },
  })
  assert.equal(badMode.status, 400)
  assert.equal((await call('POST', '/exchanges/ghost/publish', { value: 'x' })).status, 404)

  // ---- peek view of an amqplib publish: properties by name, the stored bytes only as an internal header ----
  ch.sendToQueue('orders-q', Buffer.from('hello'), {
    contentType: 'text/plain',
    deliveryMode: 2,
    correlationId: 'corr-8',
    replyTo: 'replies',
    headers: { tenant: 'acme' },
  })
  await ch.checkQueue('orders-q')
  let peek = await call('GET', '/queues/orders-q/messages?encoding=text')
  for (let i = 0; i < 50 && peek.json.messages.length === 0; i++) {
    await sleep(20)
    peek = await call('GET', '/queues/orders-q/messages?encoding=text')
  }
  const [m] = peek.json.messages
  assert.deepEqual(m.properties, {
    protocol: 'amqp',
    'content-type': 'text/plain',
    headers: { tenant: 'acme' },
    'delivery-mode': 2,
    'correlation-id': 'corr-8',
    'reply-to': 'replies',
  })
  assert.ok('amqp.props' in m.headers, 'the stored property bytes stay visible to who asks for internal headers')

  // ---- destructive get: requeue keeps the message (redelivered next time), ack removes it ----
  const requeued = await call('POST', '/queues/orders-q/get', { count: 5, ackMode: 'requeue', encoding: 'text' })
  assert.equal(requeued.status, 200)
  assert.deepEqual(
    requeued.json.messages.map((x: Json) => [x.value, x.redelivered]),
    [['hello', false]],
  )
  assert.equal(w.broker.queueStats('orders-q').depth, 1)
  const acked = await call('POST', '/queues/orders-q/get', { count: 1, ackMode: 'ack', encoding: 'text' })
  assert.deepEqual(
    acked.json.messages.map((x: Json) => [x.value, x.redelivered, x.deliveryCount]),
    [['hello', true, 2]],
  )
  assert.equal(w.broker.queueStats('orders-q').depth, 0)
  assert.equal((await call('POST', '/queues/orders-q/get', { ackMode: 'nack' })).status, 400)
  assert.equal((await call('POST', '/queues/orders-q/get', { count: 0 })).status, 400)
  const missing = await call('POST', '/queues/nope/get', {})
  assert.equal(missing.status, 404)
  assert.equal(missing.json.error.code, 'QUEUE_NOT_FOUND', 'queues are queues in the API, not subscriptions')

  // ---- MQTT: a retained payload, a persistent session; both are MQTT's own state ----
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${w.mqtt.port}`, { clientId: 'dash-sub', clean: false })
  t.after(() => sub.endAsync().catch(() => {}))
  await sub.subscribeAsync('sensors/#', { qos: 1 })
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${w.mqtt.port}`, { clientId: 'dash-pub' })
  t.after(() => pub.endAsync().catch(() => {}))
  await pub.publishAsync('sensors/t1', '21.5', { qos: 1, retain: true })
  const retained = await call('GET', '/mqtt/retained?q=sensors/')
  assert.deepEqual(
    retained.json.items.map((r: Json) => [r.topic, r.payload, r.bytes, r.truncated]),
    [['sensors/t1', '21.5', 4, false]],
  )
  assert.equal((await call('GET', '/mqtt/retained?q=sensors/&encoding=base64')).json.items[0].payload, 'MjEuNQ==')

  // ---- streams by role; ?internal=false lists plain streams only (as the dashboard does by default) ----
  // No restart after a consumer crash: kafkajs would otherwise keep a restart timer alive after the test.
  const kafka = new Kafka({
    clientId: 'ops',
    brokers: [`127.0.0.1:${w.kafka.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, restartOnFailure: async () => false },
  })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'clicks', numPartitions: 2 }] })
  await admin.disconnect()
  const all = await call('GET', '/streams?limit=1000')
  const roles = Object.fromEntries(all.json.items.map((s: Json) => [s.name, [s.role, s.internal]]))
  assert.deepEqual(roles.clicks, ['stream', undefined])
  assert.deepEqual(roles['orders-q'], ['queue', undefined])
  assert.deepEqual(roles['mqtt.retained'], ['internal', 'MQTT retained messages'])
  assert.deepEqual(roles['mqtt.session.dash-sub'], ['internal', 'MQTT persistent session'])
  const plain = await call('GET', '/streams?internal=false')
  assert.deepEqual(
    plain.json.items.map((s: Json) => s.name),
    ['clicks'],
  )
  assert.equal(plain.json.total, 1)
  const queues = await call('GET', '/queues?internal=false')
  assert.deepEqual(
    queues.json.items.map((q: Json) => q.name),
    ['orders-q'],
  )
  assert.equal(
    (await call('GET', '/queues/mqtt.session.dash-sub')).json.internal,
    'MQTT persistent session',
    'an internal queue says whose it is',
  )

  // ---- a Kafka group: members with their partitions, the stream's consumers, rates per protocol ----
  const producer = kafka.producer()
  await producer.connect()
  t.after(() => producer.disconnect().catch(() => {}))
  const consumer = kafka.consumer({ groupId: 'clickers', sessionTimeout: 10_000, heartbeatInterval: 500 })
  await consumer.connect()
  t.after(() => consumer.disconnect().catch(() => {}))
  await consumer.subscribe({ topic: 'clicks', fromBeginning: true })
  let consumed = 0
  await consumer.run({
    eachMessage: async () => {
      consumed++
    },
  })
  const mqttReceived = new Promise<void>((resolve) => sub.on('message', () => resolve()))
  const traffic = setInterval(() => {
    void producer.send({
      topic: 'clicks',
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 'c' })),
    })
    void pub.publishAsync('sensors/t2', 'x', { qos: 0 })
  }, 100)
  t.after(() => clearInterval(traffic))
  let group = await call('GET', '/groups/clickers')
  for (let i = 0; i < 100 && (group.json.memberDetails?.[0]?.assignment ?? []).length === 0; i++) {
    await sleep(100)
    group = await call('GET', '/groups/clickers')
  }
  assert.equal(group.json.members, 1)
  const [member] = group.json.memberDetails
  assert.equal(member.clientId, 'ops')
  assert.match(member.clientHost, /127\.0\.0\.1/)
  assert.deepEqual(member.assignment, [{ stream: 'clicks', partitions: [0, 1] }])
  const consumers = await call('GET', '/streams/clicks/consumers')
  assert.deepEqual(
    consumers.json.groups.map((g: Json) => [g.group, g.members.map((x: Json) => x.clientId)]),
    [['clickers', ['ops']]],
  )
  await mqttReceived
  let rates = await call('GET', '/rates')
  const seen = () => {
    const s = rates.json.samples as Json[]
    return { kafka: s.some((x) => x.kafka > 0), mqtt: s.some((x) => x.mqtt > 0), in: s.some((x) => x.in > 0) }
  }
  for (let i = 0; i < 100 && !(seen().kafka && seen().mqtt); i++) {
    await sleep(100)
    rates = await call('GET', '/rates')
  }
  clearInterval(traffic)
  assert.ok(consumed > 0)
  assert.deepEqual(seen(), { kafka: true, mqtt: true, in: true })
  assert.equal(rates.json.sampleMs, 200)
  assert.equal(rates.json.historyMs, 3_600_000)
  for (const s of rates.json.samples as Json[])
    assert.ok(Math.abs(s.out - (s.queues + s.kafka + s.mqtt)) < 1e-9, 'out is the sum of every consumer')
  assert.ok(rates.json.totals.delivered.kafka >= consumed)
  assert.equal(rates.json.totals.groupMembers, 1)
  const last = (rates.json.samples as Json[]).at(-1)!
  const newer = await call('GET', `/rates?since=${last.t}`)
  assert.ok(
    newer.json.samples.every((s: Json) => s.t > last.t),
    '?since returns only newer samples',
  )
})
