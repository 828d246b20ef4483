// Three Wharf brokers over one PostgreSQL, driven by kafkajs (acks=all) and kcat: partitions spread over the
// brokers, a broker killed (SIGKILL) or paused past its lease (SIGSTOP, then SIGCONT) mid-stream, the whole
// cluster restarted. Every acknowledged message must be read back afterwards at the offset it was
// acknowledged with; ids read twice (an unacknowledged send retried) are counted, not failed.
import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { startCluster } from '../fixtures/cluster.ts'
import { run } from '../protocols/kafka/harness.ts'
import {
  allRead,
  audit,
  consumeUntil,
  kafkaClient,
  leaders,
  producePerPartition,
  sleep,
  waitForLeaders,
  waitForTopicOn,
} from './kafka-helpers.ts'

const PARTITIONS = 6
const spread = (found: Map<number, number>) =>
  found.size === PARTITIONS && ![...found.values()].includes(-1) && new Set(found.values()).size === 3

/** A cluster of 3 whose broker 1 created `topic` (6 partitions) before the others joined. */
async function clusterWithTopic(t: TestContext, topic: string) {
  const cluster = await startCluster(t, {
    setup: async (first) => {
      const admin = kafkaClient([`127.0.0.1:${first.ports.kafka}`]).admin()
      await admin.connect()
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: false })
      } finally {
        await admin.disconnect()
      }
    },
  })
  if (cluster === undefined) return undefined
  for (const broker of cluster.brokers) await waitForTopicOn(broker.ports.kafka!, topic, PARTITIONS)
  return { cluster, kafka: kafkaClient(cluster.kafkaBootstrap) }
}

test('SIGKILL of a partition owner mid-stream: its partitions move, the producer continues, every acked message is read back', {
  timeout: 600_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'failover')
  if (started === undefined) return
  const { cluster, kafka } = started
  const before = await waitForLeaders(kafka, 'failover', spread)
  const sender = producePerPartition(kafka, 'failover', PARTITIONS, 'kill')
  t.after(() => sender.stop())
  while (sender.acked.length < 120) await sleep(100)

  const victim = cluster.byNodeId(before.get(0)!)
  const moved = [...before].filter(([, leader]) => leader === victim.nodeId).map(([partition]) => partition)
  const killedAt = Date.now()
  await victim.kill()
  // Sends started once the process is gone: none can be answered by it (an answer already on its way when
  // it died would otherwise count as a produce after the kill).
  const goneAt = Date.now()
  // The producer keeps going: every moved partition is acknowledged again, on a live broker.
  const deadline = Date.now() + 60_000
  while (moved.some((p) => sender.ackedSince(p, goneAt).length < 10)) {
    assert.ok(Date.now() < deadline, `moved partitions ${moved} not produced to within 60 s of the kill`)
    await sleep(100)
  }
  const firstAcks = moved.map((p) => sender.ackedSince(p, goneAt)[0]!.at - killedAt)
  const failoverMs = Math.min(...firstAcks)
  const allMovedMs = Math.max(...firstAcks)
  console.log(
    `failover: kill -> first successful produce to a moved partition ${failoverMs} ms; all ${moved.length} moved partitions ${allMovedMs} ms`,
  )
  await sender.stop()
  const after = await leaders(kafka, 'failover')
  for (const p of moved) assert.notEqual(after.get(p), victim.nodeId, `partition ${p} left the killed broker`)

  const consumed = await consumeUntil(kafka, 'failover', 'audit-kill', allRead(sender.acked))
  const { problems, duplicates } = audit(sender.acked, consumed)
  console.log(`acked ${sender.acked.length}, failed sends ${sender.failed}, ids read twice ${duplicates}`)
  assert.deepEqual(problems, [])
})

