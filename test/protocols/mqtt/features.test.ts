// Retained messages, wills, overlapping subscriptions and the MQTT 5 extras, with mqtt.js.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import mqtt from 'mqtt'
import { collect, connect, rawClient, rawSubscriber, sleep, startWharf } from './helpers.ts'

for (const protocolVersion of [4, 5] as const) {
  test(`v${protocolVersion}: retained messages are sent on subscribe with RETAIN, an empty payload clears them`, async (t) => {
    const w = await startWharf(t)
    const pub = await connect(t, w, { protocolVersion })
    await pub.publishAsync('home/kitchen/temp', '21', { qos: 1, retain: true })
    await pub.publishAsync('home/hall/temp', '19', { qos: 0, retain: true })
    await pub.publishAsync('home/hall/temp', '18', { qos: 1, retain: true })
    await pub.publishAsync('office/temp', '25', { qos: 1, retain: true })
    const sub = await connect(t, w, { protocolVersion })
    const inbox = collect(sub)
    await sub.subscribeAsync({ 'home/+/temp': { qos: 1 } })
    const got = await inbox.next(2)
    assert.deepEqual(got.map((m) => `${m.topic}=${m.payload}`).sort(), ['home/hall/temp=18', 'home/kitchen/temp=21'])
    assert.ok(
      got.every((m) => m.packet.retain),
      'RETAIN set on messages sent because of a subscription',
    )
    await pub.publishAsync('home/kitchen/temp', '22', { qos: 1, retain: true })
    const live = (await inbox.next(3))[2]!
    assert.equal(live.packet.retain, false, 'a normal forward has RETAIN 0')
    await pub.publishAsync('home/kitchen/temp', '', { qos: 1, retain: true })
    const late = await connect(t, w, { protocolVersion })
    const lateInbox = collect(late)
    await late.subscribeAsync({ 'home/#': { qos: 0 } })
    await sleep(200)
    assert.deepEqual(
      lateInbox.messages.map((m) => `${m.topic}=${m.payload}`),
      ['home/hall/temp=18'],
    )
  })

  test(`v${protocolVersion}: the will is published on an abrupt close, not after DISCONNECT`, async (t) => {
    const w = await startWharf(t)
    const watcher = await connect(t, w, { protocolVersion })
    const inbox = collect(watcher)
    await watcher.subscribeAsync({ 'status/#': { qos: 1 } })
    const polite = await connect(t, w, {
      protocolVersion,
      clientId: 'polite',
      will: { topic: 'status/polite', payload: Buffer.from('gone'), qos: 1, retain: false },
    })
    await polite.endAsync()
    const rude = await connect(t, w, {
      protocolVersion,
      clientId: 'rude',
      will: { topic: 'status/rude', payload: Buffer.from('lost'), qos: 1, retain: true },
    })
    ;(rude as unknown as { stream: import('node:net').Socket }).stream.destroy()
    const [will] = await inbox.next(1)
    assert.equal(will?.topic, 'status/rude')
    assert.equal(will?.payload.toString(), 'lost')
    await sleep(200)
    assert.equal(inbox.messages.length, 1, 'no will after a normal DISCONNECT')
    const later = await connect(t, w, { protocolVersion })
    const laterInbox = collect(later)
    await later.subscribeAsync('status/rude')
    assert.equal((await laterInbox.next(1))[0]?.payload.toString(), 'lost', 'a will with RETAIN is retained')
  })

  test(`v${protocolVersion}: overlapping subscriptions deliver one copy at the highest QoS`, async (t) => {
    const w = await startWharf(t)
    const sub = await connect(t, w, { protocolVersion })
    const inbox = collect(sub)
    await sub.subscribeAsync({ 'x/#': { qos: 0 }, 'x/+/z': { qos: 2 }, 'x/y/z': { qos: 1 } })
    const pub = await connect(t, w, { protocolVersion })
    await pub.publishAsync('x/y/z', 'once', { qos: 2 })
    await pub.publishAsync('x/other', 'low', { qos: 2 })
    await inbox.next(2)
    await sleep(200)
    const byTopic = Object.fromEntries(inbox.messages.map((m) => [m.topic, m.packet.qos]))
    assert.equal(inbox.messages.length, 2)
    assert.deepEqual(byTopic, { 'x/y/z': 2, 'x/other': 0 })
  })

  test(`v${protocolVersion}: keep-alive: a silent client is dropped after 1.5 × keepalive and its will sent`, async (t) => {
    const w = await startWharf(t)
    const watcher = await connect(t, w, { protocolVersion })
    const inbox = collect(watcher)
    await watcher.subscribeAsync('ka/#')
    const silent = await rawClient(t, w.port, protocolVersion)
    silent.send({
      cmd: 'connect',
      clientId: 'silent',
      protocolVersion,
      clean: true,
      keepalive: 1,
      will: { topic: 'ka/silent', payload: Buffer.from('timeout'), qos: 0, retain: false },
    })
    await silent.next('connack')
    const started = Date.now()
    await silent.closed
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 1400 && elapsed < 4000, `closed after ${elapsed} ms`)
    assert.equal((await inbox.next(1))[0]?.payload.toString(), 'timeout')
  })
}

