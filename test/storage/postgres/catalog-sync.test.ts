// Two brokers over one PostgreSQL database, without cluster mode: what one creates or deletes in the catalog
// the other applies by itself (catalog-sync), seen through real clients: kafkajs topics, amqplib queues and
// bindings, a user made through the admin API logging in on the other broker; and a consumer group's committed
// offset read back by the other broker after a cursor refresh.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import amqp from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import { Broker } from '../../../src/broker/broker.ts'
import { openPostgresStorage, type PostgresStorage } from '../../../src/storage/postgres/index.ts'
import { startPostgres } from '../../fixtures/postgres.ts'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe().catch(() => undefined)
    if (found !== undefined) return found
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

async function twoBrokers(t: import('node:test').TestContext, db: string, protocols: Array<'kafka' | 'amqp' | 'http'>) {
  const server = await startPostgres(t)
  if (server === undefined) return undefined
  const url = await server.createDatabase(db)
  const a = await startSpawned(t, protocols, { args: ['--storage', url] })
  const b = await startSpawned(t, protocols, { args: ['--storage', url] })
  // The brokers stop before the database does (after-hooks run in the order added, the server's first).
  const stop = () => Promise.all([a.stop(), b.stop()])
  return { url, a, b, stop }
}

test('a topic created by kafkajs on broker A is listed by B, and its deletion on A removes it on B', {
  timeout: 180_000,
}, async (t) => {
  const env = await twoBrokers(t, 'sync_kafka', ['kafka'])
  if (env === undefined) return
  const admin = (port: number) =>
    new Kafka({ clientId: 'sync', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).admin()
  const adminA = admin(env.a.ports.kafka)
  const adminB = admin(env.b.ports.kafka)
  await adminA.connect()
  await adminB.connect()
  assert.ok(await adminA.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] }))
  const meta = await eventually('B lists orders', async () => {
    const { topics } = await adminB.fetchTopicMetadata({ topics: ['orders'] })
    return topics[0]?.partitions.length === 3 ? topics[0] : undefined
  })
  assert.equal(meta.name, 'orders')
  // Partitions added on A: B serves them too.
  await adminA.createPartitions({ topicPartitions: [{ topic: 'orders', count: 5 }] })
  await eventually('B has 5 partitions', async () => {
    const { topics } = await adminB.fetchTopicMetadata({ topics: ['orders'] })
    return topics[0]?.partitions.length === 5 ? true : undefined
  })
  await adminA.deleteTopics({ topics: ['orders'] })
  await eventually('B no longer lists orders', async () => {
    const topics = await adminB.listTopics()
    return topics.includes('orders') ? undefined : true
  })
  await adminA.disconnect()
  await adminB.disconnect()
  await env.stop()
})

test('a queue and binding declared by amqplib on A route a publish made on B', { timeout: 180_000 }, async (t) => {
  const env = await twoBrokers(t, 'sync_amqp', ['amqp'])
  if (env === undefined) return
  const connA = await amqp.connect(`amqp://guest:guest@127.0.0.1:${env.a.ports.amqp}`)
  const connB = await amqp.connect(`amqp://guest:guest@127.0.0.1:${env.b.ports.amqp}`)
  const chA = await connA.createChannel()
  await chA.assertExchange('events', 'topic', { durable: true })
  await chA.assertQueue('audit', { durable: true })
  await chA.bindQueue('audit', 'events', 'order.*')

  const chB = await connB.createConfirmChannel()
  // B knows the exchange and the queue once they arrive: a passive declare succeeds there.
  await eventually('B has the binding', async () => {
    const probe = await connB.createChannel()
    probe.on('error', () => {})
    try {
      await probe.checkExchange('events')
      await probe.checkQueue('audit')
      await probe.close()
      return true
    } catch {
      return undefined
    }
  })
  // Publish on B with mandatory: a route exists only once the binding is there too.
  await eventually('a publish on B routes into audit', async () => {
    const returned = new Promise<boolean>((resolve) => {
      chB.once('return', () => resolve(true))
      setTimeout(() => resolve(false), 300)
    })
    chB.publish('events', 'order.created', Buffer.from('hello'), { mandatory: true, persistent: true })
    await chB.waitForConfirms()
    return (await returned) ? undefined : true
  })
  const got = await eventually('the message in audit, read on B', async () => {
    const message = await chB.get('audit', { noAck: true })
    return message === false ? undefined : message
  })
  assert.equal(got.content.toString(), 'hello')

  // Deleted on A: gone on B (a passive declare there fails).
  await chA.deleteQueue('audit')
  await eventually('audit gone on B', async () => {
    const probe = await connB.createChannel()
    probe.on('error', () => {})
    try {
      await probe.checkQueue('audit')
      await probe.close()
      return undefined
    } catch {
      return true
    }
  })
  await connA.close()
  await connB.close()
  await env.stop()
})

test('a user created through the admin API on A logs in on B', { timeout: 180_000 }, async (t) => {
  const env = await twoBrokers(t, 'sync_users', ['http', 'amqp'])
  if (env === undefined) return
  const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`
  const loginB = () => amqp.connect(`amqp://carol:s3cret-pw@127.0.0.1:${env.b.ports.amqp}`)
  await assert.rejects(loginB(), 'no such user yet')
  const made = await fetch(`http://127.0.0.1:${env.a.ports.http}/api/v1/users`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'carol', password: 's3cret-pw', tags: [] }),
  })
  assert.equal(made.status, 201, await made.text())
  const conn = await eventually('carol logs in on B', async () => loginB())
  await conn.close()
  await env.stop()
})

