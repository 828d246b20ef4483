// What an operator sees of a cluster: each broker's start log names its node id, and GET /api/v1/cluster
// lists the node id, the live members with the endpoints they advertise and the owner of every stream
// partition, the same owners on every broker.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startCluster } from '../fixtures/cluster.ts'
import { kafkaClient, sleep } from './kafka-helpers.ts'

interface ClusterAnswer {
  nodeId: number
  members: Array<{ id: number; endpoints: Record<string, { host: string; port: number }> }>
  streams: Array<{ name: string; owners: Array<{ owner: number; epoch: number } | null> }>
}

test('GET /api/v1/cluster and the start log show node ids, members, their endpoints and partition owners', {
  timeout: 300_000,
}, async (t) => {
  const cluster = await startCluster(t, {
    brokers: 2,
    listeners: ['kafka', 'http'],
    setup: async (first) => {
      const admin = kafkaClient([`127.0.0.1:${first.ports.kafka}`]).admin()
      await admin.connect()
      await admin.createTopics({ topics: [{ topic: 'shown', numPartitions: 4 }], waitForLeaders: false })
      await admin.disconnect()
    },
  })
  if (cluster === undefined) return
  for (const broker of cluster.brokers)
    assert.match(broker.wharf.output(), new RegExp(`"cluster":\\{"nodeId":${broker.nodeId},"members":\\[`))
  const ask = async (nodeId: number): Promise<ClusterAnswer> => {
    const response = await fetch(`http://127.0.0.1:${cluster.byNodeId(nodeId).ports.http}/api/v1/cluster`)
    assert.equal(response.status, 200)
    return (await response.json()) as ClusterAnswer
  }
  // Both brokers live, and the controller has given the 4 partitions to both.
  const deadline = Date.now() + 60_000
  let answer = await ask(2)
  const settled = (a: ClusterAnswer) => {
    const owners = a.streams.find((s) => s.name === 'shown')?.owners ?? []
    return a.members.length === 2 && owners.length === 4 && new Set(owners.map((o) => o?.owner)).size === 2
  }
  while (!settled(answer)) {
    assert.ok(Date.now() < deadline, `never settled: ${JSON.stringify(answer)}`)
    await sleep(250)
    answer = await ask(2)
  }
  assert.equal(answer.nodeId, 2)
  assert.deepEqual(
    answer.members.map((m) => [m.id, m.endpoints.kafka?.port, m.endpoints.http?.port]),
    cluster.brokers.map((b) => [b.nodeId, b.ports.kafka, b.ports.http]),
  )
  const fromOne = await ask(1)
  assert.equal(fromOne.nodeId, 1)
  assert.deepEqual(
    fromOne.streams.find((s) => s.name === 'shown'),
    answer.streams.find((s) => s.name === 'shown'),
    'the same owners and epochs on both brokers',
  )
})
