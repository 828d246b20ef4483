// A consumer group's coordinator is picked among the live brokers by its id; when it dies, or brokers join or
// leave, another broker takes the group over. That broker must serve the offsets the group committed through
// the previous one, which it only has after reading them back from the shared storage (it answers
// COORDINATOR_LOAD_IN_PROGRESS meanwhile); and every OffsetCommit is acknowledged only once it is in PostgreSQL.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Kafka } from 'kafkajs'
import pg from 'pg'
import { rendezvous } from '../../src/protocols/kafka/cluster.ts'
import { CursorTable } from '../../src/storage/local/cursors/cursor-store.ts'
import { clusterWithTopic, kafkaClient, PARTITIONS, sleep } from './kafka-helpers.ts'

/** kafkajs's admin does not retry a retriable answer (COORDINATOR_LOAD_IN_PROGRESS); its consumers do. */
async function retrying<T>(call: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await call()
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable !== true || Date.now() > deadline) throw error
      await sleep(200)
    }
  }
}

// Coordinated by both brokers of a two-broker cluster (checked below); each setOffsets takes about 8 s.
const GROUPS = Array.from({ length: 3 }, (_, i) => `takeover-${i}`)

test('a broker taking groups over from a SIGKILLed coordinator serves the offsets committed through it', {
  timeout: 300_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'offs', { brokers: 2 }, 2)
  if (started === undefined) return
  const { cluster } = started
  const admin = kafkaClient(cluster.kafkaBootstrap).admin()
  await admin.connect()
  // Each group commits through its own coordinator, chosen by rendezvous hashing (the same on every broker):
  // the test is only worth something if broker 1 coordinated some of them.
  assert.ok(
    GROUPS.some((g) => rendezvous(`group:${g}`, [1, 2]) === 1) &&
      GROUPS.some((g) => rendezvous(`group:${g}`, [1, 2]) === 2),
    'the groups are not coordinated by both brokers',
  )
  for (const [i, groupId] of GROUPS.entries())
    await admin.setOffsets({
      groupId,
      topic: 'offs',
      partitions: [
        { partition: 0, offset: String(10 + i) },
        { partition: 1, offset: String(100 + i) },
      ],
    })
  await admin.disconnect()

  await cluster.byNodeId(1).kill()
  const survivor = kafkaClient([`127.0.0.1:${cluster.byNodeId(2).ports.kafka}`]).admin()
  await survivor.connect()
  try {
    for (const [i, groupId] of GROUPS.entries()) {
      const [found] = await retrying(() => survivor.fetchOffsets({ groupId, topics: ['offs'] }))
      const offsets = Object.fromEntries(found!.partitions.map((p) => [p.partition, p.offset]))
      assert.deepEqual(offsets, { 0: String(10 + i), 1: String(100 + i) }, `group ${groupId}`)
    }
  } finally {
    await survivor.disconnect()
  }
})

/**
 * One record per partition every 100 ms (acks=all) until stopped, recording the acknowledged values: a pace a
 * consumer committing every record keeps up with, so the test waits on the moves, not on a backlog.
 */
function pacedProducer(kafka: Kafka, topic: string) {
  const producer = kafka.producer({ allowAutoTopicCreation: false, metadataMaxAge: 2000 })
  const acked: string[] = []
  let stopped = false
  const running = (async () => {
    await producer.connect()
    for (let n = 0; !stopped; n++) {
      const messages = Array.from({ length: PARTITIONS }, (_, partition) => ({
        partition,
        value: `j-${partition}-${n}`,
      }))
      try {
        await producer.send({ topic, acks: -1, messages })
        acked.push(...messages.map((m) => m.value))
      } catch {
        // not acknowledged after all retries: not expected to be read
      }
      await sleep(100)
    }
    await producer.disconnect()
  })()
  return {
    acked,
    async stop() {
      stopped = true
      await running
    },
  }
}

