// broker.publish with extraRoutingKeys (AMQP CC/BCC): one message routed by several keys through one exchange,
// every destination reached once, stamped with the first key.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openBroker, text } from './helpers.ts'

test('extraRoutingKeys: union of destinations, each once, stamped with the first key; unroutable only when no key routes', async (t) => {
  const broker = await openBroker(t)
  await broker.declareExchange({ name: 'x', type: 'direct' })
  for (const q of ['a', 'b', 'ab']) await broker.createQueue(q)
  await broker.createStream('s')
  const bind = (name: string, key: string, kind: 'queue' | 'stream' = 'queue') =>
    broker.bind({ source: 'x', destination: { kind, name }, key, arguments: {} })
  await bind('a', 'ka')
  await bind('b', 'kb')
  await bind('ab', 'ka')
  await bind('ab', 'kb')
  await bind('s', 'kb', 'stream')
  const r = await broker.publish('x', 'ka', { value: 'm1' }, { extraRoutingKeys: ['kb', 'kb', 'none'] })
  assert.equal(r.routed, 4, 'a, ab, b, s — ab matched by both keys counts once')
  for (const q of ['a', 'b', 'ab']) {
    const got = await broker.get(q, { owner: 'o', max: 10 })
    assert.deepEqual(got.map(text), ['m1'], `queue ${q} has exactly one copy`)
    const key = got[0]!.message.headers.find((h) => h.key === 'wharf.routing-key')!.value!.toString()
    assert.equal(key, 'ka', 'stamped with the publish routing key, not the CC key')
  }
  assert.equal((await broker.readMessages('s', 0, 0)).messages.length, 1)

  const primaryMiss = await broker.publish('x', 'none', { value: 'm2' }, { extraRoutingKeys: ['kb'] })
  assert.equal(primaryMiss.routed, 3, 'b, ab and s through the extra key alone')
  assert.equal((await broker.publish('x', 'none', { value: 'm3' }, { extraRoutingKeys: ['nope'] })).routed, 0)
  assert.equal((await broker.publish('x', 'ka', { value: 'm4' }, { extraRoutingKeys: [] })).routed, 2)

  // The default exchange routes each key to the queue it names.
  const viaDefault = await broker.publish('', 'a', { value: 'd1' }, { extraRoutingKeys: ['b', 'missing', 'a'] })
  assert.equal(viaDefault.routed, 2)
  assert.deepEqual((await broker.get('a', { owner: 'o', max: 10 })).map(text), ['m4', 'd1'])
  assert.deepEqual((await broker.get('b', { owner: 'o', max: 10 })).map(text), ['m2', 'd1'])
})
