// Three Wharf brokers over one PostgreSQL, driven by kafkajs (acks=all): partitions spread over the brokers, a
// broker killed (SIGKILL) or paused past its lease (SIGSTOP, then SIGCONT) mid-stream (kcat and a whole-cluster
// restart: kafka-restart.test.ts). Every acknowledged message must be read back afterwards at the offset it was
// acknowledged with; ids read twice (an unacknowledged send retried) are counted, not failed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  allRead,
  audit,
  clusterWithTopic,
  consumeUntil,
  kafkaClient,
  leaders,
  PARTITIONS,
  producePerPartition,
  sleep,
  spread,
  waitForLeaders,
} from './kafka-helpers.ts'

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
