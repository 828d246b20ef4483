// wharf_storage_fsync_seconds on the PostgreSQL engine: each append transaction of a durable stream
// (durability always) is observed up to its COMMIT, the durable point, as the local engine observes each
// fdatasync; a `wharf start` on a private PostgreSQL, kafkajs producing acks=all, /metrics scraped before and after.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { startPostgres } from '../../fixtures/postgres.ts'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'
import { parseExposition, total } from '../../protocols/http/metrics/promql.ts'

async function fsyncCount(httpPort: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/metrics`)
  assert.equal(response.status, 200)
  const scrape = parseExposition(await response.text())
  assert.equal(scrape.types.get('wharf_storage_fsync_seconds'), 'histogram')
  return total(scrape, 'wharf_storage_fsync_seconds_count')
}

test('PostgreSQL: every acks=all produce to a durable topic is counted in wharf_storage_fsync_seconds', {
  timeout: 180_000,
}, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const url = await server.createDatabase('fsync_metric')
  const { ports } = await startSpawned(t, ['kafka', 'http'], { args: ['--storage', url, '--durability', 'always'] })
  const kafka = new Kafka({
    clientId: 'fsync-metric',
    brokers: [`127.0.0.1:${ports.kafka}`],
    logLevel: logLevel.NOTHING,
  })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 1 }] })
  await admin.disconnect()
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  t.after(() => producer.disconnect())

  const before = await fsyncCount(ports.http)
  // One at a time: each acknowledged produce is its own append transaction.
  for (let i = 0; i < 5; i++) await producer.send({ topic: 'durable', acks: -1, messages: [{ value: `m${i}` }] })
  const after = await fsyncCount(ports.http)
  t.diagnostic(`fsync observations: ${before} before, ${after} after 5 produces`)
  assert.ok(after >= before + 5, `one observation per acknowledged append at least (${before} -> ${after})`)
})
