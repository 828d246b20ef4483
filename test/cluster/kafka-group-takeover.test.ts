// A consumer group's coordinator is picked among the live brokers by its id; when it dies another broker takes
// the group over. That broker must serve the offsets the group committed through the dead one, which it only
// has after reading them back from the shared storage (it answers COORDINATOR_LOAD_IN_PROGRESS meanwhile).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rendezvous } from '../../src/protocols/kafka/cluster.ts'
import { startCluster } from '../fixtures/cluster.ts'
import { kafkaClient, sleep, waitForTopicOn } from './kafka-helpers.ts'

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

const GROUPS = Array.from({ length: 8 }, (_, i) => `takeover-${i}`)

test('a broker taking groups over from a SIGKILLed coordinator serves the offsets committed through it', {
  timeout: 300_000,
}, async (t) => {
  const cluster = await startCluster(t, {
    brokers: 2,
    setup: async (first) => {
      const admin = kafkaClient([`127.0.0.1:${first.ports.kafka}`]).admin()
      await admin.connect()
      await admin.createTopics({ topics: [{ topic: 'offs', numPartitions: 2 }], waitForLeaders: false })
      await admin.disconnect()
    },
  })
  if (cluster === undefined) return
  for (const broker of cluster.brokers) await waitForTopicOn(broker.ports.kafka!, 'offs', 2)
  const admin = kafkaClient(cluster.kafkaBootstrap).admin()
  await admin.connect()
  // Each group commits through its own coordinator, chosen by rendezvous hashing (the same on every broker):
  // the test is only worth something if broker 1 coordinated some of them.
  assert.ok(
    GROUPS.some((g) => rendezvous(`group:${g}`, [1, 2]) === 1),
    'no group is coordinated by the broker killed',
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
