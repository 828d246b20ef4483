// Kafka routing in a cluster (cluster.ts), with real clients: Metadata names each partition's owner as its
// leader with the owner's epoch, a broker that does not own a partition answers NOT_LEADER_OR_FOLLOWER and one
// that does not coordinate a group NOT_COORDINATOR, and kafkajs and kcat follow those answers by themselves.
// The brokers here are in-process, each on its own local storage, under one fixed membership table that
// stands in for the shared engine's (the storage contract's ClusterView): what is tested is what the Kafka
// listener answers from it, not how the engine keeps it (test/cluster/ runs real brokers on PostgreSQL).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { Broker } from '../../../src/broker/broker.ts'
import { Stream } from '../../../src/broker/stream/stream.ts'
import {
  ApiKey,
  type FetchResponse,
  type MetadataResponse,
  type ProduceResponse,
} from '../../../src/protocols/kafka/codec/index.ts'
import { type KafkaListener, startKafkaListener } from '../../../src/protocols/kafka/index.ts'
import { encodeBatch } from '../../../src/record/index.ts'
import type { ClusterMember, ClusterView, LogOwnership, StorageEngine } from '../../../src/storage/api.ts'
import { openStorage } from '../../../src/storage/local/index.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { run, silentKafkaLogs } from './harness.ts'
import { RawClient } from './raw-client.ts'

/** One membership table several in-process brokers read, each through a view carrying its own node id. */
class MembershipTable {
  readonly members = new Map<number, ClusterMember>()
  readonly owners = new Map<string, LogOwnership>()
  readonly #listeners = new Set<(changed: readonly string[]) => void>()

  view(nodeId: number): ClusterView {
    const table = this
    return {
      nodeId,
      members: () => [...table.members.values()].sort((a, b) => a.id - b.id),
      readMembers: async () => [...table.members.values()].sort((a, b) => a.id - b.id),
      ownerOf: (log) => table.owners.get(log),
      onChange(listener) {
        table.#listeners.add(listener)
        return () => table.#listeners.delete(listener)
      },
      async advertise(endpoints) {
        table.members.set(nodeId, { id: nodeId, endpoints })
      },
      // Kafka clients are routed, never forwarded: these brokers share no link.
      linkSecret: () => Promise.reject(new Error('no links between these brokers')),
      forwardAppends() {},
      appendForwarded: () => Promise.reject(new Error('no links between these brokers')),
    }
  }

