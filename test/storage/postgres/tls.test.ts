// TLS to PostgreSQL: a server with ssl=on (the development certificates) whose pg_hba.conf accepts TLS
// connections only. Wharf with sslmode=verify-full and the CA works end to end (kafkajs round trip, its
// connections encrypted); sslmode=disable is refused by the server; a CA that did not sign the server's
// certificate fails with an error that says so. On a server without TLS, prefer falls back to plaintext and
// require fails.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { makeDevCertificates } from '../../../src/cli/certs.ts'
import { openPostgresStorage } from '../../../src/storage/postgres/index.ts'
import { sslSettings } from '../../../src/storage/postgres/tls.ts'
import { isWharfError } from '../../../src/util/errors.ts'
import { startPostgres } from '../../fixtures/postgres.ts'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'
import { devCertificates } from '../../fixtures/tls.ts'

test('sslmode maps to node-postgres ssl options as libpq means them', () => {
  const params = (query: Record<string, string>) => new Map(Object.entries(query))
  assert.deepEqual(sslSettings(params({ sslmode: 'disable' })), { mode: 'disable', ssl: false })
  assert.deepEqual(sslSettings(params({})), { mode: 'prefer', ssl: { rejectUnauthorized: false } })
  assert.deepEqual(sslSettings(params({ sslmode: 'require' })), { mode: 'require', ssl: { rejectUnauthorized: false } })
  const verifyFull = sslSettings(params({ sslmode: 'verify-full' })).ssl || {}
  assert.equal(verifyFull.rejectUnauthorized, true)
  assert.equal(verifyFull.checkServerIdentity, undefined, 'the host name is checked')
  const verifyCa = sslSettings(params({ sslmode: 'verify-ca' })).ssl || {}
  assert.equal(verifyCa.rejectUnauthorized, true)
  assert.equal(typeof verifyCa.checkServerIdentity, 'function', 'no host name check')
  assert.throws(
    () => sslSettings(params({ sslmode: 'sometimes' })),
    (e) => isWharfError(e, 'INVALID_CONFIG'),
  )
  assert.throws(
    () => sslSettings(params({ sslmode: 'verify-full', sslrootcert: '/nonexistent/ca.pem' })),
    (e) => isWharfError(e, 'INVALID_CONFIG') && /sslrootcert/.test((e as Error).message),
  )
})

test('Wharf on a TLS-only PostgreSQL: verify-full works, disable is refused, a wrong CA fails clearly', async (t) => {
  const certs = await devCertificates()
  const server = await startPostgres(t, {
    tls: { cert: certs.cert, key: certs.key },
    hba: 'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n',
  })
  if (server === undefined) return
  const tlsUrl = `${server.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.ca)}`

  // The server refuses plaintext: pg_hba.conf has hostssl lines only.
  await assert.rejects(
    openPostgresStorage(`${server.url}?sslmode=disable&connect_timeout=10`, { retentionCheckMs: 0 }),
    (e) => isWharfError(e, 'IO_ERROR') && /no pg_hba\.conf entry.*no encryption/.test((e as Error).message),
  )

  // A CA that did not sign the server's certificate.
  const other = mkdtempSync(join(tmpdir(), 'wharf-other-ca-'))
  t.after(() => rmSync(other, { recursive: true, force: true }))
  const otherCa = (await makeDevCertificates(other)).ca
  await assert.rejects(
    openPostgresStorage(`${server.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(otherCa)}`, {
      retentionCheckMs: 0,
    }),
    (e) =>
      isWharfError(e, 'IO_ERROR') &&
      /TLS \(sslmode=verify-full, sslrootcert=.*\) failed: .*certificate/.test((e as Error).message),
  )
  // The same through `wharf start`: it exits and says why.
  const refused = await startSpawned(t, ['kafka'], {
    args: ['--storage', `${server.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(otherCa)}`],
  }).then(
    () => 'started',
    (error: Error) => error.message,
  )
  assert.match(refused, /TLS \(sslmode=verify-full.*failed: .*certificate/)

  // verify-full with the right CA: a kafkajs round trip, over encrypted connections.
  const wharf = await startSpawned(t, ['kafka'], { args: ['--storage', tlsUrl] })
  const kafka = new Kafka({ brokers: [`127.0.0.1:${wharf.ports.kafka}`], logLevel: logLevel.NOTHING })
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({
    topic: 'tls',
    acks: -1,
    messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
  })
  await producer.disconnect()
  const consumer = kafka.consumer({ groupId: 'tls-group' })
  await consumer.connect()
  await consumer.subscribe({ topic: 'tls', fromBeginning: true })
  const seen: string[] = []
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${seen.length} messages`)), 60_000)
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString())
        if (seen.length === 20) {
          clearTimeout(timer)
          resolve()
        }
      },
    })
  })
  await consumer.disconnect()
  assert.deepEqual(
    seen,
    Array.from({ length: 20 }, (_, i) => `v${i}`),
  )
  const client = new pg.Client({
    connectionString: server.url,
    ssl: { ca: readFileSync(certs.ca), rejectUnauthorized: true },
  })
  client.on('error', () => {})
  await client.connect()
  try {
    const { rows } = await client.query<{ ssl: boolean }>(
      `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'wharf'`,
    )
    assert.ok(rows.length > 0, 'Wharf holds connections')
    assert.ok(
      rows.every((row) => row.ssl),
      'every Wharf connection is encrypted',
    )
  } finally {
    await client.end()
  }
  await wharf.stop()
})

test('on a server without TLS, sslmode=prefer falls back to plaintext and require fails', async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const engine = await openPostgresStorage(`${server.url}?sslmode=prefer`, { retentionCheckMs: 0 })
  try {
    const log = await engine.openLog('p-0')
    assert.equal((await log.appendRecords([{ value: Buffer.from('x') }])).baseOffset, 0)
  } finally {
    await engine.close()
  }
  await assert.rejects(
    openPostgresStorage(`${server.url}?sslmode=require`, { retentionCheckMs: 0 }),
    (e) => isWharfError(e, 'IO_ERROR') && /does not support SSL/.test((e as Error).message),
  )
})
