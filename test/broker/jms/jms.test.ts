// The protocol-free JMS destination layer (src/broker/jms): durable and shared subscriptions (create, keep
// collecting while nobody consumes, recreate on a changed topic or selector, unsubscribe, survive a
// restart), client ids, temporary destinations, virtual topics, noLocal stamps, and single-active consumers.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  publishedBy,
  publisherHeader,
  stampPublisher,
  TOPIC_EXCHANGE,
  virtualTopicOf,
} from '../../../src/broker/jms/jms.ts'
import { createBroker } from '../../../src/index.ts'
import { openBroker, tempDir, text } from '../helpers.ts'

const request = {
  clientId: 'app',
  name: 'sub',
  shared: false,
  exchange: TOPIC_EXCHANGE,
  key: 'news.sport',
  selector: null,
  noLocal: false,
  owner: 'conn-1',
}

async function publish(broker: Awaited<ReturnType<typeof openBroker>>, key: string, body: string): Promise<number> {
  return (await broker.publish(TOPIC_EXCHANGE, key, { value: body })).routed
}

test('durable subscription: a durable queue clientId.name bound to the topic, collecting while detached', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.jms.durable.subscribe(request)
  assert.equal(queue, 'app.sub')
  assert.equal(broker.queue(queue).config.durable, true)
  broker.jms.durable.detach(queue, 'conn-1')
  assert.equal(await publish(broker, 'news.sport', 'one'), 1)
  assert.equal(await publish(broker, 'news.weather', 'other'), 0)
  const got = await broker.get(queue, { owner: 'x', max: 10 })
  assert.deepEqual(got.map(text), ['one'])
})

test('durable subscription: one active subscriber; the same topic again keeps its messages; a changed topic or selector recreates it', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.jms.durable.subscribe(request)
  await assert.rejects(broker.jms.durable.subscribe({ ...request, owner: 'conn-2' }), { code: 'RESOURCE_LOCKED' })
  broker.jms.durable.detach(queue, 'conn-1')
  await publish(broker, 'news.sport', 'kept')
  await broker.jms.durable.subscribe(request)
  assert.equal(broker.queue(queue).depth(), 1, 'resubscribing with the same topic keeps the messages')
  broker.jms.durable.detach(queue, 'conn-1')
  await broker.jms.durable.subscribe({ ...request, key: 'news.weather' })
  assert.equal(broker.queue(queue).depth(), 0, 'a changed topic drops the old subscription')
  assert.equal(await publish(broker, 'news.sport', 'old topic'), 0)
  assert.equal(await publish(broker, 'news.weather', 'new topic'), 1)
  broker.jms.durable.detach(queue, 'conn-1')
  await broker.jms.durable.subscribe({ ...request, key: 'news.weather', selector: "colour = 'red'" })
  assert.equal(broker.queue(queue).depth(), 0, 'a changed selector recreates it too')
  const bindings = broker.router.listBindings({ destination: { kind: 'queue', name: queue } })
  assert.deepEqual(
    bindings.map((b) => [b.source, b.key, b.arguments]),
    [[TOPIC_EXCHANGE, 'news.weather', { 'x-selector': "colour = 'red'" }]],
    'the selector is the binding argument x-selector',
  )
  assert.equal(broker.jms.durable.get('app', 'sub')?.selector, "colour = 'red'")
})

test('durable subscription: unsubscribe deletes it, refused while active or unknown', async (t) => {
  const broker = await openBroker(t)
  const queue = await broker.jms.durable.subscribe(request)
  await assert.rejects(broker.jms.durable.unsubscribe('app', 'sub'), { code: 'RESOURCE_LOCKED' })
  broker.jms.releaseOwner('conn-1')
  await broker.jms.durable.unsubscribe('app', 'sub')
  assert.equal(broker.getQueue(queue), undefined)
  assert.equal(broker.jms.durable.get('app', 'sub'), undefined)
  await assert.rejects(broker.jms.durable.unsubscribe('app', 'sub'), { code: 'SUBSCRIPTION_NOT_FOUND' })
  await assert.rejects(broker.jms.durable.subscribe({ ...request, clientId: null }), { code: 'INVALID_ARGUMENT' })
})