test('a group offset committed on one broker is what the other returns after a cursor refresh', {
  timeout: 120_000,
}, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const url = await server.createDatabase('sync_offsets')
  const engineA = await openPostgresStorage(url, { retentionCheckMs: 0 })
  const engineB = await openPostgresStorage(url, { retentionCheckMs: 0 })
  const a = await Broker.open({ storage: engineA })
  const b = await Broker.open({ storage: engineB })
  // Closed before the database stops (the fixture's own after-hook runs first).
  try {
    await offsetsAndDelete(a, b, engineB)
  } finally {
    await a.close()
    await b.close()
  }
})

async function offsetsAndDelete(a: Broker, b: Broker, engineB: PostgresStorage): Promise<void> {
  await a.createStream('orders', { partitions: 2 })
  await eventually('B has the stream', async () => b.getStream('orders'))
  await a.commitOffset('billing', 'orders', 1, 42, 'm')
  assert.equal(b.committedOffset('billing', 'orders', 1), undefined, 'B reads its memory until it refreshes')
  await engineB.cursors.refresh('g\u0000billing\u0000')
  assert.deepEqual(b.committedOffset('billing', 'orders', 1), { offset: 42, metadata: 'm' })
  // Deleting the stream on A closes it on B.
  await a.deleteStream('orders')
  await eventually('B forgets the stream', async () => (b.getStream('orders') === undefined ? true : undefined))
}

test('rules, quotas, stream and queue settings, exchanges and bindings changed on one broker apply on the other', {
  timeout: 120_000,
}, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const url = await server.createDatabase('sync_kinds')
  const a = await Broker.open({ storage: await openPostgresStorage(url, { retentionCheckMs: 0 }) })
  const b = await Broker.open({ storage: await openPostgresStorage(url, { retentionCheckMs: 0 }) })
  try {
    const rule = {
      principal: 'User:carol',
      host: '*',
      operation: 'Read',
      permission: 'Deny',
      resourceType: 'Topic',
      resourceName: 'secret',
      patternType: 'Literal',
    } as const
    const before = b.security.generation
    await a.security.acls.add([rule])
    await eventually('B has the rule', async () => (b.security.acls.list().length === 1 ? true : undefined))
    assert.ok(b.security.generation > before, 'cached decisions on B are dropped')
    await a.security.acls.delete({ principal: 'User:carol' })
    await eventually('B drops the rule', async () => (b.security.acls.size === 0 ? true : undefined))

    await a.quotas.alter(
      [{ entity: { user: 'carol' }, changes: [{ kind: 'produceBytesPerSecond', value: 1024 }] }],
      false,
    )
    await eventually('B applies the quota', async () =>
      b.quotas.limitFor({ user: 'carol', clientId: 'x' }, 'produceBytesPerSecond') === 1024 ? true : undefined,
    )

    await a.createStream('metrics', { partitions: 1, retentionMs: 60_000 })
    await eventually('B opens metrics', async () => b.getStream('metrics'))
    await a.alterStream('metrics', { partitions: 4, retentionMs: 120_000 })
    const altered = await eventually('B grows metrics', async () =>
      b.getStream('metrics')?.partitions.length === 4 ? b.getStream('metrics') : undefined,
    )
    assert.equal(altered.config.retentionMs, 120_000)

    await a.createQueue('jobs', { maxDeliveries: 3 })
    await eventually('B opens jobs', async () => b.getQueue('jobs'))
    await a.alterQueue('jobs', { maxDeliveries: 7 })
    await eventually('B alters jobs', async () => (b.getQueue('jobs')?.config.maxDeliveries === 7 ? true : undefined))

    await a.declareExchange({ name: 'fan', type: 'fanout', durable: true })
    await a.bind({ source: 'fan', destination: { kind: 'queue', name: 'jobs' }, key: '', arguments: {} })
    await eventually('B routes fan to jobs', async () =>
      b.router.route('fan', 'any').destinations.some((d) => d.kind === 'queue' && d.name === 'jobs') ? true : undefined,
    )
    await b.publish('fan', 'any', { value: Buffer.from('via B') })
    // Read where it was written: seeing another broker's appends is log ownership's business (cluster mode).
    const [delivery] = await eventually('B gets it from jobs', async () => {
      const got = await b.get('jobs', { owner: 'test', max: 1 })
      return got.length > 0 ? got : undefined
    })
    assert.equal(delivery!.message.value?.toString(), 'via B')
    await a.deleteExchange('fan')
    await eventually('B drops fan', async () => (b.router.getExchange('fan') === undefined ? true : undefined))
    await a.topics.createTopic('alerts')
    await eventually('B lists the SNS topic', async () => (b.topics.listTopics().includes('alerts') ? true : undefined))
    await a.topics.deleteTopic('alerts')
    await eventually('B drops the SNS topic', async () => (b.topics.listTopics().includes('alerts') ? undefined : true))
    // A transient queue of B's own is not touched by another broker's catalog.
    await b.createQueue('local-only', { durable: false })
    await a.createQueue('other', {})
    await eventually('B opens other', async () => b.getQueue('other'))
    assert.ok(b.getQueue('local-only'))
  } finally {
    await a.close()
    await b.close()
  }
})
