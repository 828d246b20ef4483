// Binding selectors (`x-selector`) evaluated at routing time: a message the selector does not select never
// enters the bound queue, on every exchange type; the selector is part of the binding's identity, is
// persisted with a durable binding and still filters after a restart; a bad one is refused before anything
// is stored; `x-selector-convert-strings` compares string headers as numbers.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PublishMessage } from '../../../src/broker/message.ts'
import { property, propertyHeaders } from '../../../src/broker/properties/properties.ts'
import { createBroker, isWharfError } from '../../../src/index.ts'
import { openBroker, tempDir } from '../helpers.ts'

const typed = (n: number): PublishMessage => ({ value: `n${n}`, headers: propertyHeaders([['n', property('int', n)]]) })
const stringy = (n: number): PublishMessage => ({
  value: `s${n}`,
  headers: [{ key: 'n', value: Buffer.from(String(n)) }],
})

test('a topic binding with a selector only lets selected messages into its queue', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('all')
  await broker.createQueue('big')
  await broker.bind({
    source: 'amq.topic',
    destination: { kind: 'queue', name: 'all' },
    key: 'orders.#',
    arguments: {},
  })
  await broker.bind({
    source: 'amq.topic',
    destination: { kind: 'queue', name: 'big' },
    key: 'orders.#',
    arguments: { 'x-selector': 'n > 5' },
  })
  for (let n = 0; n < 10; n++) await broker.publish('amq.topic', 'orders.eu', typed(n))
  await broker.publish('amq.topic', 'other.key', typed(100)) // key does not match: selector alone is not enough
  assert.equal(broker.queueStats('all').depth, 10)
  assert.equal(broker.queueStats('big').depth, 4, 'only n = 6..9 entered')
  assert.equal(broker.queueStats('big').publishedTotal, 4)
  const got = await broker.get('big', { owner: 'x', max: 10, noAck: true })
  assert.deepEqual(
    got.map((d) => d.message.value?.toString()),
    ['n6', 'n7', 'n8', 'n9'],
  )
})

test('selectors on direct, fanout and headers bindings; a publish nothing selects is unroutable', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('d')
  await broker.createQueue('f')
  await broker.createQueue('h')
  const dest = (name: string) => ({ kind: 'queue' as const, name })
  await broker.bind({ source: 'amq.direct', destination: dest('d'), key: 'k', arguments: { 'x-selector': 'n = 1' } })
  await broker.bind({ source: 'amq.fanout', destination: dest('f'), key: '', arguments: { 'x-selector': 'n <> 1' } })
  await broker.bind({
    source: 'amq.headers',
    destination: dest('h'),
    key: '',
    arguments: { 'x-match': 'all', region: 'eu', 'x-selector': 'n >= 1' },
  })
  assert.equal((await broker.publish('amq.direct', 'k', typed(1))).routed, 1)
  assert.equal((await broker.publish('amq.direct', 'k', typed(2))).routed, 0)
  assert.equal((await broker.publish('amq.direct', 'other', typed(1))).routed, 0)
  assert.equal((await broker.publish('amq.fanout', '', typed(1))).routed, 0)
  assert.equal((await broker.publish('amq.fanout', '', typed(2))).routed, 1)
  const eu = { routingHeaders: { region: 'eu' } }
  assert.equal((await broker.publish('amq.headers', '', typed(0), eu)).routed, 0)
  assert.equal((await broker.publish('amq.headers', '', typed(3), eu)).routed, 1)
  assert.equal((await broker.publish('amq.headers', '', typed(3), { routingHeaders: { region: 'us' } })).routed, 0)
  assert.deepEqual(
    ['d', 'f', 'h'].map((q) => broker.queueStats(q).depth),
    [1, 1, 1],
  )
})

test('the selector is part of the binding; x-selector-convert-strings compares string headers as numbers', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const bind = (args: Record<string, unknown>) =>
    broker.bind({ source: 'amq.topic', destination: { kind: 'queue', name: 'q' }, key: 'a', arguments: args })
  await bind({ 'x-selector': 'n > 5', 'x-selector-convert-strings': true })
  await bind({ 'x-selector': 'n > 5', 'x-selector-convert-strings': true }) // same binding: no-op
  assert.equal(broker.router.listBindings({ destination: { kind: 'queue', name: 'q' } }).length, 1)
  await broker.publish('amq.topic', 'a', stringy(7))
  await broker.publish('amq.topic', 'a', stringy(3))
  assert.equal(broker.queueStats('q').depth, 1)
  await bind({ 'x-selector': 'n < 2', 'x-selector-convert-strings': true }) // another selector: another binding
  assert.equal(broker.router.listBindings({ destination: { kind: 'queue', name: 'q' } }).length, 2)
  await broker.publish('amq.topic', 'a', stringy(1))
  await broker.publish('amq.topic', 'a', stringy(3))
  assert.equal(broker.queueStats('q').depth, 2)
  await broker.unbind({
    source: 'amq.topic',
    destination: { kind: 'queue', name: 'q' },
    key: 'a',
    arguments: { 'x-selector': 'n < 2', 'x-selector-convert-strings': true },
  })
  await broker.publish('amq.topic', 'a', stringy(1))
  assert.equal(broker.queueStats('q').depth, 2, 'the unbound selector no longer routes')
})

test('an invalid selector is refused and not stored', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  await assert.rejects(
    broker.bind({
      source: 'amq.topic',
      destination: { kind: 'queue', name: 'q' },
      key: 'a',
      arguments: { 'x-selector': 'n >' },
    }),
    (error: unknown) => isWharfError(error) && error.code === 'INVALID_ARGUMENT' && /selector/.test(error.message),
  )
  await assert.rejects(
    broker.bind({
      source: 'amq.topic',
      destination: { kind: 'queue', name: 'q' },
      key: 'a',
      arguments: { 'x-selector': 5 },
    }),
    /must be a string/,
  )
  assert.equal(broker.router.listBindings({ destination: { kind: 'queue', name: 'q' } }).length, 0)
})

test('a durable binding keeps its selector across a restart', async (t) => {
  const dir = tempDir(t)
  const first = await createBroker({ dataDir: dir })
  await first.createQueue('q', { durable: true })
  await first.bind({
    source: 'amq.topic',
    destination: { kind: 'queue', name: 'q' },
    key: '#',
    arguments: { 'x-selector': "n IN ('7', '8')" },
  })
  await first.close()
  const broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  await broker.publish('amq.topic', 'x', stringy(7))
  await broker.publish('amq.topic', 'x', stringy(9))
  assert.equal(broker.queueStats('q').depth, 1)
})
