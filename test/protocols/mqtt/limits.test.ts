// QoS 2 exactly once across a reconnect, and the bounds: subscriptions per client, connections,
// inflight window (QoS ≥ 1 backpressure) and QoS 0 drops for a subscriber that does not read.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import mqtt from 'mqtt'
import type { IPublishPacket } from 'mqtt-packet'
import { collect, connect, rawClient, rawSubscriber, sleep, startWharf } from './helpers.ts'

for (const protocolVersion of [4, 5] as const) {
  test(`v${protocolVersion}: a QoS 2 PUBLISH retried after reconnect is forwarded once`, async (t) => {
    const w = await startWharf(t)
    const sub = await connect(t, w, { protocolVersion })
    const inbox = collect(sub)
    await sub.subscribeAsync({ 'once/#': { qos: 2 } })
    const connectPacket = {
      cmd: 'connect' as const,
      clientId: 'q2',
      protocolVersion,
      clean: false,
      keepalive: 0,
      ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}),
    }
    // One QoS 2 PUBLISH: sent, then retried with dup set on the new connection.
    const publish = (dup: boolean): IPublishPacket => ({
      cmd: 'publish',
      topic: 'once/x',
      payload: Buffer.from('exactly'),
      qos: 2,
      messageId: 42,
      retain: false,
      dup,
    })
    const a = await rawClient(t, w.port, protocolVersion)
    a.send(connectPacket)
    await a.next('connack')
    a.send(publish(false))
    await a.next('pubrec')
    a.socket.destroy() // lost before PUBREL
    await sleep(100)
    const b = await rawClient(t, w.port, protocolVersion)
    b.send(connectPacket)
    assert.equal(((await b.next('connack')) as mqtt.IConnackPacket).sessionPresent, true)
    b.send(publish(true))
    await b.next('pubrec')
    b.send({ cmd: 'pubrel', messageId: 42 })
    assert.equal(((await b.next('pubcomp')) as { messageId?: number }).messageId, 42)
    await sleep(300)
    assert.deepEqual(
      inbox.messages.map((m) => m.payload.toString()),
      ['exactly'],
    )
  })
}