test('SIGSTOP of an owner past its lease, then SIGCONT: its writes are fenced, no offset holds two messages, nothing acked is lost', {
  timeout: 600_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'paused')
  if (started === undefined) return
  const { cluster, kafka } = started
  const before = await waitForLeaders(kafka, 'paused', spread)
  const sender = producePerPartition(kafka, 'paused', PARTITIONS, 'pause')
  t.after(() => sender.stop())
  while (sender.acked.length < 120) await sleep(100)

  const victim = cluster.byNodeId(before.get(0)!)
  const owned = [...before].filter(([, leader]) => leader === victim.nodeId).map(([partition]) => partition)
  victim.signal('SIGSTOP')
  const pausedAt = Date.now()
  // Past its lease: the live brokers have given its partitions to others (Metadata from them says so).
  const survivors = cluster.brokers.filter((b) => b !== victim).map((b) => `127.0.0.1:${b.ports.kafka}`)
  const observer = kafkaClient(survivors, 'observer')
  await waitForLeaders(observer, 'paused', (found) => owned.every((p) => ![-1, victim.nodeId].includes(found.get(p)!)))
  while (owned.some((p) => sender.ackedSince(p, pausedAt).length < 5)) await sleep(100)
  victim.signal('SIGCONT')
  // The resumed broker finds its appends refused (fenced) and steps down; producing goes on meanwhile.
  const resumedAt = Date.now()
  while (owned.some((p) => sender.ackedSince(p, resumedAt).length < 10)) await sleep(100)
  await sender.stop()
  assert.ok(victim.alive, 'the resumed broker keeps running')

  const consumed = await consumeUntil(kafka, 'paused', 'audit-pause', allRead(sender.acked))
  const { problems, duplicates } = audit(sender.acked, consumed)
  console.log(`acked ${sender.acked.length}, failed sends ${sender.failed}, ids read twice ${duplicates}`)
  assert.deepEqual(problems, [])
})

test('kcat (librdkafka, acks=all) sees 3 brokers, produces to every partition through its leader and reads everything back', {
  timeout: 300_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'kcat')
  if (started === undefined) return
  const { cluster, kafka } = started
  await waitForLeaders(kafka, 'kcat', spread)
  const bootstrap = cluster.kafkaBootstrap.join(',')
  const listing = await run('kcat', ['-b', bootstrap, '-L', '-t', 'kcat'])
  assert.match(listing.stdout, /3 brokers:/)
  const sent: string[] = []
  for (let p = 0; p < PARTITIONS; p++) {
    const lines = Array.from({ length: 20 }, (_, i) => `kcat-${p}-${i}`)
    sent.push(...lines)
    await run('kcat', ['-b', bootstrap, '-P', '-t', 'kcat', '-p', String(p), '-X', 'acks=all'], {
      input: `${lines.join('\n')}\n`,
    })
  }
  const read = await run('kcat', ['-b', bootstrap, '-C', '-t', 'kcat', '-o', 'beginning', '-e', '-f', '%p %s\n'], {
    timeoutMs: 60_000,
  })
  const back = read.stdout.trim().split('\n')
  assert.deepEqual(back.map((l) => l.split(' ')[1]).sort(), [...sent].sort())
  for (const line of back) assert.equal(line.split(' ')[0], line.split('-')[1], `${line}: read from its partition`)
})

test('the whole cluster restarted (SIGKILL of all three): every acked message is still there', {
  timeout: 600_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'restart')
  if (started === undefined) return
  const { cluster, kafka } = started
  await waitForLeaders(kafka, 'restart', spread)
  const sender = producePerPartition(kafka, 'restart', PARTITIONS, 'restart')
  while (sender.acked.length < 300) await sleep(100)
  await sender.stop()
  await Promise.all(cluster.brokers.map((b) => b.kill()))
  await Promise.all(cluster.brokers.map((b) => b.restart()))
  const again = kafkaClient(cluster.kafkaBootstrap, 'after-restart')
  await waitForLeaders(again, 'restart', spread)
  const consumed = await consumeUntil(again, 'restart', 'audit-restart', allRead(sender.acked))
  const { problems } = audit(sender.acked, consumed)
  assert.deepEqual(problems, [])
  assert.equal(sender.failed, 0)
  assert.equal(new Set(consumed.map((c) => c.value)).size, sender.acked.length, 'nothing but what was acked')
})
