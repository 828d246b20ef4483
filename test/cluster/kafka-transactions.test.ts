// Kafka transactions on a cluster: a kafkajs transactional producer writes to partitions that two brokers own
// between them (whichever coordinates its transactional id), commits, aborts and commits again: read_committed
// readers see the committed records once and never the aborted ones, read_uncommitted readers see both, as on
// Kafka. The coordinator has each partition's owner admit the producer and write the markers. And offsets sent
// in a transaction (sendOffsets) for a group another broker coordinates are applied there on commit, and not on
// abort: the group's coordinator answers OffsetFetch with them.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Kafka } from 'kafkajs'
import { rendezvous } from '../../src/protocols/kafka/cluster.ts'
import { until } from '../fixtures/cluster.ts'
import { run } from '../protocols/kafka/harness.ts'
import { clusterWithTopic, consumeUntil, waitForLeaders } from './kafka-helpers.ts'

const PARTITIONS = 4

/** Every value a fresh read_uncommitted group reads from the start of the topic, once `expected` arrived. */
async function readUncommitted(kafka: Kafka, topic: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `uncommitted-${topic}`, readUncommitted: true, maxWaitTimeInMs: 200 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    const values: string[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${values.length} of ${expected}: ${values}`)), 30_000)
      consumer
        .run({
          eachMessage: async ({ message }) => {
            values.push(String(message.value))
            if (values.length === expected) {
              clearTimeout(timer)
              resolve()
            }
          },
        })
        .catch(reject)
    })
    return values.sort()
  } finally {
    await consumer.disconnect()
  }
}

test('a transaction over partitions that two brokers own commits and aborts as a whole', {
  timeout: 180_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'tx', { brokers: 2 }, PARTITIONS)
  if (started === undefined) return
  const { kafka } = started
  await waitForLeaders(kafka, 'tx', (found) => new Set(found.values()).size === 2 && ![...found.values()].includes(-1))
  const producer = kafka.producer({ transactionalId: 'tx-cluster', idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  t.after(() => producer.disconnect())
  const messages = (prefix: string) =>
    Array.from({ length: PARTITIONS }, (_, i) => ({ partition: i, value: `${prefix}${i}` }))
  const committed = await producer.transaction()
  await committed.send({ topic: 'tx', messages: messages('c') })
  await committed.commit()
  const aborted = await producer.transaction()
  await aborted.send({ topic: 'tx', messages: messages('a') })
  await aborted.abort()
  const again = await producer.transaction()
  await again.send({ topic: 'tx', messages: messages('d') })
  await again.commit()

  const read = await consumeUntil(kafka, 'tx', 'tx-committed', (c) => c.length >= 8, 20_000)
  assert.deepEqual(read.map((c) => c.value).sort(), ['c0', 'c1', 'c2', 'c3', 'd0', 'd1', 'd2', 'd3'])
  assert.deepEqual(await readUncommitted(kafka, 'tx', 12), [
    ...['a0', 'a1', 'a2', 'a3', 'c0', 'c1', 'c2', 'c3'],
    ...['d0', 'd1', 'd2', 'd3'],
  ])
})

test("offsets sent in a transaction are applied by the group's coordinator on commit, not on abort", {
  timeout: 180_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'eos-in', { brokers: 2 }, 2)
  if (started === undefined) return
  const { cluster, kafka } = started
  const admin = kafka.admin()
  await admin.connect()
  t.after(() => admin.disconnect())
  await admin.createTopics({ topics: [{ topic: 'eos-out', numPartitions: 2 }] })
  // A group the other broker coordinates (the choice every broker makes: cluster.ts's rendezvous).
  const nodes = cluster.brokers.map((b) => b.nodeId)
  const transactionalId = 'eos-offsets'
  const transactionCoordinator = rendezvous(`transaction:${transactionalId}`, nodes)
  const groupId = Array.from({ length: 50 }, (_, i) => `eos-group-${i}`).find(
    (g) => rendezvous(`group:${g}`, nodes) !== transactionCoordinator,
  )!
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  t.after(() => producer.disconnect())
  const offsets = async () =>
    (await admin.fetchOffsets({ groupId, topics: ['eos-in'] }))[0]!.partitions
      .map((p) => [p.partition, p.offset])
      .sort()
  const consumed = (first: number, second: number) => ({
    consumerGroupId: groupId,
    topics: [
      {
        topic: 'eos-in',
        partitions: [
          { partition: 0, offset: String(first) },
          { partition: 1, offset: String(second) },
        ],
      },
    ],
  })

  // The group's coordinator loads it on its first request (as a consumer joining it would make it do);
  // kafkajs's fetchOffsets does not retry COORDINATOR_LOAD_IN_PROGRESS.
  await until('the group loaded at its coordinator', () => offsets().catch(() => undefined))
  const aborted = await producer.transaction()
  await aborted.send({ topic: 'eos-out', messages: [{ partition: 0, value: 'dropped' }] })
  await aborted.sendOffsets(consumed(3, 4))
  await aborted.abort()
  assert.deepEqual(
    await offsets(),
    [
      [0, '-1'],
      [1, '-1'],
    ],
    'an aborted transaction commits no offset',
  )

  const committed = await producer.transaction()
  await committed.send({ topic: 'eos-out', messages: [{ partition: 1, value: 'kept' }] })
  await committed.sendOffsets(consumed(5, 7))
  await committed.commit()
  assert.deepEqual(await offsets(), [
    [0, '5'],
    [1, '7'],
  ])
})

test('a broker restarting while another coordinates an open transaction leaves it open; its commit is whole', {
  timeout: 180_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'tx-restart', { brokers: 2 }, PARTITIONS)
  if (started === undefined) return
  const { cluster, kafka } = started
  const nodes = cluster.brokers.map((b) => b.nodeId)
  await waitForLeaders(kafka, 'tx-restart', (found) => new Set(found.values()).size === 2)
  const transactionalId = 'tx-across-restart'
  const other = cluster.brokers.find((b) => b.nodeId !== rendezvous(`transaction:${transactionalId}`, nodes))!
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  t.after(() => producer.disconnect())
  const open = await producer.transaction()
  await open.send({
    topic: 'tx-restart',
    messages: Array.from({ length: PARTITIONS }, (_, i) => ({ partition: i, value: `r${i}` })),
  })
  // The broker that does not coordinate the transaction stops and starts again while it is open.
  await other.restart()
  await open.commit()
  const read = await consumeUntil(kafka, 'tx-restart', 'tx-restart-reader', (c) => c.length >= PARTITIONS, 30_000)
  assert.deepEqual(read.map((c) => c.value).sort(), ['r0', 'r1', 'r2', 'r3'])
})

test('the coordinator SIGKILLed with a transaction open: the producer commits it through the broker taking over', {
  timeout: 180_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'tx-failover', { brokers: 2, leaseMs: 3000, heartbeatMs: 500 }, PARTITIONS)
  if (started === undefined) return
  const { cluster, kafka } = started
  await waitForLeaders(kafka, 'tx-failover', (found) => new Set(found.values()).size === 2)
  const transactionalId = 'tx-coordinator-killed'
  const nodes = cluster.brokers.map((b) => b.nodeId)
  const coordinator = cluster.byNodeId(rendezvous(`transaction:${transactionalId}`, nodes)!)
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  t.after(() => producer.disconnect())
  const open = await producer.transaction()
  await open.send({
    topic: 'tx-failover',
    messages: Array.from({ length: PARTITIONS }, (_, i) => ({ partition: i, value: `f${i}` })),
  })
  await coordinator.kill()
  await open.commit()
  const read = await consumeUntil(kafka, 'tx-failover', 'tx-failover-reader', (c) => c.length >= PARTITIONS, 60_000)
  assert.deepEqual(read.map((c) => c.value).sort(), ['f0', 'f1', 'f2', 'f3'])
})

test('the coordinator SIGKILLed and its producer gone: the broker taking over aborts the open transaction when it times out', {
  timeout: 180_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'tx-orphan', { brokers: 2, leaseMs: 3000, heartbeatMs: 500 }, PARTITIONS)
  if (started === undefined) return
  const { cluster, kafka } = started
  await waitForLeaders(kafka, 'tx-orphan', (found) => new Set(found.values()).size === 2)
  const transactionalId = 'tx-orphaned'
  const nodes = cluster.brokers.map((b) => b.nodeId)
  const coordinator = cluster.byNodeId(rendezvous(`transaction:${transactionalId}`, nodes)!)
  const orphan = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 5000 })
  await orphan.connect()
  const open = await orphan.transaction()
  await open.send({
    topic: 'tx-orphan',
    messages: Array.from({ length: PARTITIONS }, (_, i) => ({ partition: i, value: `lost${i}` })),
  })
  await coordinator.kill()
  await orphan.disconnect().catch(() => {})
  // Written after the open transaction in every partition: read_committed readers get to them once it is aborted.
  const plain = kafka.producer({ allowAutoTopicCreation: false })
  await plain.connect()
  t.after(() => plain.disconnect())
  await plain.send({
    topic: 'tx-orphan',
    acks: -1,
    messages: Array.from({ length: PARTITIONS }, (_, i) => ({ partition: i, value: `after${i}` })),
  })
  const read = await consumeUntil(kafka, 'tx-orphan', 'tx-orphan-reader', (c) => c.length >= PARTITIONS, 60_000)
  assert.deepEqual(read.map((c) => c.value).sort(), ['after0', 'after1', 'after2', 'after3'])
})

// librdkafka's read_committed consumer asks OffsetFetch with require_stable: the group's coordinator must see an
// offset held by a transaction another broker coordinates.
const pendingScript = `
import sys, json, time
from confluent_kafka import Consumer, Producer, TopicPartition
b, group, txn = sys.argv[1], sys.argv[2], sys.argv[3]
consumer = Consumer({'bootstrap.servers': b, 'group.id': group, 'isolation.level': 'read_committed',
                     'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
producer = Producer({'bootstrap.servers': b, 'transactional.id': txn})
producer.init_transactions(30)
producer.begin_transaction()
producer.send_offsets_to_transaction([TopicPartition('stable', 0, 7)], consumer.consumer_group_metadata(), 30)
consumer.assign([TopicPartition('stable', 0)])
before = []
deadline = time.time() + 4
while time.time() < deadline:
    m = consumer.poll(0.2)
    if m is not None and not m.error():
        before.append(m.offset())
producer.commit_transaction(30)
after = None
deadline = time.time() + 30
while after is None and time.time() < deadline:
    m = consumer.poll(0.2)
    if m is not None and not m.error():
        after = m.offset()
consumer.close()
print(json.dumps({'before': before, 'after': after}))
`

test('confluent-kafka: a read_committed consumer waits for a group offset a transaction on another broker holds', {
  timeout: 180_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'stable', { brokers: 2 }, 1)
  if (started === undefined) return
  const { cluster, kafka } = started
  const nodes = cluster.brokers.map((b) => b.nodeId)
  const transactionalId = 'stable-tx'
  const groupId = Array.from({ length: 50 }, (_, i) => `stable-group-${i}`).find(
    (g) => rendezvous(`group:${g}`, nodes) !== rendezvous(`transaction:${transactionalId}`, nodes),
  )!
  const plain = kafka.producer({ allowAutoTopicCreation: false })
  await plain.connect()
  t.after(() => plain.disconnect())
  for (let i = 0; i < 10; i++)
    await plain.send({ topic: 'stable', acks: -1, messages: [{ partition: 0, value: `v${i}` }] })
  const out = await run(
    '/usr/bin/python3',
    ['-c', pendingScript, cluster.kafkaBootstrap.join(','), groupId, transactionalId],
    {
      timeoutMs: 120_000,
    },
  )
  const result = JSON.parse(out.stdout.trim().split('\n').at(-1)!)
  assert.deepEqual(result.before, [], 'nothing is consumed while the offset is pending')
  assert.equal(result.after, 7, 'the consumer starts at the offset the transaction committed')
})

test("a partition owner SIGKILLed mid-transaction: the producer goes on at the partitions' new owners and commits whole", {
  timeout: 180_000,
}, async (t) => {
  const topic = 'tx-owner-killed'
  const started = await clusterWithTopic(t, topic, { brokers: 3, leaseMs: 3000, heartbeatMs: 500 }, 6)
  if (started === undefined) return
  const { cluster, kafka } = started
  const initial = await waitForLeaders(kafka, topic, (found) => new Set(found.values()).size === 3)
  const transactionalId = 'tx-owner-killed'
  const nodes = cluster.brokers.map((b) => b.nodeId)
  const coordinator = rendezvous(`transaction:${transactionalId}`, nodes)
  const victim = cluster.brokers.find((b) => b.nodeId !== coordinator)!
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  t.after(() => producer.disconnect())
  const batch = (prefix: string) => Array.from({ length: 6 }, (_, i) => ({ partition: i, value: `${prefix}${i}` }))
  const open = await producer.transaction()
  await open.send({ topic, messages: batch('before') })
  await victim.kill()
  const moved = await waitForLeaders(
    kafka,
    topic,
    (found) => ![...found.values()].some((l) => l === victim.nodeId || l === -1),
  )
  // Some of the victim's partitions went to the broker that neither coordinates nor admitted the producer.
  console.log(
    `partitions moved from broker ${victim.nodeId}:`,
    [...initial].filter(([, l]) => l === victim.nodeId).map(([p]) => `${p}->${moved.get(p)}`),
  )
  await open.send({ topic, messages: batch('after') })
  await open.commit()
  const read = await consumeUntil(kafka, topic, 'tx-owner-killed-reader', (c) => c.length >= 12, 60_000)
  assert.deepEqual(read.map((c) => c.value).sort(), [...batch('after'), ...batch('before')].map((m) => m.value).sort())
})
