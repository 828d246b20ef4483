// Kafka transactions on a cluster: a kafkajs transactional producer writes to partitions that two brokers own
// between them (whichever coordinates its transactional id), commits, aborts and commits again: read_committed
// readers see the committed records once and never the aborted ones, read_uncommitted readers see both, as on
// Kafka. The coordinator has each partition's owner admit the producer and write the markers. And offsets sent
// in a transaction (sendOffsets) for a group another broker coordinates are applied there on commit, and not on
// abort: the group's coordinator answers OffsetFetch with them.
import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { rendezvous } from '../../src/protocols/kafka/cluster.ts'
import { clusterView, until } from '../fixtures/cluster.ts'
import type { Protocol } from '../fixtures/spawned-wharf.ts'
import { checkPendingOffsetWaits } from '../protocols/kafka/pending-offset.ts'
import { clusterWithTopic, consumeUntil, kafkaClient, waitForLeaders } from './kafka-helpers.ts'

const PARTITIONS = 4

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
  const uncommitted = await consumeUntil(kafka, 'tx', 'tx-uncommitted', (c) => c.length >= 12, 30_000, {
    readUncommitted: true,
  })
  assert.deepEqual(uncommitted.map((c) => c.value).sort(), [
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

/** One record per partition, values `${prefix}${partition}`. */
const records = (prefix: string, partitions = PARTITIONS) =>
  Array.from({ length: partitions }, (_, i) => ({ partition: i, value: `${prefix}${i}` }))

/**
 * A cluster with `topic` (every broker leading some partition) and a transaction of `transactionalId` open on
 * it, with one record `open<partition>` in every partition; `coordinator` is the broker coordinating the id.
 */
async function openTransaction(
  t: TestContext,
  topic: string,
  transactionalId: string,
  options: { brokers: number; partitions?: number; leaseMs?: number; heartbeatMs?: number },
  producerOptions: { transactionTimeout?: number } = {},
) {
  const partitions = options.partitions ?? PARTITIONS
  const started = await clusterWithTopic(t, topic, options, partitions)
  if (started === undefined) return undefined
  const { cluster, kafka } = started
  const leaders = await waitForLeaders(kafka, topic, (found) => new Set(found.values()).size === options.brokers)
  const nodes = cluster.brokers.map((b) => b.nodeId)
  const coordinator = cluster.byNodeId(rendezvous(`transaction:${transactionalId}`, nodes)!)
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, ...producerOptions })
  await producer.connect()
  const open = await producer.transaction()
  await open.send({ topic, messages: records('open', partitions) })
  return { cluster, kafka, leaders, coordinator, producer, open }
}

const committedValues = async (kafka: Kafka, topic: string, expected: number) =>
  (await consumeUntil(kafka, topic, `${topic}-reader`, (c) => c.length >= expected, 60_000)).map((c) => c.value).sort()

test('a broker restarting while another coordinates an open transaction leaves it open; its commit is whole', {
  timeout: 180_000,
}, async (t) => {
  const opened = await openTransaction(t, 'tx-restart', 'tx-across-restart', { brokers: 2 })
  if (opened === undefined) return
  const { cluster, kafka, coordinator, producer, open } = opened
  t.after(() => producer.disconnect())
  // The broker that does not coordinate the transaction stops and starts again while it is open.
  await cluster.brokers.find((b) => b !== coordinator)!.restart()
  await open.commit()
  assert.deepEqual(
    await committedValues(kafka, 'tx-restart', PARTITIONS),
    records('open').map((r) => r.value),
  )
})

test('the coordinator SIGKILLed with a transaction open: the producer commits it through the broker taking over', {
  timeout: 180_000,
}, async (t) => {
  const fast = { brokers: 2, leaseMs: 3000, heartbeatMs: 500 }
  const opened = await openTransaction(t, 'tx-failover', 'tx-coordinator-killed', fast)
  if (opened === undefined) return
  const { kafka, coordinator, producer, open } = opened
  t.after(() => producer.disconnect())
  await coordinator.kill()
  await open.commit()
  assert.deepEqual(
    await committedValues(kafka, 'tx-failover', PARTITIONS),
    records('open').map((r) => r.value),
  )
})