  own(log: string, owner: number, epoch: number): void {
    this.owners.set(log, { owner, epoch })
    for (const listener of this.#listeners) listener([log])
  }
}

interface Node {
  id: number
  broker: Broker
  listener: KafkaListener
  bootstrap: string
}

/** A broker on its own local storage whose engine reports the table's view as its cluster. */
async function startNode(t: TestContext, table: MembershipTable, id: number): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-kafka-cluster-'))
  const local = await openStorage(dir)
  const storage: StorageEngine = {
    cluster: table.view(id),
    dataDir: local.dataDir,
    openLog: (name, config) => local.openLog(name, config),
    deleteLog: (name) => local.deleteLog(name),
    openMemoryLog: (name, config) => local.openMemoryLog(name, config),
    listLogs: () => local.listLogs(),
    cursors: local.cursors,
    memoryCursors: local.memoryCursors,
    metadata: local.metadata,
    freeingSpace: (work, roomBytes) => local.freeingSpace(work, roomBytes),
    close: () => local.close(),
  }
  const broker = await Broker.open({ storage, defaultDurability: 'never' })
  const listener = await startKafkaListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    kafka: { autoCreateTopics: false },
  })
  await storage.cluster!.advertise({ kafka: { host: '127.0.0.1', port: listener.port } })
  t.after(async () => {
    await listener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { id, broker, listener, bootstrap: `127.0.0.1:${listener.port}` }
}

/** Two brokers with topic `orders` (2 partitions) on each: partition 0 owned by node 1, partition 1 by node 2. */
async function twoNodes(t: TestContext) {
  const table = new MembershipTable()
  const one = await startNode(t, table, 1)
  const two = await startNode(t, table, 2)
  for (const node of [one, two]) await node.broker.createStream('orders', { partitions: 2 })
  const stream = one.broker.stream('orders')
  assert.equal(two.broker.stream('orders').id, stream.id, 'both catalogs give the topic the same id')
  const log = (p: number) => Stream.logName(stream.id, p)
  table.own(log(0), 1, 3)
  table.own(log(1), 2, 5)
  return { table, one, two, log }
}

async function metadata(port: number): Promise<MetadataResponse> {
  const raw = new RawClient(port)
  try {
    raw.send(ApiKey.Metadata, 9, 1, {
      topics: [{ name: 'orders' }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    })
    return (await raw.response<MetadataResponse>(ApiKey.Metadata, 9)).body
  } finally {
    raw.socket.destroy()
  }
}

function kafkaClient(bootstrap: string) {
  return new Kafka({
    clientId: 'cluster-routing',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    logCreator: silentKafkaLogs,
    retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 500 },
  })
}

test('Metadata names every live broker, each partition its owner as leader with the owner epoch; no live owner is LEADER_NOT_AVAILABLE', async (t) => {
  const { table, one, two, log } = await twoNodes(t)
  for (const asked of [one, two]) {
    const answer = await metadata(asked.listener.port)
    assert.deepEqual(
      answer.brokers.map((b) => [b.nodeId, b.port]),
      [
        [1, one.listener.port],
        [2, two.listener.port],
      ],
    )
    assert.equal(answer.controllerId, asked.id, 'admin requests go to the broker asked')
    const partitions = answer.topics[0]!.partitions.map((p) => [
      p.partitionIndex,
      p.errorCode,
      p.leaderId,
      p.leaderEpoch,
      p.replicaNodes,
    ])
    assert.deepEqual(partitions, [
      [0, 0, 1, 3, [1]],
      [1, 0, 2, 5, [2]],
    ])
  }
  // Node 2 leaves the member list (its lease ran out) before the controller moved its partition.
  table.members.delete(2)
  const orphaned = (await metadata(one.listener.port)).topics[0]!.partitions[1]!
  assert.equal(orphaned.errorCode, 5, 'LEADER_NOT_AVAILABLE')
  assert.equal(orphaned.leaderId, -1)
  table.owners.delete(log(1))
  assert.equal((await metadata(one.listener.port)).topics[0]!.partitions[1]!.errorCode, 5)
})

test('kafkajs produces to each partition through its owner, follows NOT_LEADER_OR_FOLLOWER when ownership moves, and consumes as a group', async (t) => {
  const { table, one, two, log } = await twoNodes(t)
  const kafka = kafkaClient(one.bootstrap)
  const producer = kafka.producer()
  await producer.connect()
  t.after(() => producer.disconnect())
  await producer.send({ topic: 'orders', acks: -1, messages: [{ value: 'a', partition: 0 }] })
  await producer.send({ topic: 'orders', acks: -1, messages: [{ value: 'b', partition: 1 }] })
  // Each append reached only the owner's storage.
  assert.deepEqual(
    one.broker.stream('orders').partitions.map((p) => p.highWatermark),
    [1, 0],
  )
  assert.deepEqual(
    two.broker.stream('orders').partitions.map((p) => p.highWatermark),
    [0, 1],
  )
  // Partition 1 moves to node 1: the producer's next send reaches node 2, is refused, and is re-routed.
  table.own(log(1), 1, 6)
  await producer.send({ topic: 'orders', acks: -1, messages: [{ value: 'c', partition: 1 }] })
  assert.equal(one.broker.stream('orders').partitions[1]!.highWatermark, 1)
  assert.equal(two.broker.stream('orders').partitions[1]!.highWatermark, 1, 'nothing more was appended on node 2')

  const consumer = kafka.consumer({ groupId: 'routing', sessionTimeout: 10_000, heartbeatInterval: 500 })
  await consumer.connect()
  t.after(() => consumer.disconnect())
  await consumer.subscribe({ topic: 'orders', fromBeginning: true })
  const seen: string[] = []
  const done = new Promise<void>((resolve) => {
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(String(message.value))
        if (seen.length === 2) resolve()
      },
    })
  })
  await done
  // Both partitions are now read from node 1, the owner of both.
  assert.deepEqual(seen.sort(), ['a', 'c'])
})

