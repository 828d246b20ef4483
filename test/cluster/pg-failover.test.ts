// The database fails over under a cluster: a PostgreSQL primary with a synchronous standby, 2 brokers (cluster
// mode) on the multi-host URL of both (target_session_attrs=read-write), kafkajs producing acks=all to every
// partition and recording each acknowledged offset. The primary is stopped (immediate) and the standby
// promoted: the brokers find it by themselves (membership, ownership and appends resume), the producer
// continues, and every acknowledged message is read back at its offset (synchronous replication: an ack
// means the standby had it).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { startCluster } from '../fixtures/cluster.ts'
import { startPostgres } from '../fixtures/postgres.ts'
import {
  allRead,
  audit,
  consumeUntil,
  kafkaClient,
  producePerPartition,
  sleep,
  waitForTopicOn,
} from './kafka-helpers.ts'

const TOPIC = 'ha'
const PARTITIONS = 4

test('PostgreSQL primary stopped and its synchronous standby promoted under 2 brokers: they resume, every ack is read back', {
  timeout: 600_000,
}, async (t) => {
  const began = Date.now()
  const stage = (what: string) => t.diagnostic(`${what}: ${Date.now() - began} ms`)
  const primary = await startPostgres(t)
  if (primary === undefined) return
  await primary.createDatabase('ha')
  const standby = await primary.addStandby('s2')
  const admin = new pg.Client({ connectionString: primary.url })
  await admin.connect()
  await admin.query("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (s2)'")
  await admin.query('SELECT pg_reload_conf()')
  let sync = ''
  for (let i = 0; i < 200 && sync !== 's2:sync'; i++) {
    const { rows } = await admin.query("SELECT application_name || ':' || sync_state AS s FROM pg_stat_replication")
    sync = rows[0]?.s ?? ''
    if (sync !== 's2:sync') await sleep(100)
  }
  await admin.end()
  assert.equal(sync, 's2:sync', 'the standby replicates synchronously')

  stage('primary and synchronous standby up')
  const hosts = [primary.port, standby.port].map((port) => `127.0.0.1:${port}`).join(',')
  const url = `postgres://wharf:wharf@${hosts}/ha?target_session_attrs=read-write`
  const cluster = await startCluster(t, {
    brokers: 2,
    storage: { postgres: primary, url },
    setup: async (first) => {
      const creator = kafkaClient([`127.0.0.1:${first.ports.kafka}`]).admin()
      await creator.connect()
      try {
        await creator.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }], waitForLeaders: false })
      } finally {
        await creator.disconnect()
      }
    },
  })
  if (cluster === undefined) return
  for (const broker of cluster.brokers) await waitForTopicOn(broker.ports.kafka!, TOPIC, PARTITIONS)
  stage('brokers up')
  const kafka = kafkaClient(cluster.kafkaBootstrap)
  const sender = producePerPartition(kafka, TOPIC, PARTITIONS, 'ha')
  t.after(() => sender.stop())
  while (sender.acked.length < 80) await sleep(100)

  stage('producing')
  await primary.stop('immediate')
  const stoppedAt = Date.now()
  stage('primary stopped')
  await standby.promote()
  stage('standby promoted')
  const deadline = Date.now() + 120_000
  while (Array.from({ length: PARTITIONS }, (_, p) => p).some((p) => sender.ackedSince(p, stoppedAt).length < 10)) {
    assert.ok(Date.now() < deadline, 'producing did not resume on every partition within 120 s of the stop')
    await sleep(100)
  }
  const resumed = Array.from({ length: PARTITIONS }, (_, p) => sender.ackedSince(p, stoppedAt)[0]!.at - stoppedAt)
  console.log(
    `database failover: primary stopped -> first ack on the promoted standby ${Math.min(...resumed)} ms; every partition ${Math.max(...resumed)} ms`,
  )
  await sender.stop()
  for (const broker of cluster.brokers) assert.ok(broker.alive, `broker ${broker.nodeId} survived the failover`)

  stage('producing resumed')
  const consumed = await consumeUntil(kafka, TOPIC, 'ha-audit', allRead(sender.acked))
  stage('read back')
  const { problems, duplicates } = audit(sender.acked, consumed)
  console.log(`acked ${sender.acked.length}, failed sends ${sender.failed}, ids read twice ${duplicates}`)
  assert.deepEqual(problems, [])
  // Stopped here, while their database runs: the fixtures' hooks stop the server first.
  for (const broker of cluster.brokers) await broker.stop()
})
