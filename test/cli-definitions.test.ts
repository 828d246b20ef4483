// `wharf definitions export|import` as child processes: a broker's topology, users, ACLs and schemas go to
// one file (credentials as hashes, never the password) and into a fresh broker, whose own export then
// matches; a second import changes nothing; the copied user logs in with its password over REST and with
// SCRAM over Kafka (kafkajs), so the hashes travelled intact. Plus `wharf bench` over REST.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { runCli, startCliBroker } from './fixtures/cli-broker.ts'

async function call(url: string, method: string, path: string, body?: unknown, auth?: string) {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/vnd.schemaregistry.v1+json'
  if (auth !== undefined) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  // biome-ignore lint/suspicious/noExplicitAny: untyped JSON replies
  return { status: res.status, json: (await res.json()) as any }
}

const PASSWORD = 'alice-secret-pw'

test('definitions export from one broker, import into a fresh one, compare; import twice; users log in', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-definitions-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const a = await startCliBroker(t)
  const avro = JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }] })
  assert.equal((await call(a.url, 'POST', '/subjects/orders-value/versions', { schema: avro })).status, 200)
  for (const [path, body] of [
    ['/streams', { name: 'orders', partitions: 3, retentionMs: 3_600_000, schemaSubject: 'orders-value' }],
    ['/queues', { name: 'jobs.dead' }],
    ['/queues', { name: 'jobs', maxDeliveries: 3, deadLetter: { queue: 'jobs.dead' } }],
    ['/exchanges', { name: 'logs', type: 'topic' }],
    ['/bindings', { source: 'logs', destination: { kind: 'queue', name: 'jobs' }, key: 'app.*' }],
    ['/users', { name: 'alice', password: PASSWORD, tags: ['monitoring'] }],
    [
      '/acls',
      {
        principal: 'User:alice',
        operation: 'Read',
        resourceType: 'Topic',
        resourceName: 'orders',
        patternType: 'Literal',
      },
    ],
  ] as const) {
    const reply = await call(a.url, 'POST', `/api/v1${path}`, body)
    assert.ok(reply.status < 300, `${path}: ${JSON.stringify(reply.json)}`)
  }

  const file = join(dir, 'definitions.json')
  const exported = await runCli(['definitions', 'export', file, '--url', a.url])
  assert.equal(exported.code, 0, exported.stderr)
  assert.match(exported.stderr, /exported \d+ streams, 2 queues, 1 exchanges, 1 bindings, \d+ users, 1 acls, 1 schemas/)
  assert.equal(statSync(file).mode & 0o777, 0o600, 'credentials file readable by its owner only')
  const text = readFileSync(file, 'utf8')
  assert.ok(!text.includes(PASSWORD), 'no plain password')
  const document = JSON.parse(text)
  const orders = document.streams.find((s: { name: string }) => s.name === 'orders')
  assert.equal(orders.config.partitions, 3)
  assert.equal(orders.config.schemaSubject, 'orders-value')
  assert.ok(
    !document.streams.some((s: { name: string }) => s.name === 'jobs'),
    "a queue's own stream goes with the queue",
  )
  const alice = document.users.find((u: { name: string }) => u.name === 'alice')
  assert.match(alice.passwordHash, /^scrypt\$/)
  assert.ok(alice.scram['SCRAM-SHA-256'].storedKey)

  const b = await startCliBroker(t)
  const imported = await runCli(['definitions', 'import', file, '--url', b.url])
  assert.equal(imported.code, 0, imported.stderr)
  assert.match(imported.stderr, /importing \d+ streams, 2 queues/)
  assert.match(imported.stdout, /^queues\tcreated=2\texisting=0$/m)
  assert.match(imported.stdout, /^schemas\tcreated=1\texisting=0$/m)
  const again = await runCli(['definitions', 'import', file, '--url', b.url])
  assert.equal(again.code, 0, again.stderr)
  for (const kind of ['streams', 'queues', 'exchanges', 'bindings', 'acls', 'schemas'])
    assert.match(
      again.stdout,
      new RegExp(`^${kind}\\tcreated=0\\texisting=\\d+$`, 'm'),
      'the second import creates nothing',
    )

  const fromB = await runCli(['definitions', 'export', '--url', b.url])
  assert.equal(fromB.code, 0, fromB.stderr)
  const strip = (d: Record<string, unknown>) => ({ ...d, exportedAt: undefined })
  assert.deepEqual(strip(JSON.parse(fromB.stdout)), strip(document), 'broker B now exports what A did')

  assert.equal((await call(b.url, 'GET', '/api/v1/overview', undefined, `alice:${PASSWORD}`)).status, 200)
  assert.equal((await call(b.url, 'GET', '/api/v1/overview', undefined, 'alice:wrong')).status, 401)
  const kafka = new Kafka({
    brokers: [`127.0.0.1:${b.port('kafka')}`],
    sasl: { mechanism: 'scram-sha-256', username: 'alice', password: PASSWORD },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  })
  const admin = kafka.admin()
  await admin.connect()
  t.after(() => admin.disconnect())
  const metadata = await admin.fetchTopicMetadata({ topics: ['orders'] })
  assert.equal(metadata.topics[0]!.partitions.length, 3, 'SCRAM login with the copied credentials')
})

test('definitions import reports what it could not create and exits non-zero', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-definitions-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const { url } = await startCliBroker(t)
  const file = join(dir, 'bad.json')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(
    file,
    JSON.stringify({
      format: 1,
      streams: [{ name: 'fine' }, { name: 'broken', config: { partitions: -3 } }],
      users: [{ name: 'mallory', password: 'plain-text' }],
    }),
  )
  const run = await runCli(['definitions', 'import', file, '--url', url])
  assert.equal(run.code, 1)
  assert.match(run.stdout, /^streams\tcreated=1\texisting=0$/m)
  assert.match(run.stderr, /streams broken: /)
  assert.match(run.stderr, /2 definition\(s\) could not be imported/)
  assert.match(run.stderr, /users mallory: .*plain password is not imported/)
  assert.equal((await call(url, 'GET', '/api/v1/users/mallory')).status, 404, 'a plain password in a file is refused')
})

test('wharf bench produces and consumes over REST and prints progress and a summary', async (t) => {
  const { url } = await startCliBroker(t)
  const run = await runCli(['bench', '--messages', '2000', '--size', '64', '--batch', '200', '--json', '--url', url])
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stderr, /produce: 2000\/2000 messages/)
  assert.match(run.stderr, /consume: 2000\/2000 messages/)
  const summary = JSON.parse(run.stdout)
  assert.equal(summary.produce.messages, 2000)
  assert.equal(summary.consume.messages, 2000)
  assert.equal(summary.consume.bytes, 2000 * 64)
  assert.equal(summary.produceRequestLatencyMs.requests, 10)
  assert.ok(summary.produceRequestLatencyMs.p50 <= summary.produceRequestLatencyMs.p99)
  assert.ok(summary.produce.msgsPerSec > 0 && summary.consume.mbPerSec >= 0)
  const streams = (await call(url, 'GET', '/api/v1/streams')).json.items.map((s: { name: string }) => s.name)
  assert.ok(!streams.some((name: string) => name.startsWith('wharf-bench-')), 'the bench stream is deleted afterwards')
})