test('v5: properties pass through (user properties, content type, response topic, correlation data, payload format, expiry)', async (t) => {
  const w = await startWharf(t)
  const sub = await connect(t, w, { protocolVersion: 5 })
  const inbox = collect(sub)
  await sub.subscribeAsync({ 'rpc/#': { qos: 1 } })
  const pub = await connect(t, w, { protocolVersion: 5 })
  await pub.publishAsync('rpc/req', '{"a":1}', {
    qos: 1,
    properties: {
      userProperties: { trace: 'abc', tag: ['x', 'y'] },
      contentType: 'application/json',
      responseTopic: 'rpc/reply/1',
      correlationData: Buffer.from([1, 2, 3]),
      payloadFormatIndicator: true,
      messageExpiryInterval: 60,
    },
  })
  const [m] = await inbox.next(1)
  const props = m!.packet.properties!
  assert.deepEqual({ ...props.userProperties }, { trace: 'abc', tag: ['x', 'y'] })
  assert.equal(props.contentType, 'application/json')
  assert.equal(props.responseTopic, 'rpc/reply/1')
  assert.deepEqual(props.correlationData, Buffer.from([1, 2, 3]))
  assert.equal(props.payloadFormatIndicator, true)
  assert.ok(props.messageExpiryInterval! <= 60 && props.messageExpiryInterval! >= 59)
})

test('v5: an expired message is not delivered to a session that was offline', async (t) => {
  const w = await startWharf(t)
  const persistent = {
    protocolVersion: 5 as const,
    clientId: 'exp',
    clean: false,
    properties: { sessionExpiryInterval: 300 },
  }
  const first = await connect(t, w, persistent)
  await first.subscribeAsync({ 'e/#': { qos: 1 } })
  await first.endAsync()
  const pub = await connect(t, w, { protocolVersion: 5 })
  await pub.publishAsync('e/short', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } })
  await pub.publishAsync('e/long', 'long', { qos: 1, properties: { messageExpiryInterval: 100 } })
  await sleep(2100)
  const again = mqtt.connect({ host: '127.0.0.1', port: w.port, reconnectPeriod: 0, ...persistent })
  t.after(() => again.end(true))
  const inbox = collect(again)
  const [m] = await inbox.next(1)
  assert.equal(m?.payload.toString(), 'long')
  assert.ok((m?.packet.properties?.messageExpiryInterval ?? 0) <= 98, 'remaining lifetime is forwarded')
  await sleep(200)
  assert.equal(inbox.messages.length, 1)
})