test('durable subscription: a queue of that name that is not a subscription is not taken over', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('app.sub')
  await assert.rejects(broker.jms.durable.subscribe(request), { code: 'RESOURCE_LOCKED' })
})

test('durable subscription: registry, queue, binding and messages survive a restart', async (t) => {
  const dir = tempDir(t)
  let broker = await createBroker({ dataDir: dir })
  const queue = await broker.jms.durable.subscribe({ ...request, selector: 'a > 1' })
  broker.jms.durable.detach(queue, 'conn-1')
  await publish(broker, 'news.sport', 'before')
  await broker.close()
  broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  assert.equal(broker.jms.durable.get('app', 'sub')?.selector, 'a > 1')
  assert.equal(await publish(broker, 'news.sport', 'after'), 1)
  assert.equal(await broker.jms.durable.subscribe({ ...request, selector: 'a > 1' }), queue)
  const got = await broker.get(queue, { owner: 'x', max: 10 })
  assert.deepEqual(got.map(text), ['before', 'after'])
})

test('shared subscription: several consumers of one queue; no client id needed; refused to change while in use', async (t) => {
  const broker = await openBroker(t)
  const shared = { ...request, clientId: null, name: 'workers', shared: true }
  const q1 = await broker.jms.durable.subscribe({ ...shared, owner: 'a' })
  const q2 = await broker.jms.durable.subscribe({ ...shared, owner: 'b' })
  assert.equal(q1, 'workers')
  assert.equal(q2, q1)
  assert.equal(broker.jms.durable.activeCount(q1), 2)
  await assert.rejects(broker.jms.durable.subscribe({ ...shared, owner: 'c', key: 'x' }), { code: 'RESOURCE_LOCKED' })
  await assert.rejects(broker.jms.durable.subscribe({ ...request, name: 'workers', clientId: null }), {
    code: 'INVALID_ARGUMENT',
  })
  broker.jms.releaseOwner('a')
  broker.jms.durable.detach(q1, 'b')
  assert.equal(broker.jms.durable.activeCount(q1), 0)
})

test('client ids: one connection at a time, free again when released', async (t) => {
  const broker = await openBroker(t)
  broker.jms.clientIds.claim('app', 'conn-1')
  broker.jms.clientIds.claim('app', 'conn-1')
  assert.throws(() => broker.jms.clientIds.claim('app', 'conn-2'), { code: 'RESOURCE_LOCKED' })
  await broker.releaseOwner('conn-1')
  broker.jms.clientIds.claim('app', 'conn-2')
  assert.equal(broker.jms.clientIds.holder('app'), 'conn-2')
})

test('temporary queue: owned by its connection, sendable by anyone, gone with the owner', async (t) => {
  const broker = await openBroker(t)
  const tq = await broker.jms.temporary.create('queue', 'conn-1', 'replies')
  assert.equal(tq.name, 'temp-queue.conn-1.replies')
  assert.equal(broker.queue(tq.name).config.exclusiveOwner, 'conn-1')
  assert.equal((await broker.jms.temporary.create('queue', 'conn-1', 'replies')).name, tq.name, 'created once')
  assert.equal(broker.jms.temporary.sendable(tq.name).owner, 'conn-1')
  assert.throws(() => broker.jms.temporary.consumable(tq.name, 'conn-2'), { code: 'ACCESS_REFUSED' })
  const tt = await broker.jms.temporary.create('topic', 'conn-1', 'events')
  assert.equal(tt.name, 'temp-topic.conn-1.events')
  await broker.releaseOwner('conn-1')
  assert.equal(broker.getQueue(tq.name), undefined)
  assert.throws(() => broker.jms.temporary.sendable(tq.name), { code: 'SUBSCRIPTION_NOT_FOUND' })
  assert.throws(() => broker.jms.temporary.sendable(tt.name), { code: 'SUBSCRIPTION_NOT_FOUND' })
})