interface Delivery {
  value: string
  partition: number
  offset: number
  at: number
}

test('a kafkajs group consuming through its coordinator SIGKILL re-reads nothing it had committed', {
  timeout: 300_000,
}, async (t) => {
  const topic = 'gk'
  const started = await clusterWithTopic(t, topic, { leaseMs: 4000, heartbeatMs: 1000 })
  if (started === undefined) return
  const { cluster, kafka } = started
  // A group coordinated by broker 2, the one killed (all three brokers lead some of the partitions too).
  const groupId = Array.from({ length: 50 }, (_, i) => `gk-${i}`).find(
    (g) => rendezvous(`group:${g}`, [1, 2, 3]) === 2,
  )!
  const producer = kafka.producer({ allowAutoTopicCreation: false, metadataMaxAge: 2000 })
  await producer.connect()
  const produce = async (round: string) => {
    for (let partition = 0; partition < PARTITIONS; partition++)
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 10 }, (_, n) => ({ partition, value: `${round}-${partition}-${n}` })),
      })
  }
  await produce('before')

  const deliveries: Delivery[] = []
  /** Per partition, the next offset as of the last commit the coordinator acknowledged. */
  const committed = new Map<number, number>()
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 1000 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset)
        deliveries.push({ value: String(message.value), partition, offset, at: Date.now() })
        // A commit that fails throws out of eachMessage: kafkajs delivers the message again (it was not committed).
        await consumer.commitOffsets([{ topic, partition, offset: String(offset + 1) }])
        committed.set(partition, Math.max(committed.get(partition) ?? 0, offset + 1))
      },
    })
    const readAll = async (values: string[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const seen = new Set(deliveries.map((d) => d.value))
        const missing = values.filter((v) => !seen.has(v))
        if (missing.length === 0) return
        if (Date.now() > deadline) throw new Error(`never read ${missing.length} records, e.g. ${missing.slice(0, 3)}`)
        await sleep(200)
      }
    }
    const ids = (round: string) =>
      Array.from({ length: PARTITIONS }, (_, p) => Array.from({ length: 10 }, (_, n) => `${round}-${p}-${n}`)).flat()
    await readAll(ids('before'), 120_000)
    // Every record of the first round committed (acknowledged by the coordinator) before the kill.
    const deadline = Date.now() + 60_000
    while ([...Array(PARTITIONS).keys()].some((p) => (committed.get(p) ?? 0) < 10)) {
      assert.ok(Date.now() < deadline, `commits never acknowledged: ${JSON.stringify([...committed])}`)
      await sleep(100)
    }
    const committedAtKill = new Map(committed)

    const killedAt = Date.now()
    await cluster.byNodeId(2).kill()
    await produce('after')
    await readAll(ids('after'), 180_000)

    const reread = deliveries.filter((d) => d.at > killedAt && d.offset < committedAtKill.get(d.partition)!)
    assert.deepEqual(
      reread.map((d) => `${d.value}@${d.partition}/${d.offset}`),
      [],
      'records committed before the kill were delivered again',
    )
  } finally {
    await consumer.disconnect()
    await producer.disconnect()
  }
})

