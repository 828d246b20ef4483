// Router and group coordinator as wired into the broker: exchanges → queues/streams/sinks, DLX through an
// exchange, MQTT filter sinks on amq.topic (cross-protocol shape), consumer-group offsets in the cursor store.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { StoredMessage } from '../../../src/broker/message.ts'
import { createBroker, isWharfError } from '../../../src/index.ts'
import { openBroker, tempDir, text } from '../helpers.ts'

test('topic exchange routes to bound queues and streams; unroutable publishes report 0', async (t) => {
  const broker = await openBroker(t)
  await broker.declareExchange({ name: 'logs', type: 'topic', durable: true })
  await broker.createQueue('errors')
  await broker.createQueue('all')
  await broker.createStream('archive')
  await broker.bind({ source: 'logs', destination: { kind: 'queue', name: 'errors' }, key: '*.error', arguments: {} })
  await broker.bind({ source: 'logs', destination: { kind: 'queue', name: 'all' }, key: '#', arguments: {} })
  await broker.bind({ source: 'logs', destination: { kind: 'stream', name: 'archive' }, key: 'db.*', arguments: {} })
  const r1 = await broker.publish('logs', 'db.error', { value: 'boom' })
  assert.equal(r1.routed, 3)
  const r2 = await broker.publish('logs', 'web.info', { value: 'hi' })
  assert.equal(r2.routed, 1)
  assert.deepEqual((await broker.get('errors', { owner: 'x', max: 10 })).map(text), ['boom'])
  const all = await broker.get('all', { owner: 'x', max: 10 })
  assert.deepEqual(all.map(text), ['boom', 'hi'])
  const stamped = all[0]!.message.headers
  assert.equal(stamped.find((h) => h.key === 'wharf.routing-key')!.value!.toString(), 'db.error')
  assert.equal(stamped.find((h) => h.key === 'wharf.exchange')!.value!.toString(), 'logs')
  assert.equal((await broker.readMessages('archive', 0, 0)).messages.length, 1)
  assert.equal((await broker.publish('logs', 'nothing', { value: 'x' })).routed, 1, '# catches everything')
  await broker.declareExchange({ name: 'empty', type: 'direct' })
  assert.equal((await broker.publish('empty', 'k', { value: 'x' })).routed, 0)
  await assert.rejects(broker.publish('missing', 'k', { value: 'x' }), (e) => isWharfError(e, 'EXCHANGE_NOT_FOUND'))
  assert.equal(
    (await broker.publish('', 'errors', { value: 'direct' })).routed,
    1,
    'default exchange routes by queue name',
  )
})

test('dead letters go through the dead-letter exchange with the original routing key', async (t) => {
  const broker = await openBroker(t)
  await broker.declareExchange({ name: 'dlx', type: 'direct' })
  await broker.createQueue('dead')
  await broker.bind({ source: 'dlx', destination: { kind: 'queue', name: 'dead' }, key: 'task', arguments: {} })
  const work = await broker.createQueue('work', { deadLetter: { exchange: 'dlx' } })
  await broker.declareExchange({ name: 'in', type: 'direct' })
  await broker.bind({ source: 'in', destination: { kind: 'queue', name: 'work' }, key: 'task', arguments: {} })
  await broker.publish('in', 'task', { value: 'fail me' })
  const [d] = await broker.get('work', { owner: 'x' })
  work.nack(d!.partition, d!.offset, false)
  const [dead] = await broker.get('dead', { owner: 'x', waitMs: 2000 })
  assert.equal(text(dead!), 'fail me')
  const deaths = JSON.parse(dead!.message.headers.find((h) => h.key === 'wharf.deaths')!.value!.toString())
  assert.deepEqual(
    [deaths[0].queue, deaths[0].reason, deaths[0].exchange, deaths[0].routingKeys],
    ['work', 'rejected', 'in', ['task']],
  )
})

test('MQTT-filter sinks on amq.topic receive AMQP-style routing keys (a.b.c ↔ a/b/c), $ rule kept', async (t) => {
  const broker = await openBroker(t)
  const got: string[] = []
  broker.registerSink('mqtt-session-1', (m: StoredMessage, key) => got.push(`${key}=${m.value}`))
  await broker.bind({
    source: 'amq.topic',
    destination: { kind: 'sink', id: 'mqtt-session-1' },
    key: 'sensors/+/temp',
    arguments: {},
    syntax: 'mqtt',
  })
  await broker.bind({
    source: 'amq.topic',
    destination: { kind: 'sink', id: 'mqtt-session-1' },
    key: '#',
    arguments: {},
    syntax: 'mqtt',
  })
  await broker.publish('amq.topic', 'sensors.kitchen.temp', { value: '21' })
  await broker.publish('amq.topic', '$SYS.uptime', { value: '5' })
  assert.deepEqual(got, ['sensors.kitchen.temp=21'], 'one copy per sink; $SYS not matched by #')
  await broker.removeSink('mqtt-session-1')
  assert.equal((await broker.publish('amq.topic', 'sensors.x.temp', { value: '1' })).routed, 0)
})

test('durable exchanges and bindings survive a restart; bindings to transient queues do not', async (t) => {
  const dir = tempDir(t)
  let broker = await createBroker({ dataDir: dir })
  await broker.declareExchange({ name: 'fan', type: 'fanout', durable: true })
  await broker.createQueue('keep')
  await broker.createQueue('temp', { durable: false })
  await broker.bind({ source: 'fan', destination: { kind: 'queue', name: 'keep' }, key: '', arguments: {} })
  await broker.bind({ source: 'fan', destination: { kind: 'queue', name: 'temp' }, key: '', arguments: {} })
  await broker.close()
  broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  assert.equal(broker.router.getExchange('fan')?.type, 'fanout')
  assert.equal((await broker.publish('fan', '', { value: 'x' })).routed, 1)
  assert.equal(broker.router.listBindings({ source: 'fan' }).length, 1)
})

test('consumer groups: coordinator join/sync and committed offsets in the cursor store', async (t) => {
  const dir = tempDir(t)
  let broker = await createBroker({ dataDir: dir })
  await broker.createStream('topic', { partitions: 2 })
  const join = await broker.groups.join({
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    clientId: 'c',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: false,
  })
  assert.equal(join.error, 'NONE')
  const sync = await broker.groups.sync({
    groupId: 'g',
    generationId: join.generationId,
    memberId: join.memberId,
    groupInstanceId: null,
    assignments: [{ memberId: join.memberId, assignment: Buffer.from('both') }],
  })
  assert.deepEqual([sync.error, sync.assignment.toString()], ['NONE', 'both'])
  const commit = await broker.groups.commitOffsets({
    groupId: 'g',
    generationId: join.generationId,
    memberId: join.memberId,
    groupInstanceId: null,
    offsets: [{ topic: 'topic', partition: 1, offset: 42, metadata: 'md' }],
  })
  assert.equal(commit.partitions[0]!.error, 'NONE')
  assert.deepEqual(broker.committedOffset('g', 'topic', 1), { offset: 42, metadata: 'md' })
  await broker.close()
  broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  const fetched = broker.groups.fetchOffsets('g', null)
  assert.deepEqual(
    fetched.partitions.map((p) => [p.topic, p.partition, p.offset, p.metadata]),
    [['topic', 1, 42, 'md']],
  )
  assert.deepEqual(
    broker.groups.list().map((g) => g.groupId),
    ['g'],
  )
})