test('virtual topics: Consumer.<name>.VirtualTopic.X queues are bound to VirtualTopic.X on first use', async (t) => {
  assert.equal(virtualTopicOf('Consumer.A.VirtualTopic.Orders'), 'VirtualTopic.Orders')
  assert.equal(virtualTopicOf('Consumer.A.B.VirtualTopic.Orders'), undefined, 'the consumer name is one word')
  assert.equal(virtualTopicOf('Consumer..VirtualTopic.Orders'), undefined)
  assert.equal(virtualTopicOf('Consumer.A.VirtualTopic.'), undefined)
  assert.equal(virtualTopicOf('orders'), undefined)
  assert.equal(virtualTopicOf('In.A.VT.x', { consumer: 'In.', topic: 'VT.' }), 'VT.x')
  const broker = await openBroker(t)
  for (const name of ['Consumer.A.VirtualTopic.Orders', 'Consumer.B.VirtualTopic.Orders']) {
    await broker.createQueue(name)
    await broker.jms.virtualTopics.used(name)
    await broker.jms.virtualTopics.used(name)
  }
  await broker.createQueue('plain')
  await broker.jms.virtualTopics.used('plain')
  assert.equal(await publish(broker, 'VirtualTopic.Orders', 'o-1'), 2)
  assert.equal(broker.queue('Consumer.A.VirtualTopic.Orders').depth(), 1)
  assert.equal(broker.queue('Consumer.B.VirtualTopic.Orders').depth(), 1)
  assert.equal(broker.router.listBindings({ destination: { kind: 'queue', name: 'plain' } }).length, 0)
})

test('noLocal: the publisher stamp replaces a forged one and is recognised', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const mine = publisherHeader('conn-1')
  const forged = { value: 'x', headers: [{ key: 'wharf.publisher', value: Buffer.from('conn-2') }] }
  await broker.publish('', 'q', stampPublisher(forged, mine))
  await broker.publish('', 'q', { value: 'y' })
  const [a, b] = await broker.get('q', { owner: 'x', max: 2 })
  assert.equal(publishedBy(a!.message, mine), true)
  assert.equal(publishedBy(a!.message, publisherHeader('conn-2')), false)
  assert.equal(publishedBy(b!.message, mine), false)
})

test('single-active consumer: it gets every message while it lives, others stand by', async (t) => {
  const broker = await openBroker(t)
  await broker.createQueue('q')
  const got: Record<string, string[]> = { plain: [], first: [], second: [] }
  const consumer = (tag: string, singleActive: boolean) =>
    broker.consume('q', {
      owner: tag,
      tag,
      singleActive,
      onDeliver: (ds) => {
        for (const d of ds) {
          got[tag]!.push(text(d))
          broker.deliveries.settle(d)
        }
      },
    })
  consumer('plain', false)
  const first = consumer('first', true)
  consumer('second', true)
  for (let i = 0; i < 6; i++) await broker.sendToQueue('q', [{ value: `m${i}` }])
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(got.first!.length, 6)
  assert.deepEqual([got.plain!.length, got.second!.length], [0, 0])
  broker.queue('q').cancel(first)
  await broker.sendToQueue('q', [{ value: 'after' }])
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.deepEqual(got.second, ['after'], 'the next single-active consumer takes over')
})

test('virtual topics: the prefixes are configurable (createBroker jms.virtualTopics)', async (t) => {
  const broker = await createBroker({ dataDir: tempDir(t), jms: { virtualTopics: { consumer: 'In.', topic: 'VT.' } } })
  t.after(() => broker.close())
  await broker.createQueue('In.app.VT.events')
  await broker.createQueue('Consumer.A.VirtualTopic.events')
  await broker.jms.virtualTopics.used('In.app.VT.events')
  await broker.jms.virtualTopics.used('Consumer.A.VirtualTopic.events')
  assert.equal(await publish(broker, 'VT.events', 'e'), 1)
  assert.equal(await publish(broker, 'VirtualTopic.events', 'e'), 0, 'the default prefixes no longer apply')
})

test('temporary destinations: at most temporariesPerOwnerMax per owner', async (t) => {
  const broker = await createBroker({ dataDir: tempDir(t), jms: { temporariesPerOwnerMax: 2 } })
  t.after(() => broker.close())
  await broker.jms.temporary.create('queue', 'c', 'a')
  await broker.jms.temporary.create('topic', 'c', 'b')
  await assert.rejects(broker.jms.temporary.create('queue', 'c', 'c'), { code: 'LIMIT_EXCEEDED' })
  await broker.jms.temporary.create('queue', 'other', 'a')
})