test('the coordinator SIGKILLed and its producer gone: the broker taking over aborts the open transaction when it times out', {
  timeout: 180_000,
}, async (t) => {
  const fast = { brokers: 2, leaseMs: 3000, heartbeatMs: 500 }
  const opened = await openTransaction(t, 'tx-orphan', 'tx-orphaned', fast, { transactionTimeout: 5000 })
  if (opened === undefined) return
  const { kafka, coordinator, producer } = opened
  await coordinator.kill()
  await producer.disconnect().catch(() => {})
  // Written after the open transaction in every partition: read_committed readers get to them once it is aborted.
  const plain = kafka.producer({ allowAutoTopicCreation: false })
  await plain.connect()
  t.after(() => plain.disconnect())
  await plain.send({ topic: 'tx-orphan', acks: -1, messages: records('after') })
  assert.deepEqual(
    await committedValues(kafka, 'tx-orphan', PARTITIONS),
    records('after').map((r) => r.value),
  )
})

// librdkafka's read_committed consumer asks OffsetFetch with require_stable: the group's coordinator must see an
// offset held by a transaction another broker coordinates.
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
  await checkPendingOffsetWaits(cluster.kafkaBootstrap.join(','), groupId, transactionalId)
})

test("a partition owner SIGKILLed mid-transaction: the producer goes on at the partitions' new owners and commits whole", {
  timeout: 180_000,
}, async (t) => {
  const fast = { brokers: 3, partitions: 6, leaseMs: 3000, heartbeatMs: 500 }
  const opened = await openTransaction(t, 'tx-owner-killed', 'tx-owner-killed', fast)
  if (opened === undefined) return
  const { cluster, kafka, leaders, coordinator, producer, open } = opened
  t.after(() => producer.disconnect())
  const victim = cluster.brokers.find((b) => b !== coordinator)!
  await victim.kill()
  const moved = await waitForLeaders(
    kafka,
    'tx-owner-killed',
    (found) => ![...found.values()].some((l) => l === victim.nodeId || l === -1),
  )
  // Some of the victim's partitions went to the broker that neither coordinates nor admitted the producer.
  console.log(
    `partitions moved from broker ${victim.nodeId}:`,
    [...leaders].filter(([, l]) => l === victim.nodeId).map(([p]) => `${p}->${moved.get(p)}`),
  )
  await open.send({ topic: 'tx-owner-killed', messages: records('after', 6) })
  await open.commit()
  const expected = [...records('after', 6), ...records('open', 6)].map((r) => r.value).sort()
  assert.deepEqual(await committedValues(kafka, 'tx-owner-killed', 12), expected)
})

test('a coordinator paused past its lease does not acknowledge the commit of a transaction the broker taking over aborted', {
  timeout: 180_000,
}, async (t) => {
  const fast = { brokers: 2, leaseMs: 3000, heartbeatMs: 500, listeners: ['kafka', 'http'] as Protocol[] }
  const started = await clusterWithTopic(t, 'tx-zombie', fast, PARTITIONS)
  if (started === undefined) return
  const { cluster, kafka } = started
  await waitForLeaders(kafka, 'tx-zombie', (found) => new Set(found.values()).size === 2)
  const transactionalId = 'tx-zombie'
  const coordinator = cluster.byNodeId(
    rendezvous(
      `transaction:${transactionalId}`,
      cluster.brokers.map((b) => b.nodeId),
    )!,
  )
  // A client that waits out the pause: its commit is still waiting for an answer when the coordinator resumes.
  const patient = new Kafka({
    clientId: 'patient',
    brokers: cluster.kafkaBootstrap,
    logLevel: logLevel.NOTHING,
    requestTimeout: 60_000,
  })
  const producer = patient.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 3000,
  })
  await producer.connect()
  t.after(() => producer.disconnect().catch(() => {}))
  const open = await producer.transaction()
  await open.send({ topic: 'tx-zombie', messages: records('open') })
  coordinator.signal('SIGSTOP')
  const committing = open.commit().then(
    () => 'acknowledged',
    (error: Error) => `refused: ${error.message}`,
  )
  // The other broker takes the id over and aborts the transaction when it times out: readers get past it. (A
  // client that knew the paused broker would wait on it: this one knows only the other.)
  const other = cluster.brokers.find((b) => b !== coordinator)!
  await until('the paused coordinator out of the members', async () =>
    (await clusterView(other)).members.some((m) => m.id === coordinator.nodeId) ? undefined : true,
  )
  const survivor = kafkaClient([`127.0.0.1:${other.ports.kafka}`], 'survivor')
  const plain = survivor.producer({ allowAutoTopicCreation: false })
  await plain.connect()
  t.after(() => plain.disconnect())
  await plain.send({ topic: 'tx-zombie', acks: -1, messages: records('after') })
  assert.deepEqual(
    await committedValues(survivor, 'tx-zombie', PARTITIONS),
    records('after').map((r) => r.value),
  )
  coordinator.signal('SIGCONT')
  const outcome = await committing
  assert.match(outcome, /^refused/, 'a commit of an aborted transaction is not acknowledged')
})