test('a kafkajs group committing while its coordinator moves to a joining broker and back re-reads nothing', {
  timeout: 300_000,
}, async (t) => {
  const topic = 'gj'
  const started = await clusterWithTopic(t, topic, { leaseMs: 4000, heartbeatMs: 1000 })
  if (started === undefined) return
  const { cluster, kafka } = started
  // Coordinated by broker 3 while it is a member, by broker 1 or 2 while it is not.
  const groupId = Array.from({ length: 50 }, (_, i) => `gj-${i}`).find(
    (g) => rendezvous(`group:${g}`, [1, 2, 3]) === 3,
  )!
  await cluster.byNodeId(3).stop()

  const sends = pacedProducer(kafka, topic)
  const deliveries: Delivery[] = []
  const committed = new Map<number, number>()
  /** Deliveries of an offset below one whose commit the coordinator had already acknowledged. */
  const rereads: string[] = []
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 1000 })
  const joins: number[] = []
  consumer.on(consumer.events.GROUP_JOIN, () => joins.push(Date.now()))
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset)
        if (offset < (committed.get(partition) ?? 0))
          rereads.push(`${message.value}@${partition}/${offset} (committed ${committed.get(partition)})`)
        deliveries.push({ value: String(message.value), partition, offset, at: Date.now() })
        await consumer.commitOffsets([{ topic, partition, offset: String(offset + 1) }])
        committed.set(partition, Math.max(committed.get(partition) ?? 0, offset + 1))
      },
    })
    /** Waits until the consumer joined the group again (at its new coordinator) after `since`. */
    const joinedAfter = async (since: number, what: string) => {
      const deadline = Date.now() + 90_000
      while (!joins.some((at) => at > since)) {
        assert.ok(Date.now() < deadline, `the consumer never joined again after ${what}`)
        await sleep(200)
      }
    }
    await sleep(5000)
    const joinedAt = Date.now()
    await cluster.byNodeId(3).restart()
    await joinedAfter(joinedAt, 'broker 3 joined')
    await sleep(3000)
    // Broker 3 leaves: the broker that coordinated the group before has forgotten its members and generation,
    // so the consumer joins again there and reads the offsets committed through broker 3.
    const leftAt = Date.now()
    await cluster.byNodeId(3).stop()
    await joinedAfter(leftAt, 'broker 3 left')
    await sleep(3000)
    await sends.stop()

    const deadline = Date.now() + 120_000
    for (;;) {
      const seen = new Set(deliveries.map((d) => d.value))
      const missing = sends.acked.filter((id) => !seen.has(id))
      if (missing.length === 0) break
      assert.ok(Date.now() < deadline, `never read ${missing.length} acknowledged records`)
      await sleep(200)
    }
    console.log(
      'DEBUGT',
      joins.filter((at) => at > joinedAt).length,
      rereads.length,
      deliveries.filter((d) => d.at > joinedAt).length,
    )
    assert.ok(
      deliveries.some((d) => d.at > joinedAt),
      'the group consumed nothing while its coordinator moved',
    )
    assert.deepEqual(rereads, [], 'records committed were delivered again')
  } finally {
    await consumer.disconnect()
  }
})

test('an OffsetCommit is acknowledged only once the offset is in PostgreSQL', { timeout: 300_000 }, async (t) => {
  const started = await clusterWithTopic(t, 'durable', { brokers: 1 }, 1)
  if (started === undefined) return
  const { cluster } = started
  const db = new pg.Client({ connectionString: cluster.url })
  await db.connect()
  const admin = kafkaClient(cluster.kafkaBootstrap).admin()
  await admin.connect()
  try {
    // Two commits: kafkajs's setOffsets runs a consumer that joins the group (3 s initial rebalance delay) and
    // ends its fetch long poll (5 s) before it returns, so each takes about 8 s.
    for (let offset = 1; offset <= 2; offset++) {
      await retrying(() =>
        admin.setOffsets({
          groupId: 'durable-group',
          topic: 'durable',
          partitions: [{ partition: 0, offset: String(offset) }],
        }),
      )
      // Read straight after the acknowledgement: a commit acknowledged before its transaction committed shows
      // the previous offset (or none).
      const { rows } = await db.query<{ state: Buffer }>('SELECT state FROM wharf_cursor WHERE key = $1', [
        Buffer.from('g\u0000durable-group\u0000durable\u00000'),
      ])
      const stored = new CursorTable()
      for (const row of rows) stored.apply(row.state)
      assert.equal(stored.cursors.get('g\u0000durable-group\u0000durable\u00000')?.commit?.offset, offset)
    }
  } finally {
    await admin.disconnect()
    await db.end()
  }
})
