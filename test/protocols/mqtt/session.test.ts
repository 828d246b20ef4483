// Sessions with mqtt.js: persistent sessions keep subscriptions and queue messages while offline, an
// unacked QoS 1 message is resent with DUP after reconnect, clean sessions start empty, takeover,
// client identifier rules.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import mqtt from 'mqtt'
import { collect, connect, rawClient, sleep, startWharf } from './helpers.ts'

for (const protocolVersion of [4, 5] as const) {
  const persistent =
    protocolVersion === 5 ? { clean: false, properties: { sessionExpiryInterval: 3600 } } : { clean: false }

  test(`v${protocolVersion}: a persistent session keeps its subscriptions and offline QoS 1/2 messages`, async (t) => {
    const w = await startWharf(t)
    const first = await connect(t, w, { protocolVersion, clientId: 'keeper', ...persistent })
    await first.subscribeAsync({ 'jobs/#': { qos: 2 } })
    await first.endAsync()
    const pub = await connect(t, w, { protocolVersion })
    await pub.publishAsync('jobs/1', 'a', { qos: 1 })
    await pub.publishAsync('jobs/2', 'b', { qos: 2 })
    await pub.publishAsync('jobs/3', 'c', { qos: 0 })
    const again = mqtt.connect({
      host: '127.0.0.1',
      port: w.port,
      protocolVersion,
      clientId: 'keeper',
      reconnectPeriod: 0,
      ...persistent,
    })
    t.after(() => again.end(true))
    const inbox = collect(again)
    const connack = await new Promise<mqtt.IConnackPacket>((resolve) => again.once('connect', resolve))
    assert.equal(connack.sessionPresent, true)
    await inbox.next(2)
    await sleep(500)
    // mqtt.js emits a QoS 2 message at PUBREL, so arrival order across QoS levels is the client's. The QoS 0
    // message is not kept for the offline session (Mosquitto's queue_qos0_messages false).
    assert.deepEqual(inbox.messages.map((m) => `${m.topic}=${m.payload}@${m.packet.qos}`).sort(), [
      'jobs/1=a@1',
      'jobs/2=b@2',
    ])
  })

  test(`v${protocolVersion}: an unacknowledged QoS 1 delivery is resent with DUP on reconnect`, async (t) => {
    const w = await startWharf(t)
    // A client that dies before acknowledging (a raw connection: libraries ack on their own).
    const holder = await rawClient(t, w.port, protocolVersion)
    holder.send({
      cmd: 'connect',
      clientId: 'holder',
      protocolVersion,
      clean: false,
      keepalive: 0,
      ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
    })
    await holder.next('connack')
    holder.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'work/#', qos: 1 }] })
    await holder.next('suback')
    const got = holder.next('publish') as Promise<mqtt.IPublishPacket>
    const pub = await connect(t, w, { protocolVersion })
    await pub.publishAsync('work/x', 'task', { qos: 1 })
    const first = await got
    assert.equal(first.dup, false)
    holder.socket.destroy()
    await sleep(100)
    const again = mqtt.connect({
      host: '127.0.0.1',
      port: w.port,
      protocolVersion,
      clientId: 'holder',
      reconnectPeriod: 0,
      ...persistent,
    })
    t.after(() => again.end(true))
    const resent = await new Promise<mqtt.IPublishPacket>((resolve) =>
      again.on('packetreceive', (p) => p.cmd === 'publish' && resolve(p as mqtt.IPublishPacket)),
    )
    assert.equal(resent.dup, true)
    assert.equal(resent.payload.toString(), 'task')
    assert.equal(resent.messageId, first.messageId, 'resent with its original packet identifier')
    // Once acked it is gone: a third session sees nothing.
    await sleep(200)
    again.end(true)
    await sleep(100)
    const third = await connect(t, w, { protocolVersion, clientId: 'holder', ...persistent })
    const inbox = collect(third)
    await sleep(300)
    assert.equal(inbox.messages.length, 0)
  })

  test(`v${protocolVersion}: a clean session starts empty and drops the old one`, async (t) => {
    const w = await startWharf(t)
    const first = await connect(t, w, { protocolVersion, clientId: 'c1', ...persistent })
    await first.subscribeAsync({ 't/#': { qos: 1 } })
    await first.endAsync()
    const clean = mqtt.connect({
      host: '127.0.0.1',
      port: w.port,
      protocolVersion,
      clientId: 'c1',
      clean: true,
      reconnectPeriod: 0,
    })
    t.after(() => clean.end(true))
    const connack = await new Promise<mqtt.IConnackPacket>((resolve) => clean.once('connect', resolve))
    assert.equal(connack.sessionPresent, false)
    const inbox = collect(clean)
    const pub = await connect(t, w, { protocolVersion })
    await pub.publishAsync('t/1', 'x', { qos: 1 })
    await sleep(200)
    assert.equal(inbox.messages.length, 0, 'the old subscription went with the old session')
    assert.equal(w.broker.getQueue('mqtt.session.c1'), undefined)
  })

  test(`v${protocolVersion}: a second connection with the same client id takes the session over`, async (t) => {
    const w = await startWharf(t)
    const first = await connect(t, w, { protocolVersion, clientId: 'dup', ...persistent })
    await first.subscribeAsync({ 'over/#': { qos: 1 } })
    const closed = new Promise<number | undefined>((resolve) => {
      first.on('disconnect', (p) => resolve(p.reasonCode))
      first.on('close', () => resolve(undefined))
    })
    const second = await connect(t, w, { protocolVersion, clientId: 'dup', ...persistent })
    const reason = await closed
    if (protocolVersion === 5) assert.equal(reason, 0x8e)
    const inbox = collect(second)
    const pub = await connect(t, w, { protocolVersion })
    await pub.publishAsync('over/1', 'x', { qos: 1 })
    assert.equal((await inbox.next(1))[0]?.payload.toString(), 'x')
  })
}

test('client identifiers: v5 empty id is assigned, v3.1.1 empty id needs a clean session', async (t) => {
  const w = await startWharf(t)
  const v5 = mqtt.connect({ host: '127.0.0.1', port: w.port, protocolVersion: 5, clientId: '', reconnectPeriod: 0 })
  t.after(() => v5.end(true))
  const connack = await new Promise<mqtt.IConnackPacket>((resolve) => v5.once('connect', resolve))
  assert.match(connack.properties?.assignedClientIdentifier ?? '', /^wharf-/)
  // mqtt.js refuses to send this CONNECT itself, so a raw connection does [MQTT-3.1.3-8].
  const v3 = await rawClient(t, w.port, 4)
  // (mqtt-packet will not generate it either: CONNECT 3.1.1, flags 0 = clean session 0, empty client id.)
  v3.sendBytes(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 0, 0, 0]))
  const refused = (await v3.next('connack')) as mqtt.IConnackPacket
  assert.equal(refused.returnCode, 2, 'CONNACK 0x02 identifier rejected')
  await v3.closed
})
