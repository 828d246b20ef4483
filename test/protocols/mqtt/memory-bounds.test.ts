// Byte bounds on what MQTT keeps in memory for clients: the waiting list of a clean-session QoS 1 subscriber
// that never acknowledges, and the retained messages (total and per message).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IPublishPacket } from 'mqtt-packet'
import { collect, connect, rawSubscriber, sleep, startWharf } from './helpers.ts'

const long = process.env.WHARF_LONG === '1'

test('a clean-session subscriber that never acknowledges holds at most maxQueuedBytesPerSession; newer messages are dropped', {
  timeout: 60_000,
}, async (t) => {
  const cap = 256 * 1024
  const w = await startWharf(t, { maxInflight: 4, maxQueuedBytesPerSession: cap })
  // Acknowledges nothing (a raw socket that reads but never sends PUBACK).
  const stuck = await rawSubscriber(t, w.port, { protocolVersion: 4, clientId: 'stuck', topic: 'big/t', qos: 1 })
  const pub = await connect(t, w, { protocolVersion: 4 })
  const payload = Buffer.alloc(8 * 1024, 0x61)
  const total = long ? 100_000 : 1_000
  const before = w.listener.hub.stats.dropped
  // Pipelined in bursts of 64 (under the broker's receive window), each waited for.
  for (let i = 0; i < total; i += 64) {
    const burst: Array<Promise<unknown>> = []
    for (let j = i; j < Math.min(total, i + 64); j++) {
      const body = Buffer.from(payload)
      body.write(String(j).padStart(6, '0'))
      burst.push(pub.publishAsync('big/t', body, { qos: 1 }))
    }
    await Promise.all(burst)
  }
  await pub.publishAsync('big/t', 'last', { qos: 1 })
  const state = [...w.listener.hub.connections].find((c) => c.describe().clientId === 'stuck')!.describe()
  assert.equal(state.inflight, 4)
  assert.ok(state.waitingBytes <= cap, `waiting ${state.waitingBytes} bytes over the cap ${cap}`)
  // Count the messages held too (does not rely on the byte count being right).
  assert.ok(state.waiting * payload.length <= cap, `${state.waiting} messages of 8 KiB wait`)
  assert.equal(state.waiting, Math.floor(cap / payload.length))
  assert.equal(w.listener.hub.stats.dropped - before, total + 1 - 4 - state.waiting)
  // What waits is the oldest: acknowledging releases messages 0.. in order (the newest were dropped).
  const got: number[] = []
  while (got.length < 8) {
    const packet = (await stuck.next('publish')) as IPublishPacket
    got.push(Number(String(packet.payload).slice(0, 6)))
    stuck.send({ cmd: 'puback', messageId: packet.messageId! })
  }
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7])
})

