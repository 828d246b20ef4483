// A topic created through one broker while the others run: every broker lists it, the controller spreads
// its partitions, and kafkajs produces to and consumes from all of them: the brokers apply each other's
// catalog changes (src/broker/catalog-sync). Partitions added through one broker are assigned and served, and a
// topic deleted through another is gone from every broker.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ClusterBroker, startCluster } from '../fixtures/cluster.ts'
import {
  allRead,
  audit,
  consumeUntil,
  kafkaClient,
  producePerPartition,
  sleep,
  waitForLeaders,
  waitForTopicOn,
} from './kafka-helpers.ts'

test('a topic created on one running broker is served by all three', {
  timeout: 300_000,
}, async (t) => {
  const cluster = await startCluster(t)
  if (cluster === undefined) return
  const kafka = kafkaClient(cluster.kafkaBootstrap)
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'late', numPartitions: 6 }], waitForLeaders: false })
  await admin.disconnect()
  for (const broker of cluster.brokers) await waitForTopicOn(broker.ports.kafka!, 'late', 6)
  await waitForLeaders(kafka, 'late', (found) => found.size === 6 && new Set(found.values()).size === 3)
  const sender = producePerPartition(kafka, 'late', 6, 'late')
  while (sender.acked.length < 60) await sleep(100)
  await sender.stop()
  const consumed = await consumeUntil(kafka, 'late', 'late-audit', allRead(sender.acked))
  assert.deepEqual(audit(sender.acked, consumed).problems, [])
})

test('partitions added through one broker and a topic deleted through another reach every broker', {
  timeout: 300_000,
}, async (t) => {
  const cluster = await startCluster(t, { brokers: 2 })
  if (cluster === undefined) return
  const [a, b] = cluster.brokers as [ClusterBroker, ClusterBroker]
  const adminOn = async (broker: ClusterBroker) => {
    const admin = kafkaClient([`127.0.0.1:${broker.ports.kafka}`]).admin()
    await admin.connect()
    t.after(() => admin.disconnect())
    return admin
  }
  const [viaA, viaB] = [await adminOn(a), await adminOn(b)]
  await viaA.createTopics({ topics: [{ topic: 'grows', numPartitions: 2 }], waitForLeaders: false })
  await waitForTopicOn(b.ports.kafka!, 'grows', 2)
  await viaB.createPartitions({ topicPartitions: [{ topic: 'grows', count: 4 }] })
  for (const broker of cluster.brokers) await waitForTopicOn(broker.ports.kafka!, 'grows', 4)
  const kafka = kafkaClient(cluster.kafkaBootstrap)
  await waitForLeaders(kafka, 'grows', (found) => found.size === 4 && ![...found.values()].includes(-1))
  const sender = producePerPartition(kafka, 'grows', 4, 'grows')
  while (sender.acked.filter((x) => x.partition >= 2).length < 20) await sleep(100)
  await sender.stop()
  const consumed = await consumeUntil(kafka, 'grows', 'grows-audit', allRead(sender.acked))
  assert.deepEqual(audit(sender.acked, consumed).problems, [])

  await viaB.deleteTopics({ topics: ['grows'] })
  for (const admin of [viaA, viaB]) {
    for (const deadline = Date.now() + 15_000; (await admin.listTopics()).includes('grows'); await sleep(200))
      assert.ok(Date.now() < deadline, 'the topic is gone from every broker')
  }
})
