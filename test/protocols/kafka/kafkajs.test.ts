// kafkajs 2.2.4, unmodified, against Wharf's Kafka listener.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CompressionTypes, Kafka, logLevel } from 'kafkajs'
import { silentKafkaLogs, startHarness } from './harness.ts'

function client(bootstrap: string, clientId = 'wharf-test') {
  return new Kafka({
    clientId,
    brokers: [bootstrap],
    ...(process.env.WHARF_TEST_LOG
      ? { logLevel: logLevel.DEBUG }
      : { logLevel: logLevel.NOTHING, logCreator: silentKafkaLogs }),
    retry: { retries: 3, initialRetryTime: 100 },
  })
}

test('kafkajs produces (plain and gzip) and consumes every message back with a consumer group', async (t) => {
  const h = await startHarness(t)
  const kafka = client(h.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  assert.equal(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] }), true)
  const producer = kafka.producer()
  await producer.connect()
  h.defer(() => producer.disconnect())
  const sent: string[] = []
  for (let i = 0; i < 30; i++) sent.push(`m-${i}`)
  const plain = await producer.send({
    topic: 'orders',
    messages: sent.slice(0, 15).map((v, i) => ({ key: `k${i}`, value: v, headers: { h: 'x' } })),
  })
  assert.ok(plain.every((r) => r.errorCode === 0))
  await producer.send({
    topic: 'orders',
    compression: CompressionTypes.GZIP,
    messages: sent.slice(15).map((v, i) => ({ key: `g${i}`, value: v })),
  })

  const consumer = kafka.consumer({ groupId: 'g1', sessionTimeout: 10_000, heartbeatInterval: 500 })
  await consumer.connect()
  h.defer(() => consumer.disconnect())
  await consumer.subscribe({ topic: 'orders', fromBeginning: true })
  const received: string[] = []
  let headerSeen = false
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length} of 30 received`)), 30_000)
    consumer
      .run({
        eachMessage: async ({ message }) => {
          received.push(message.value!.toString())
          if (message.headers?.h?.toString() === 'x') headerSeen = true
          if (received.length === sent.length) {
            clearTimeout(timer)
            resolve()
          }
        },
      })
      .catch(reject)
  })
  assert.deepEqual([...received].sort(), [...sent].sort())
  assert.ok(headerSeen, 'record headers survive')
  // Committed offsets are visible through the admin API (OffsetFetch).
  await consumer.commitOffsets([])
  const deadline = Date.now() + 10_000
  let total = 0
  while (Date.now() < deadline) {
    const offsets = await admin.fetchOffsets({ groupId: 'g1', topics: ['orders'] })
    total = offsets[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)
    if (total === 30) break
    await new Promise((r) => setTimeout(r, 200))
  }
  assert.equal(total, 30)
})

test('kafkajs: two consumers in one group split the partitions, and the survivor takes over after a leave', async (t) => {
  const h = await startHarness(t)
  const kafka = client(h.bootstrap)
  await h.broker.createStream('shared', { partitions: 4 })
  const assignments = new Map<string, number[]>()
  const consumers = ['a', 'b'].map((name) => {
    const consumer = kafka.consumer({
      groupId: 'pair',
      sessionTimeout: 10_000,
      heartbeatInterval: 300,
      rebalanceTimeout: 10_000,
    })
    consumer.on(consumer.events.GROUP_JOIN, (e) => assignments.set(name, e.payload.memberAssignment.shared ?? []))
    return consumer
  })
  const seen = new Map<string, Set<string>>([
    ['a', new Set()],
    ['b', new Set()],
  ])
  for (const [i, consumer] of consumers.entries()) {
    const name = i === 0 ? 'a' : 'b'
    await consumer.connect()
    await consumer.subscribe({ topic: 'shared', fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message }) => void seen.get(name)!.add(message.value!.toString()) })
  }
  h.defer(() => Promise.all(consumers.map((c) => c.disconnect().catch(() => {}))))
  const waitFor = async (what: string, ok: () => boolean, ms = 30_000) => {
    const deadline = Date.now() + ms
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify([...assignments])}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  await waitFor(
    'a 2+2 split',
    () => (assignments.get('a')?.length ?? 0) === 2 && (assignments.get('b')?.length ?? 0) === 2,
  )
  assert.deepEqual([...assignments.get('a')!, ...assignments.get('b')!].sort(), [0, 1, 2, 3])
  const producer = kafka.producer()
  await producer.connect()
  h.defer(() => producer.disconnect())
  await producer.send({
    topic: 'shared',
    messages: Array.from({ length: 40 }, (_, i) => ({ key: `key-${i}`, value: `v${i}` })),
  })
  await waitFor('all 40 messages', () => seen.get('a')!.size + seen.get('b')!.size === 40)
  assert.ok(seen.get('a')!.size > 0 && seen.get('b')!.size > 0, 'both members consumed')
  // b leaves (LeaveGroup): a rebalances onto all four partitions and consumes new messages everywhere.
  await consumers[1]!.disconnect()
  await waitFor('a takes over', () => assignments.get('a')?.length === 4)
  await producer.send({
    topic: 'shared',
    messages: Array.from({ length: 8 }, (_, i) => ({ key: `late-${i}`, value: `late${i}` })),
  })
  await waitFor('late messages on a', () => [...seen.get('a')!].filter((v) => v.startsWith('late')).length === 8)
})

test('kafkajs admin: create with configs, describe configs, create partitions, delete records, delete topics, groups', async (t) => {
  const h = await startHarness(t)
  const kafka = client(h.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  const created = await admin.createTopics({
    topics: [
      {
        topic: 'cfg',
        numPartitions: 2,
        configEntries: [
          { name: 'retention.ms', value: '60000' },
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'max.message.bytes', value: '2048' },
        ],
      },
    ],
  })
  assert.equal(created, true)
  const stream = h.broker.stream('cfg')
  assert.equal(stream.config.retentionMs, 60000)
  assert.equal(stream.config.compact, true)
  assert.equal(stream.config.maxMessageBytes, 2048)
  await assert.rejects(
    admin.createTopics({ topics: [{ topic: 'bad', configEntries: [{ name: 'no.such.config', value: '1' }] }] }),
    (error: { errors?: Array<{ type?: string }> }) => {
      assert.equal(error.errors?.[0]?.type, 'INVALID_CONFIG')
      return true
    },
  )
  assert.equal(h.broker.getStream('bad'), undefined)
  // An existing topic: kafkajs reports false (TOPIC_ALREADY_EXISTS), nothing changes.
  assert.equal(await admin.createTopics({ topics: [{ topic: 'cfg' }] }), false)

  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: 'cfg' }] })
  const entries = new Map(described.resources[0]!.configEntries.map((e) => [e.configName, e]))
  assert.equal(entries.get('retention.ms')?.configValue, '60000')
  assert.equal(entries.get('cleanup.policy')?.configValue, 'compact')
  assert.equal(entries.get('retention.bytes')?.configValue, '-1')
  assert.equal(entries.get('retention.bytes')?.isDefault, true)
  assert.ok(entries.has('segment.bytes') && entries.has('min.insync.replicas'), 'every config listed with defaults')

  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: 2, name: 'cfg', configEntries: [{ name: 'retention.ms', value: '120000' }] }],
  })
  assert.equal(h.broker.stream('cfg').config.retentionMs, 120000)
  assert.equal(h.broker.stream('cfg').config.compact, false, 'AlterConfigs resets what it does not name')

  await admin.createPartitions({ topicPartitions: [{ topic: 'cfg', count: 3 }] })
  assert.equal(h.broker.stream('cfg').partitions.length, 3)
  const meta = await admin.fetchTopicMetadata({ topics: ['cfg'] })
  assert.equal(meta.topics[0]!.partitions.length, 3)

  const producer = kafka.producer()
  await producer.connect()
  h.defer(() => producer.disconnect())
  await producer.send({
    topic: 'cfg',
    messages: Array.from({ length: 5 }, (_, i) => ({ value: `x${i}`, partition: 0, key: `k${i}` })),
  })
  await admin.deleteTopicRecords({ topic: 'cfg', partitions: [{ partition: 0, offset: '3' }] })
  const offsets = await admin.fetchTopicOffsets('cfg')
  const p0 = offsets.find((o) => o.partition === 0)!
  assert.equal(p0.low, '3')
  assert.equal(p0.high, '5')

  // Groups: commit offsets for a group without members, list, describe, delete.
  await admin.setOffsets({ groupId: 'admin-group', topic: 'cfg', partitions: [{ partition: 0, offset: '4' }] })
  assert.equal(h.broker.committedOffset('admin-group', 'cfg', 0)?.offset, 4)
  const groups = await admin.listGroups()
  assert.ok(groups.groups.some((g) => g.groupId === 'admin-group'))
  const desc = await admin.describeGroups(['admin-group'])
  assert.equal(desc.groups[0]!.state, 'Empty')
  await admin.deleteGroups(['admin-group'])
  assert.equal(h.broker.committedOffset('admin-group', 'cfg', 0), undefined)

  await admin.deleteTopics({ topics: ['cfg'] })
  assert.equal(h.broker.getStream('cfg'), undefined)
  assert.ok(!(await admin.listTopics()).includes('cfg'))
})

test('kafkajs idempotent producer: InitProducerId, sequences, and a retried batch is not stored twice', async (t) => {
  const h = await startHarness(t)
  const kafka = client(h.bootstrap)
  await h.broker.createStream('idem', { partitions: 1 })
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  h.defer(() => producer.disconnect())
  for (let i = 0; i < 5; i++)
    await producer.send({ topic: 'idem', acks: -1, messages: [{ value: `i${i}` }, { value: `j${i}` }] })
  const log = h.broker.stream('idem').partitionLog(0)
  assert.equal(log.highWatermark, 10)
  // Replaying the last stored batch (same producer id, epoch and sequence) is answered as a duplicate.
  const { readBatchHeader, splitBatches } = await import('../../../src/record/index.ts')
  const read = await log.read(8, 1 << 20)
  const batch = splitBatches(read.chunks[0]!).at(-1)!
  assert.ok(readBatchHeader(batch).producerId >= 0)
  const replay = await h.broker.appendRawBatch('idem', 0, Buffer.from(batch))
  assert.equal(replay.duplicate, true)
  assert.equal(replay.baseOffset, 8)
  assert.equal(log.highWatermark, 10)
})

test('SASL/PLAIN: with anonymous access off, users are enforced (kafkajs and kcat), wrong passwords are refused', async (t) => {
  const h = await startHarness(t, {}, { users: [{ name: 'alice', password: 'secret' }], anonymous: false })
  const good = new Kafka({
    clientId: 'sasl',
    brokers: [h.bootstrap],
    logLevel: logLevel.NOTHING,
    logCreator: silentKafkaLogs,
    sasl: { mechanism: 'plain', username: 'alice', password: 'secret' },
  })
  const admin = good.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  await admin.createTopics({ topics: [{ topic: 'secured' }] })
  assert.ok((await admin.listTopics()).includes('secured'))
  const bad = new Kafka({
    clientId: 'sasl',
    brokers: [h.bootstrap],
    logLevel: logLevel.NOTHING,
    logCreator: silentKafkaLogs,
    retry: { retries: 0 },
    sasl: { mechanism: 'plain', username: 'alice', password: 'wrong' },
  })
  const badAdmin = bad.admin()
  await assert.rejects(badAdmin.connect(), /SASL|auth/i)
  const { run } = await import('./harness.ts')
  const sasl = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice']
  await run('kcat', ['-b', h.bootstrap, ...sasl, '-X', 'sasl.password=secret', '-P', '-t', 'secured'], {
    input: 'hello\n',
  })
  assert.equal(h.broker.stream('secured').partitionLog(0).highWatermark, 1)
  await assert.rejects(
    run('kcat', ['-b', h.bootstrap, ...sasl, '-X', 'sasl.password=nope', '-L', '-m', '3'], { timeoutMs: 15_000 }),
  )
})