test('retained messages are bounded in total bytes and per message; beyond, they are delivered but not retained', {
  timeout: 30_000,
}, async (t) => {
  const total = 300 * 1024
  const w = await startWharf(t, { maxRetainedBytes: total, maxRetainedMessageBytes: 100 * 1024 })
  const live = await connect(t, w, { protocolVersion: 5 })
  const inbox = collect(live)
  await live.subscribeAsync('r/#', { qos: 1 })
  const pub = await connect(t, w, { protocolVersion: 5 })

  // One message over the per-message bound: delivered, not retained.
  await pub.publishAsync('r/big', Buffer.alloc(200 * 1024, 1), { qos: 1, retain: true })
  // Ten of 64 KiB: retained until the total is reached, then delivered only.
  for (let i = 0; i < 10; i++) await pub.publishAsync(`r/${i}`, Buffer.alloc(64 * 1024, 2), { qos: 1, retain: true })
  await inbox.next(11)
  const retained = () => w.listener.retainedMessages().map((m) => m.topic)
  assert.deepEqual(retained(), ['r/0', 'r/1', 'r/2', 'r/3'])
  assert.ok(w.listener.hub.retained.bytes <= total, `${w.listener.hub.retained.bytes} retained bytes`)
  assert.equal(w.listener.hub.retained.refused, 7)

  // Clearing one makes room for another; replacing one with a smaller message fits too.
  await pub.publishAsync('r/1', Buffer.alloc(0), { qos: 1, retain: true })
  await pub.publishAsync('r/9', Buffer.alloc(64 * 1024, 3), { qos: 1, retain: true })
  await pub.publishAsync('r/0', 'small', { qos: 1, retain: true })
  assert.deepEqual(retained(), ['r/0', 'r/2', 'r/3', 'r/9'])

  // A new subscriber gets exactly what was retained.
  const late = await connect(t, w, { protocolVersion: 5 })
  const lateInbox = collect(late)
  await late.subscribeAsync('r/#', { qos: 1 })
  const got = await lateInbox.next(4)
  assert.deepEqual(got.map((m) => m.topic).sort(), ['r/0', 'r/2', 'r/3', 'r/9'])
  assert.equal(got.find((m) => m.topic === 'r/0')!.payload.toString(), 'small')
  await sleep(200)
  assert.equal(lateInbox.messages.length, 4)

  // The bounds hold across a restart: the index is rebuilt from what was retained.
  await w.stop()
  const again = await startWharf(t, { maxRetainedBytes: total, maxRetainedMessageBytes: 100 * 1024 }, w.dir)
  assert.deepEqual(
    again.listener.retainedMessages().map((m) => m.topic),
    ['r/0', 'r/2', 'r/3', 'r/9'],
  )
  await again.stop() // before the first start's cleanup removes the shared data dir
})

test('a clean-session subscriber that does not read gets at most maxInflightBytes of QoS 1 in flight', {
  timeout: 30_000,
}, async (t) => {
  const inflightCap = 256 * 1024
  const w = await startWharf(t, { maxInflightBytes: inflightCap, maxQueuedBytesPerSession: 512 * 1024 })
  const stuck = await rawSubscriber(t, w.port, { protocolVersion: 4, clientId: 'unread', topic: 'wide/t', qos: 1 })
  stuck.socket.pause() // reads nothing: every PUBLISH sent stays in the broker's socket buffers
  const pub = await connect(t, w, { protocolVersion: 4 })
  const payload = Buffer.alloc(64 * 1024, 0x62)
  for (let i = 0; i < 100; i++) await pub.publishAsync('wide/t', payload, { qos: 1 })
  const state = [...w.listener.hub.connections].find((c) => c.describe().clientId === 'unread')!.describe()
  // Receive Maximum (128) alone would have let 100 messages of 64 KiB into the socket buffers.
  assert.equal(state.inflight, inflightCap / payload.length)
  assert.ok(state.inflightBytes <= inflightCap, `${state.inflightBytes} bytes in flight`)
  assert.equal(state.waiting, 8)
  // Reading and acknowledging lets the rest through, in order.
  stuck.socket.resume()
  let got = 0
  while (got < 12) {
    const packet = (await stuck.next('publish')) as IPublishPacket
    stuck.send({ cmd: 'puback', messageId: packet.messageId! })
    got++
  }
  const after = [...w.listener.hub.connections].find((c) => c.describe().clientId === 'unread')!.describe()
  assert.equal(after.waiting, 0)
})

test('hundreds of 1 MB retained messages (the reported 286 MB) stay within maxRetainedBytes', {
  timeout: 120_000,
}, async (t) => {
  // Long mode: the reported load against the default bound; short mode: the same shape, scaled down.
  const cap = long ? 64 * 1024 * 1024 : 4 * 1024 * 1024
  const count = long ? 300 : 20
  const w = await startWharf(t, long ? {} : { maxRetainedBytes: cap })
  const pub = await connect(t, w, { protocolVersion: 4 })
  const payload = Buffer.alloc(1000 * 1024, 0x63)
  for (let i = 0; i < count; i++) await pub.publishAsync(`big/${i}`, payload, { qos: 1, retain: true })
  const retained = w.listener.retainedMessages()
  assert.ok(w.listener.hub.retained.bytes <= cap, `${w.listener.hub.retained.bytes} retained bytes`)
  assert.ok(retained.length * payload.length <= cap, `${retained.length} retained messages of 1000 KiB`)
  assert.equal(retained.length + w.listener.hub.retained.refused, count)
})