test('bounds: subscriptions per client and connections are refused beyond their limits', async (t) => {
  const w = await startWharf(t, { maxSubscriptionsPerClient: 2, maxConnections: 2 })
  const c = await connect(t, w, { protocolVersion: 5 })
  // mqtt.js 5 turns a failure code in the SUBACK into an error carrying the packet.
  const refused = await c.subscribeAsync({ a: { qos: 1 }, b: { qos: 1 }, c: { qos: 1 } }).then(
    () => assert.fail('third subscription accepted'),
    (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
  )
  assert.deepEqual(refused, [1, 1, 0x97])
  const v3 = await connect(t, w, { protocolVersion: 4 })
  const v3granted = await v3.subscribeAsync({ a: { qos: 0 }, b: { qos: 0 }, c: { qos: 0 } }).then(
    () => assert.fail('third subscription accepted'),
    (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
  )
  assert.deepEqual(v3granted, [0, 0, 128])
  const third = mqtt.connect({ host: '127.0.0.1', port: w.port, protocolVersion: 5, reconnectPeriod: 0 })
  t.after(() => third.end(true))
  const error = await new Promise<Error & { code?: number }>((resolve) => third.once('error', resolve))
  assert.equal(error.code, 0x97)
})

test('backpressure: QoS 1 deliveries stop at the inflight window, QoS 0 is dropped for a reader that stalls', async (t) => {
  const w = await startWharf(t, { maxInflight: 5, maxWriteBufferBytes: 64 * 1024 })
  const slow = await rawClient(t, w.port, 4)
  slow.send({ cmd: 'connect', clientId: 'slow', protocolVersion: 4, clean: true, keepalive: 0 })
  await slow.next('connack')
  slow.send({
    cmd: 'subscribe',
    messageId: 1,
    subscriptions: [
      { topic: 'bp1', qos: 1 },
      { topic: 'bp0', qos: 0 },
    ],
  })
  await slow.next('suback')
  const pub = await connect(t, w, { protocolVersion: 4 })
  for (let i = 0; i < 20; i++) await pub.publishAsync('bp1', `m${i}`, { qos: 1 })
  await sleep(300)
  // A clean session has no queue: its QoS 1 messages wait in memory behind the inflight window.
  const slowConnection = () => [...w.listener.hub.connections].find((c) => c.describe().clientId === 'slow')!
  assert.equal(w.broker.getQueue('mqtt.session.slow'), undefined)
  assert.equal(slowConnection().describe().inflight, 5, 'only Receive-Maximum-many unacked deliveries')
  assert.equal(slowConnection().describe().waiting, 15)
  slow.socket.pause() // stop reading
  const payload = Buffer.alloc(16 * 1024)
  for (let i = 0; i < 400; i++) pub.publish('bp0', payload, { qos: 0 })
  await pub.publishAsync('bp1', 'flush', { qos: 1 })
  await sleep(500)
  assert.ok(w.listener.hub.stats.dropped > 0, `dropped ${w.listener.hub.stats.dropped}`)
  assert.equal(slowConnection().describe().inflight, 5)
  // Acknowledging frees the window: the waiting messages follow in publish order.
  const got: string[] = []
  slow.socket.resume()
  for (let i = 0; got.length < 21 && i < 2000; i++) {
    const packet = (await slow.next('publish')) as IPublishPacket
    if (packet.qos === 1) {
      got.push(String(packet.payload))
      slow.send({ cmd: 'puback', messageId: packet.messageId })
    }
  }
  assert.deepEqual(got, [...Array.from({ length: 20 }, (_, i) => `m${i}`), 'flush'])
  assert.equal(slowConnection().describe().waiting, 0)
})

test('a clean session keeps at most maxQueuedPerSession QoS 1 messages waiting; newer ones are dropped (as Mosquitto)', async (t) => {
  const w = await startWharf(t, { maxInflight: 2, maxQueuedPerSession: 3 })
  const slow = await rawSubscriber(t, w.port, { protocolVersion: 4, clientId: 'capped', topic: 'cap', qos: 1 })
  const pub = await connect(t, w, { protocolVersion: 4 })
  const before = w.listener.hub.stats.dropped
  for (let i = 0; i < 10; i++) await pub.publishAsync('cap', `m${i}`, { qos: 1 })
  const got: string[] = []
  while (got.length < 5) {
    const packet = (await slow.next('publish')) as IPublishPacket
    got.push(String(packet.payload))
    slow.send({ cmd: 'puback', messageId: packet.messageId })
  }
  // m0, m1 went out at once (window 2); m2..m4 filled the waiting list and m5..m9 found it full.
  assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4'])
  assert.equal(w.listener.hub.stats.dropped - before, 5)
})

test('a subscriber that stops acknowledging holds publishers back for one flow episode at most', async (t) => {
  const w = await startWharf(t, { maxInflight: 10 })
  // A subscriber that never acknowledges anything.
  await rawSubscriber(t, w.port, { protocolVersion: 4, clientId: 'stuck', topic: 'flow', qos: 1 })
  const healthy = await connect(t, w, { protocolVersion: 4 })
  const inbox = collect(healthy)
  await healthy.subscribeAsync({ flow: { qos: 1 } })
  const pub = await connect(t, w, { protocolVersion: 4 })
  // One PUBLISH per burst: were every burst paused for the stuck client, this would take 1500 × 500 ms.
  for (let i = 0; i < 1500; i++) await pub.publishAsync('flow', `m${i}`, { qos: 1 })
  const got = await inbox.next(1500, 20_000)
  assert.equal(got[1499]!.payload.toString(), 'm1499')
  const stuckState = [...w.listener.hub.connections].find((c) => c.describe().clientId === 'stuck')!.describe()
  assert.equal(stuckState.inflight, 10)
  assert.equal(stuckState.waiting, 1490)
})
