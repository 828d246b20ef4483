// CONNECT, PUBLISH QoS 0/1/2 both ways, SUBSCRIBE/UNSUBSCRIBE, PINGREQ with mqtt.js (3.1.1 and 5.0).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { collect, connect, startWharf } from './helpers.ts'

for (const protocolVersion of [4, 5] as const) {
  test(`mqtt.js v${protocolVersion}: publish QoS 0/1/2 to a subscriber with the granted QoS`, async (t) => {
    const w = await startWharf(t)
    const sub = await connect(t, w, { protocolVersion, clientId: `sub-${protocolVersion}` })
    const inbox = collect(sub)
    const granted = await sub.subscribeAsync({ 'a/+/c': { qos: 2 } })
    assert.equal(granted[0]?.qos, 2)
    const pub = await connect(t, w, { protocolVersion })
    await pub.publishAsync('a/b/c', 'zero', { qos: 0 })
    await pub.publishAsync('a/b/c', 'one', { qos: 1 })
    await pub.publishAsync('a/b/c', 'two', { qos: 2 })
    const got = await inbox.next(3)
    assert.deepEqual(
      got.map((m) => m.payload.toString()),
      ['zero', 'one', 'two'],
    )
    assert.deepEqual(
      got.map((m) => m.packet.qos),
      [0, 1, 2],
    )
    await sub.unsubscribeAsync('a/+/c')
    await pub.publishAsync('a/b/c', 'after', { qos: 1 })
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(inbox.messages.length, 3, 'nothing after unsubscribe')
  })
}
