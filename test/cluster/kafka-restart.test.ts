// Three Wharf brokers over one PostgreSQL: kcat (librdkafka, acks=all) producing through each partition's leader,
// and the whole cluster SIGKILLed and restarted. Every acknowledged message must be read back afterwards.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { run } from '../protocols/kafka/harness.ts'
import {
  allRead,
  audit,
  clusterWithTopic,
  consumeUntil,
  kafkaClient,
  PARTITIONS,
  producePerPartition,
  sleep,
  spread,
  waitForLeaders,
} from './kafka-helpers.ts'

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
