// Byte bounds on what MQTT keeps in memory for clients: the waiting list of a clean-session QoS 1 subscriber
// that never acknowledges, and the retained messages (total and per message).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IPublishPacket } from 'mqtt-packet'
import { connect, rawSubscriber, startWharf } from './helpers.ts'

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
