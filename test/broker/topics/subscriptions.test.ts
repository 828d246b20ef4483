import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { MessageAttributes } from '../../../src/broker/routing/match/index.ts'
import type { Destination } from '../../../src/broker/routing/router.ts'
import { TopicSubscriptions } from '../../../src/broker/topics/topics.ts'
import { isWharfError } from '../../../src/util/errors.ts'
import { MemoryMetadata } from '../../fixtures/memory-metadata.ts'

const q = (name: string): Destination => ({ kind: 'queue', name })

function matchedQueues(
  subs: TopicSubscriptions,
  topic: string,
  attributes: MessageAttributes | undefined,
  body?: unknown,
): string[] {
  return subs
    .match(topic, attributes, body)
    .map((s) => (s.destination.kind === 'queue' ? s.destination.name : '?'))
    .sort()
}

const str = (value: string) => ({ DataType: 'String', StringValue: value })
const num = (value: number) => ({ DataType: 'Number', StringValue: String(value) })

test('filter policies select subscriptions by attributes and by body', async () => {
  const subs = new TopicSubscriptions()
  await subs.createTopic('orders')
  await subs.subscribe({ topic: 'orders', destination: q('all') })
  await subs.subscribe({ topic: 'orders', destination: q('red'), filterPolicy: { color: ['red'] } })
  await subs.subscribe({
    topic: 'orders',
    destination: q('big'),
    filterPolicy: '{"size":[{"numeric":[">",100]}],"color":[{"anything-but":"blue"}]}',
    raw: true,
  })
  await subs.subscribe({
    topic: 'orders',
    destination: q('body'),
    filterPolicy: { order: { region: ['eu'] } },
    scope: 'MessageBody',
  })
  assert.deepEqual(matchedQueues(subs, 'orders', { color: str('red'), size: num(500) }), ['all', 'big', 'red'])
  assert.deepEqual(matchedQueues(subs, 'orders', { color: str('blue'), size: num(500) }), ['all'])
  assert.deepEqual(matchedQueues(subs, 'orders', { color: str('green'), size: num(5) }), ['all'])
  assert.deepEqual(matchedQueues(subs, 'orders', undefined, '{"order":{"region":"eu"}}'), ['all', 'body'])
  assert.deepEqual(matchedQueues(subs, 'orders', undefined, { order: { region: 'us' } }), ['all'])
  assert.deepEqual(matchedQueues(subs, 'orders', undefined, 'not json'), ['all'], 'non-JSON body fails body policies')
  const big = subs.list('orders').find((s) => s.destination.kind === 'queue' && s.destination.name === 'big')
  assert.equal(big?.raw, true)
  // match reuses out.
  const out = subs.match('orders', { color: str('red') })
  assert.equal(subs.match('orders', { color: str('blue') }, undefined, out), out)
  assert.deepEqual(
    out.map((s) => (s.destination as { name: string }).name),
    ['all'],
  )
  assert.throws(
    () => subs.match('nope', undefined),
    (e: unknown) => isWharfError(e),
  )
})

test('subscribe is idempotent for equal attributes; invalid policies are refused', async () => {
  const subs = new TopicSubscriptions()
  await assert.rejects(subs.subscribe({ topic: 'missing', destination: q('a') }), (e: unknown) => isWharfError(e))
  await subs.createTopic('t', { DisplayName: 'T' })
  await subs.createTopic('t', { DisplayName: 'T' })
  await assert.rejects(subs.createTopic('t', { DisplayName: 'other' }), /different attributes/)
  const first = await subs.subscribe({ topic: 't', destination: q('a'), filterPolicy: { k: ['v'] } })
  const again = await subs.subscribe({ topic: 't', destination: q('a'), filterPolicy: '{"k":["v"]}' })
  assert.equal(again, first)
  await assert.rejects(
    subs.subscribe({ topic: 't', destination: q('a'), filterPolicy: { k: ['w'] } }),
    /different attributes/,
  )
  await assert.rejects(subs.subscribe({ topic: 't', destination: q('b'), filterPolicy: { k: [] } }), (e: unknown) =>
    isWharfError(e, 'INVALID_ARGUMENT'),
  )
  await assert.rejects(
    subs.subscribe({ topic: 't', destination: q('b'), filterPolicy: { a: { b: ['x'] } } }),
    (e: unknown) => isWharfError(e, 'INVALID_ARGUMENT'),
    'nested policies need MessageBody scope',
  )
  assert.equal(subs.list('t').length, 1)
})

test('attribute changes, unsubscribe and persistence across open', async () => {
  const catalog = new MemoryMetadata()
  const subs = await TopicSubscriptions.open(catalog)
  await subs.createTopic('news')
  await subs.createTopic('gone')
  const a = await subs.subscribe({ topic: 'news', destination: q('a'), filterPolicy: { lang: ['en'] } })
  const b = await subs.subscribe({ topic: 'news', destination: q('b'), id: 'fixed-id' })
  await subs.subscribe({ topic: 'gone', destination: q('c') })
  assert.equal(b.id, 'fixed-id')
  assert.deepEqual(matchedQueues(subs, 'news', { lang: str('de') }), ['b'])
  const changed = await subs.setSubscriptionAttributes(a.id, { filterPolicy: { lang: ['de'] }, raw: true })
  assert.equal(changed.raw, true)
  assert.deepEqual(matchedQueues(subs, 'news', { lang: str('de') }), ['a', 'b'])
  await assert.rejects(subs.setSubscriptionAttributes(a.id, { filterPolicy: 'nope' }), (e: unknown) =>
    isWharfError(e, 'INVALID_ARGUMENT'),
  )
  assert.equal(subs.get(a.id), changed, 'a refused change keeps the old subscription')
  await subs.deleteTopic('gone')
  assert.equal(subs.hasTopic('gone'), false)

  const reopened = await TopicSubscriptions.open(catalog)
  assert.deepEqual(reopened.listTopics(), ['news'])
  assert.equal(reopened.list().length, 2)
  assert.equal(reopened.get(a.id)?.raw, true)
  assert.equal(reopened.get(a.id)?.filterPolicyJson, '{"lang":["de"]}')
  assert.deepEqual(matchedQueues(reopened, 'news', { lang: str('de') }), ['a', 'b'])
  assert.deepEqual(matchedQueues(reopened, 'news', { lang: str('en') }), ['b'])
  await reopened.setSubscriptionAttributes(a.id, { filterPolicy: null })
  assert.equal(await reopened.unsubscribe('fixed-id'), true)
  assert.equal(await reopened.unsubscribe('fixed-id'), false)
  const third = await TopicSubscriptions.open(catalog)
  assert.deepEqual(matchedQueues(third, 'news', { lang: str('en') }), ['a'])
  await third.unsubscribeDestination(q('a'))
  assert.equal(third.list('news').length, 0)
  assert.equal(catalog.count('sns-subscription'), 0)
})
