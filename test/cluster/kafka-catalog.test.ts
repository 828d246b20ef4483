// A topic created through one broker while the others run: every broker lists it, the controller spreads
// its partitions, and kafkajs produces to and consumes from all of them: the brokers apply each other's
// catalog changes (src/broker/catalog-sync).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startCluster } from '../fixtures/cluster.ts'
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
