// PostgreSQL going away under a running broker: appends fail with a retriable error (Kafka
// KAFKA_STORAGE_ERROR, which kafkajs retries), nothing acknowledged is lost, and Wharf reconnects by itself
// when the database is back. Also: the multi-host URL form skips a host that is down, and retention deletes
// chunk rows (the table stays bounded).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import amqp from 'amqplib'
import pg from 'pg'
import { openPostgresStorage } from '../../../src/storage/postgres/index.ts'
import { startPostgres } from '../../fixtures/postgres.ts'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'
import { freePort } from '../../fixtures/wharf-process.ts'
import { batchOf } from '../helpers.ts'
import { ackedLoad, unseen } from './kafka-load.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('PostgreSQL stopped and restarted while kafkajs produces acks=all: every acknowledged message is there', {
  timeout: 300_000,
}, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const url = await server.createDatabase('outage')
  const { ports, wharf } = await startSpawned(t, ['kafka'], { args: ['--storage', url] })
  const load = await ackedLoad(ports.kafka, 'events')
  const { acked } = load
  await load.untilAcked(50)
  await server.stop('fast')
  const whileDown = acked.size
  await sleep(3000)
  await server.start()
  // The broker finds the database again by itself: acknowledgements resume.
  await load.untilAcked(whileDown + 50)
  await load.stop()
  const failures = load.failures()
  assert.ok(acked.size >= whileDown + 50, `acks resumed after the restart (${acked.size} after ${whileDown})`)
  assert.ok(acked.size - whileDown < 10 || failures > 0, 'the outage was felt by the producer')
  const lost = await unseen(load, 'events')
  t.diagnostic(`${acked.size} acknowledged (${whileDown} before the stop), ${failures} sends failed`)
  assert.equal(wharf.proc.exitCode, null, 'the broker survived the outage')
  assert.deepEqual(lost, [], `acknowledged but missing (of ${acked.size}; ${failures} sends failed)`)
})

test('PostgreSQL stopped and restarted while amqplib publishes with confirms: every confirmed message is consumed', {
  timeout: 300_000,
}, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const url = await server.createDatabase('outage_amqp')
  const { ports, wharf } = await startSpawned(t, ['amqp'], { args: ['--storage', url] })
  const amqpUrl = `amqp://guest:guest@127.0.0.1:${ports.amqp}`
  const setup = await amqp.connect(amqpUrl)
  await (await setup.createChannel()).assertQueue('orders', { durable: true })
  await setup.close()

  const confirmed = new Set<string>()
  let refused = 0
  let next = 0
  let stop = false
  // One publish at a time with its confirm; a refused publish (nack, or the channel or connection closed by
  // the broker) is not counted, and the publisher reconnects as an application would.
  const publish = (async () => {
    while (!stop) {
      let connection: amqp.ChannelModel | undefined
      try {
        connection = await amqp.connect(amqpUrl)
        connection.on('error', () => {})
        const channel = await connection.createConfirmChannel()
        channel.on('error', () => {})
        while (!stop) {
          const id = `o-${next++}`
          await new Promise<void>((resolve, reject) =>
            channel.sendToQueue('orders', Buffer.from(id), { persistent: true }, (error) =>
              error ? reject(error) : resolve(),
            ),
          )
          confirmed.add(id)
        }
        await connection.close()
      } catch {
        refused++
        await connection?.close().catch(() => {})
        await sleep(200)
      }
    }
  })()

  while (confirmed.size < 50) await sleep(20)
  await server.stop('fast')
  const whileDown = confirmed.size
  await sleep(3000)
  await server.start()
  const deadline = Date.now() + 120_000
  while (confirmed.size < whileDown + 50 && Date.now() < deadline) await sleep(50)
  stop = true
  await publish
  assert.ok(confirmed.size >= whileDown + 50, `confirms resumed (${confirmed.size} after ${whileDown})`)
  t.diagnostic(`${confirmed.size} confirmed (${whileDown} before the stop), ${refused} publisher failures`)

  const connection = await amqp.connect(amqpUrl)
  const channel = await connection.createChannel()
  const seen = new Set<string>()
  await channel.consume('orders', (msg) => {
    if (msg === null) return
    seen.add(msg.content.toString())
    channel.ack(msg)
  })
  const until = Date.now() + 60_000
  while ([...confirmed].some((id) => !seen.has(id)) && Date.now() < until) await sleep(100)
  await connection.close()
  assert.equal(wharf.proc.exitCode, null, 'the broker survived the outage')
  assert.deepEqual(
    [...confirmed].filter((id) => !seen.has(id)),
    [],
    'confirmed but missing',
  )
})

test('a multi-host URL skips a host that is down; retention deletes chunk rows', { timeout: 120_000 }, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  await server.createDatabase('hosts')
  const dead = await freePort()
  const url = `postgres://wharf:wharf@127.0.0.1:${dead},127.0.0.1:${server.port}/hosts?target_session_attrs=read-write`
  const engine = await openPostgresStorage(url, { retentionCheckMs: 0 })
  t.after(() => engine.close())
  const log = await engine.openLog('p-0', { retentionBytes: 4096 })
  for (let i = 0; i < 40; i++) await log.append([batchOf(`r${i}`, 1, 500)])
  const rows = async () => {
    const client = new pg.Client({ connectionString: `postgres://wharf:wharf@127.0.0.1:${server.port}/hosts` })
    await client.connect()
    try {
      return Number((await client.query('SELECT count(*) AS n FROM wharf_chunk')).rows[0].n)
    } finally {
      await client.end()
    }
  }
  assert.equal(await rows(), 40)
  const removed = await log.enforceRetention()
  assert.ok(removed > 0)
  const left = await rows()
  assert.ok(left < 10 && left === log.segmentCount, `rows left: ${left}`)
  assert.ok(log.sizeBytes <= 4096 + 1024)
})
