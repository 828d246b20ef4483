// Failover: a primary with two standbys (pg_basebackup -R), s2 synchronous and s3 its potential replacement
// (synchronous_standby_names 'FIRST 1 (s2, s3)'), Wharf started with all three in a multi-host URL (the
// primary, s3, s2). The primary is killed mid-stream and s2 promoted: Wharf walks the host list by itself,
// past the dead primary and the standby s3, to s2; the kafkajs acks=all producer continues, and every
// acknowledged message is there afterwards (synchronous replication: an ack means s2 had it).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { startPostgres } from '../../fixtures/postgres.ts'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'
import { ackedLoad, unseen } from './kafka-load.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('primary killed, synchronous standby promoted: Wharf follows the multi-host URL, no acknowledged message lost', {
  timeout: 300_000,
}, async (t) => {
  const primary = await startPostgres(t)
  if (primary === undefined) return
  await primary.createDatabase('ha')
  const standby = await primary.addStandby('s2')
  const other = await primary.addStandby('s3')
  const admin = new pg.Client({ connectionString: primary.url })
  await admin.connect()
  await admin.query("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (s2, s3)'")
  await admin.query('SELECT pg_reload_conf()')
  let sync = ''
  const expected = 's2:sync,s3:potential'
  for (let i = 0; i < 200 && sync !== expected; i++) {
    const { rows } = await admin.query(
      "SELECT string_agg(application_name || ':' || sync_state, ',' ORDER BY application_name) AS s FROM pg_stat_replication",
    )
    sync = rows[0]?.s ?? ''
    if (sync !== expected) await sleep(100)
  }
  await admin.end()
  assert.equal(sync, expected, 's2 replicates synchronously, s3 stands by')

  const hosts = [primary.port, other.port, standby.port].map((port) => `127.0.0.1:${port}`).join(',')
  const url = `postgres://wharf:wharf@${hosts}/ha?target_session_attrs=read-write`
  const { ports, wharf } = await startSpawned(t, ['kafka'], { args: ['--storage', url] })
  const load = await ackedLoad(ports.kafka, 'payments')
  await load.untilAcked(50)
  await primary.stop('immediate')
  const killedAt = Date.now()
  const before = load.acked.size
  await standby.promote()
  await load.untilAcked(before + 50)
  const resumedMs = Date.now() - killedAt
  await load.stop()
  const { acked } = load
  assert.ok(acked.size >= before + 50, `acks resumed on the promoted standby (${acked.size} after ${before})`)
  t.diagnostic(`${acked.size} acked, ${load.failures()} sends failed; 50 more acks ${resumedMs} ms after the kill`)
  const lost = await unseen(load, 'payments')
  assert.equal(wharf.proc.exitCode, null, 'the broker survived the failover')
  assert.deepEqual(lost, [], 'acknowledged but missing')
})