test('a broker that does not own a partition refuses produce, fetch, ListOffsets and OffsetForLeaderEpoch with NOT_LEADER_OR_FOLLOWER', async (t) => {
  const { one } = await twoNodes(t)
  const raw = new RawClient(one.listener.port)
  t.after(() => raw.socket.destroy())
  raw.send(ApiKey.ListOffsets, 4, 1, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [
      { name: 'orders', partitions: [0, 1].map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1 })) },
    ],
  })
  const listed = (
    await raw.response<{ topics: Array<{ partitions: Array<{ errorCode: number; leaderEpoch: number }> }> }>(
      ApiKey.ListOffsets,
      4,
    )
  ).body
  assert.deepEqual(
    listed.topics[0]!.partitions.map((p) => [p.errorCode, p.leaderEpoch]),
    [
      [0, 3],
      [6, -1],
    ],
  )
  raw.send(ApiKey.OffsetForLeaderEpoch, 4, 2, {
    replicaId: -1,
    topics: [
      {
        topic: 'orders',
        partitions: [
          { partition: 0, currentLeaderEpoch: 3, leaderEpoch: 2 },
          { partition: 0, currentLeaderEpoch: 2, leaderEpoch: 2 },
          { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 5 },
        ],
      },
    ],
  })
  const epochs = (
    await raw.response<{
      topics: Array<{ partitions: Array<{ errorCode: number; leaderEpoch: number; endOffset: number }> }>
    }>(ApiKey.OffsetForLeaderEpoch, 4)
  ).body.topics[0]!.partitions
  // An older epoch of the owner ends at the log end (logs are never truncated); a stale current epoch is fenced.
  assert.deepEqual(epochs[0], { errorCode: 0, partition: 0, leaderEpoch: 2, endOffset: 0 })
  assert.equal(epochs[1]!.errorCode, 74, 'FENCED_LEADER_EPOCH')
  assert.equal(epochs[2]!.errorCode, 6, 'NOT_LEADER_OR_FOLLOWER')
  raw.send(ApiKey.Fetch, 12, 3, {
    replicaId: -1,
    maxWaitMs: 5000,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: 'orders',
        partitions: [0, 1].map((partition) => ({
          partition,
          currentLeaderEpoch: -1,
          fetchOffset: 0,
          lastFetchedEpoch: -1,
          logStartOffset: -1,
          partitionMaxBytes: 1 << 20,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  })
  const fetched = (await raw.response<FetchResponse>(ApiKey.Fetch, 12)).body
  assert.deepEqual(
    fetched.responses[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode]),
    [
      [0, 0],
      [1, 6],
    ],
    'answered at once (no long poll) with partition 1 refused',
  )
  raw.send(ApiKey.Produce, 9, 4, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [
      {
        name: 'orders',
        partitionData: [{ index: 1, records: encodeBatch([{ key: null, value: Buffer.from('z'), headers: [] }]) }],
      },
    ],
  })
  const produced = (await raw.response<ProduceResponse>(ApiKey.Produce, 9)).body
  assert.equal(produced.responses[0]!.partitionResponses[0]!.errorCode, 6, 'NOT_LEADER_OR_FOLLOWER')
  // kcat (librdkafka) produces to partition 1 through node 1 as bootstrap: it goes to node 2, the leader.
  await run('kcat', ['-b', one.bootstrap, '-P', '-t', 'orders', '-p', '1', '-X', 'acks=all'], { input: 'x\ny\n' })
  const back = await run('kcat', [
    '-b',
    one.bootstrap,
    '-C',
    '-t',
    'orders',
    '-p',
    '1',
    '-o',
    'beginning',
    '-e',
    '-f',
    '%s\n',
  ])
  assert.deepEqual(back.stdout.trim().split('\n'), ['x', 'y'])
  assert.equal(one.broker.stream('orders').partitions[1]!.highWatermark, 0, 'node 1 appended nothing to partition 1')
})

test('FindCoordinator names the same broker on every broker; group requests elsewhere answer NOT_COORDINATOR', async (t) => {
  const { one, two } = await twoNodes(t)
  const coordinatorSeenBy = async (node: Node, key: string, keyType: number) => {
    const raw = new RawClient(node.listener.port)
    try {
      raw.send(ApiKey.FindCoordinator, 3, 1, { key, keyType })
      const { body } = await raw.response<{ errorCode: number; nodeId: number; port: number }>(
        ApiKey.FindCoordinator,
        3,
      )
      assert.equal(body.errorCode, 0)
      return body
    } finally {
      raw.socket.destroy()
    }
  }
  const chosen = new Set<number>()
  for (let i = 0; i < 16; i++) {
    const key = `group-${i}`
    const a = await coordinatorSeenBy(one, key, 0)
    const b = await coordinatorSeenBy(two, key, 0)
    assert.deepEqual(a, b, `${key}: one answer from both brokers`)
    assert.equal(a.port, (a.nodeId === 1 ? one : two).listener.port)
    chosen.add(a.nodeId)
    // The broker that is not the coordinator refuses the group's requests.
    const other = a.nodeId === 1 ? two : one
    const raw = new RawClient(other.listener.port)
    raw.send(ApiKey.Heartbeat, 3, 1, { groupId: key, generationId: 1, memberId: 'm', groupInstanceId: null })
    const beat = await raw.response<{ errorCode: number }>(ApiKey.Heartbeat, 3)
    raw.socket.destroy()
    assert.equal(beat.body.errorCode, 16, 'NOT_COORDINATOR')
  }
  assert.deepEqual([...chosen].sort(), [1, 2], '16 groups are spread over both brokers')
})