test('v5: subscription identifiers, no-local, retain handling and retain-as-published', async (t) => {
  const w = await startWharf(t)
  const c = await connect(t, w, { protocolVersion: 5, clientId: 'self' })
  const inbox = collect(c)
  await c.subscribeAsync({ 's/#': { qos: 1 } }, { properties: { subscriptionIdentifier: 7 } })
  await c.subscribeAsync({ 's/+': { qos: 0 } }, { properties: { subscriptionIdentifier: 9 } })
  await c.subscribeAsync({ 'mine/#': { qos: 1, nl: true } })
  const other = await connect(t, w, { protocolVersion: 5 })
  await other.publishAsync('s/a', 'both', { qos: 1 })
  const [m] = await inbox.next(1)
  assert.deepEqual([m!.packet.properties?.subscriptionIdentifier].flat().sort(), [7, 9])
  await c.publishAsync('mine/x', 'echo?', { qos: 1 })
  await other.publishAsync('mine/x', 'from other', { qos: 1 })
  const [, second] = await inbox.next(2)
  assert.equal(second?.payload.toString(), 'from other', 'no-local suppresses the own publish')
  await other.publishAsync('r/x', 'kept', { qos: 1, retain: true })
  await c.subscribeAsync({ 'r/#': { qos: 1, rh: 2 } })
  await sleep(200)
  assert.equal(inbox.messages.length, 2, 'retain handling 2 sends no retained messages')
  await c.subscribeAsync({ 'rap/#': { qos: 1, rap: true } })
  await other.publishAsync('rap/y', 'flagged', { qos: 1, retain: true })
  const [, , third] = await inbox.next(3)
  assert.equal(third?.packet.retain, true, 'retain-as-published keeps RETAIN on a live forward')
})

test('v5: topic aliases from the client are resolved', async (t) => {
  const w = await startWharf(t)
  const sub = await connect(t, w, { protocolVersion: 5 })
  const inbox = collect(sub)
  await sub.subscribeAsync('alias/#')
  const pub = await connect(t, w, { protocolVersion: 5, autoUseTopicAlias: true })
  await pub.publishAsync('alias/long/topic/name', 'one', { qos: 1 })
  await pub.publishAsync('alias/long/topic/name', 'two', { qos: 1 })
  const got = await inbox.next(2)
  assert.deepEqual(
    got.map((m) => `${m.topic}=${m.payload}`),
    ['alias/long/topic/name=one', 'alias/long/topic/name=two'],
  )
})

test('v5: outbound topic aliases for clients that accept them (mqtt.js resolves them; raw packets show them)', async (t) => {
  const w = await startWharf(t)
  const sub = await connect(t, w, { protocolVersion: 5, properties: { topicAliasMaximum: 5 } })
  const inbox = collect(sub)
  await sub.subscribeAsync({ 'out/#': { qos: 1 } })
  // A raw client with room for one alias, and one that accepts none.
  const raw = await rawClient(t, w.port, 5)
  raw.send({
    cmd: 'connect',
    clientId: 'al',
    protocolVersion: 5,
    clean: true,
    keepalive: 0,
    properties: { topicAliasMaximum: 1 },
  })
  await raw.next('connack')
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'out/#', qos: 0 }] })
  await raw.next('suback')
  const plain = await rawSubscriber(t, w.port, { protocolVersion: 5, clientId: 'plain', topic: 'out/#', qos: 0 })
  const pub = await connect(t, w, { protocolVersion: 5 })
  const sent = ['out/a=1', 'out/a=2', 'out/b=3', 'out/a=4', 'out/b=5']
  for (const m of sent) {
    const [topic, payload] = m.split('=')
    await pub.publishAsync(topic!, payload!, { qos: 1 })
  }
  assert.deepEqual(
    (await inbox.next(5)).map((m) => `${m.topic}=${m.payload}`),
    sent,
  )
  const onWire = async (client: typeof raw) => {
    const out: string[] = []
    for (let i = 0; i < sent.length; i++) {
      const p = (await client.next('publish')) as mqtt.IPublishPacket
      out.push(`${p.topic}|${p.properties?.topicAlias ?? '-'}|${p.payload}`)
    }
    return out
  }
  // First use of out/a: topic + alias 1; later: alias only. out/b finds no free alias: full topic.
  assert.deepEqual(await onWire(raw), ['out/a|1|1', '|1|2', 'out/b|-|3', '|1|4', 'out/b|-|5'])
  assert.deepEqual(await onWire(plain), ['out/a|-|1', 'out/a|-|2', 'out/b|-|3', 'out/a|-|4', 'out/b|-|5'])
})

