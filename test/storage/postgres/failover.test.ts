// Failover: a primary with a synchronous standby (pg_basebackup -R, synchronous_standby_names), Wharf started
// with both in a multi-host URL. The primary is killed mid-stream and the standby promoted: Wharf walks the
// host list to the new primary by itself, the kafkajs acks=all producer continues, and every acknowledged
// message is there afterwards (synchronous replication: an ack means the standby had it).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { startPostgres } from '../../fixtures/postgres.ts'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('primary killed, synchronous standby promoted: Wharf follows the multi-host URL, no acknowledged message lost', {
  timeout: 300_000,
}, async (t) => {
  const primary = await startPostgres(t)
  if (primary === undefined) return
  await primary.createDatabase('ha')
  const standby = await primary.addStandby('s2')
  const admin = new pg.Client({ connectionString: primary.url })
  await admin.connect()
  await admin.query("ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (s2)'")
  await admin.query('SELECT pg_reload_conf()')
  let sync = ''
  for (let i = 0; i < 200 && sync !== 'quorum'; i++) {
    const { rows } = await admin.query("SELECT sync_state FROM pg_stat_replication WHERE application_name = 's2'")
    sync = rows[0]?.sync_state ?? ''
    if (sync !== 'quorum') await sleep(100)
  }
  await admin.end()
  assert.equal(sync, 'quorum', 'the standby replicates synchronously')

  const url = `postgres://wharf:wharf@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/ha?target_session_attrs=read-write`
  const { ports, wharf } = await startSpawned(t, ['kafka'], { args: ['--storage', url] })
  const kafka = new Kafka({
    brokers: [`127.0.0.1:${ports.kafka}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 1000 },
  })
  const topics = kafka.admin()
  await topics.connect()
  await topics.createTopics({ topics: [{ topic: 'payments', numPartitions: 1 }] })
  await topics.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  const acked = new Set<string>()
  let failures = 0
  let next = 0
  let stop = false
  const produce = (async () => {
    while (!stop) {
      const id = `p-${next++}`
      try {
        await producer.send({ topic: 'payments', acks: -1, messages: [{ value: id }] })
        acked.add(id)
      } catch {
        failures++
        await sleep(100)
      }
    }
  })()

  while (acked.size < 50) await sleep(20)
  await primary.stop('immediate')
  const killedAt = Date.now()
  const before = acked.size
  await standby.promote()
  const deadline = Date.now() + 120_000
  while (acked.size < before + 50 && Date.now() < deadline) await sleep(50)
  stop = true
  await produce
  await producer.disconnect()
  assert.ok(acked.size >= before + 50, `acks resumed on the promoted standby (${acked.size} after ${before})`)
  t.diagnostic(`${acked.size} acked, ${failures} sends failed; 50 more acks ${Date.now() - killedAt} ms after the kill`)

  const consumer = kafka.consumer({ groupId: 'check' })
  await consumer.connect()
  await consumer.subscribe({ topic: 'payments', fromBeginning: true })
  const seen = new Set<string>()
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.add(message.value!.toString())
    },
  })
  const until = Date.now() + 60_000
  while ([...acked].some((id) => !seen.has(id)) && Date.now() < until) await sleep(100)
  await consumer.disconnect()
  assert.equal(wharf.proc.exitCode, null, 'the broker survived the failover')
  assert.deepEqual(
    [...acked].filter((id) => !seen.has(id)),
    [],
    'acknowledged but missing',
  )
})
