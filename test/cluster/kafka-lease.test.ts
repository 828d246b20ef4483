// The membership lease and heartbeat come from `wharf start --cluster-lease-ms/--cluster-heartbeat-ms`: with a
// 3 s lease renewed every 500 ms, a SIGKILLed owner's partitions move and kafkajs (acks=all) produces to them
// again, and every acknowledged message is read back. The failover time (kill -> first acknowledged produce
// to a moved partition) is printed, not asserted: the machine's load decides it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  allRead,
  audit,
  clusterWithTopic,
  consumeUntil,
  leaders,
  PARTITIONS,
  producePerPartition,
  sleep,
  spread,
  waitForLeaders,
} from './kafka-helpers.ts'

const LEASE_MS = 3000
const HEARTBEAT_MS = 500

test(`a ${LEASE_MS} ms lease (heartbeat ${HEARTBEAT_MS} ms): a SIGKILLed owner's partitions move and kafkajs produces to them again`, {
  timeout: 300_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'lease', { leaseMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS })
  if (started === undefined) return
  const { cluster, kafka } = started
  for (const broker of cluster.brokers)
    assert.match(broker.wharf.output(), /wharf ready/, `broker ${broker.nodeId} started with the lease flags`)
  const before = await waitForLeaders(kafka, 'lease', spread)
  const sender = producePerPartition(kafka, 'lease', PARTITIONS, 'lease')
  t.after(() => sender.stop())
  while (sender.acked.length < 60) await sleep(100)

  const victim = cluster.byNodeId(before.get(0)!)
  const moved = [...before].filter(([, leader]) => leader === victim.nodeId).map(([partition]) => partition)
  const killedAt = Date.now()
  await victim.kill()
  const goneAt = Date.now()
  const deadline = Date.now() + 60_000
  while (moved.some((p) => sender.ackedSince(p, goneAt).length < 5)) {
    assert.ok(Date.now() < deadline, `moved partitions ${moved} not produced to within 60 s of the kill`)
    await sleep(50)
  }
  const firstAcks = moved.map((p) => sender.ackedSince(p, goneAt)[0]!.at - killedAt)
  console.log(
    `failover with lease ${LEASE_MS} ms / heartbeat ${HEARTBEAT_MS} ms: kill -> first successful produce to a moved partition ${Math.min(...firstAcks)} ms; all ${moved.length} moved partitions ${Math.max(...firstAcks)} ms`,
  )
  await sender.stop()
  const after = await leaders(kafka, 'lease')
  for (const p of moved) assert.notEqual(after.get(p), victim.nodeId, `partition ${p} left the killed broker`)

  const consumed = await consumeUntil(kafka, 'lease', 'audit-lease', allRead(sender.acked))
  const { problems, duplicates } = audit(sender.acked, consumed)
  console.log(`acked ${sender.acked.length}, failed sends ${sender.failed}, ids read twice ${duplicates}`)
  assert.deepEqual(problems, [])
})