test('v5: oversized packets get DISCONNECT 0x95, an invalid topic 0x90, too many QoS 1 in flight 0x93', async (t) => {
  const w = await startWharf(t, { maxPacketBytes: 1024, maxInflight: 2 })
  const big = await connect(t, w, { protocolVersion: 5 })
  const connack = await new Promise<mqtt.IConnackPacket>((resolve) => {
    const again = mqtt.connect({ host: '127.0.0.1', port: w.port, protocolVersion: 5, reconnectPeriod: 0 })
    t.after(() => again.end(true))
    again.once('connect', resolve)
  })
  assert.equal(connack.properties?.maximumPacketSize, 1024)
  assert.equal(connack.properties?.receiveMaximum, 2)
  const raw = await rawClient(t, w.port, 5)
  raw.send({ cmd: 'connect', clientId: 'raw', protocolVersion: 5, clean: true, keepalive: 0 })
  await raw.next('connack')
  raw.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(2000), qos: 0, retain: false, dup: false })
  const d1 = (await raw.next('disconnect')) as mqtt.IDisconnectPacket
  assert.equal(d1.reasonCode, 0x95)
  await raw.closed
  const bad = await rawClient(t, w.port, 5)
  bad.send({ cmd: 'connect', clientId: 'bad', protocolVersion: 5, clean: true, keepalive: 0 })
  await bad.next('connack')
  bad.send({ cmd: 'publish', topic: 'a/+/b', payload: Buffer.from('x'), qos: 0, retain: false, dup: false })
  assert.equal(((await bad.next('disconnect')) as mqtt.IDisconnectPacket).reasonCode, 0x90)
  const flood = await rawClient(t, w.port, 5)
  flood.send({ cmd: 'connect', clientId: 'flood', protocolVersion: 5, clean: true, keepalive: 0 })
  await flood.next('connack')
  for (let id = 1; id <= 3; id++)
    flood.send({
      cmd: 'publish',
      topic: 'f',
      payload: Buffer.from('x'),
      qos: 2,
      messageId: id,
      retain: false,
      dup: false,
    })
  assert.equal(((await flood.next('disconnect')) as mqtt.IDisconnectPacket).reasonCode, 0x93)
  big.end(true)
})

test('v3.1.1: a protocol violation closes the connection; an unknown protocol level gets CONNACK 0x01', async (t) => {
  const w = await startWharf(t)
  const wild = await rawClient(t, w.port, 4)
  wild.send({ cmd: 'connect', clientId: 'w', protocolVersion: 4, clean: true, keepalive: 0 })
  await wild.next('connack')
  wild.send({ cmd: 'publish', topic: 'a/#', payload: Buffer.from('x'), qos: 0, retain: false, dup: false })
  await wild.closed
  const level = await rawClient(t, w.port, 4)
  // CONNECT "MQTT" level 6
  level.sendBytes(Buffer.from([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 6, 0x02, 0, 0, 0, 1, 0x61]))
  assert.equal(((await level.next('connack')) as mqtt.IConnackPacket).returnCode, 1)
  await level.closed
  const reserved = await rawClient(t, w.port, 4)
  reserved.send({ cmd: 'connect', clientId: 'r', protocolVersion: 4, clean: true, keepalive: 0 })
  await reserved.next('connack')
  reserved.sendBytes(Buffer.from([0x82, 6, 0, 1, 0, 1, 0x61, 3])) // SUBSCRIBE with QoS 3
  await reserved.closed
})

test('v5: a retained message too large for the client is skipped without holding an inflight slot', async (t) => {
  const w = await startWharf(t)
  const pub = await connect(t, w, { protocolVersion: 5 })
  await pub.publishAsync('big/r', Buffer.alloc(1000, 1), { qos: 1, retain: true })
  const sub = await connect(t, w, { protocolVersion: 5, properties: { maximumPacketSize: 200, receiveMaximum: 1 } })
  const inbox = collect(sub)
  await sub.subscribeAsync({ 'big/r': { qos: 1 } })
  // With its one inflight slot leaked to the dropped retained copy, this would never be delivered.
  await pub.publishAsync('big/r', 'small', { qos: 1 })
  const [got] = await inbox.next(1)
  assert.equal(got!.payload.toString(), 'small')
})
