// The REST endpoints the dashboard reads (src/protocols/http/admin/{system,topics,mqtt,queues}.ts), over HTTP with
// fetch: the same shape as the rest of /api/v1 (paged lists, {error: {code, message}}).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createBroker } from '../../src/index.ts'
import { startHttpListener } from '../../src/protocols/http/listener.ts'
import { silentLogger } from '../../src/util/logger.ts'

test('dashboard API: listeners, system, SNS topics, dead-letter sources', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-dash-api-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const broker = await createBroker({ dataDir: dir, durability: 'never' })
  const http = await startHttpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  t.after(async () => {
    await http.close()
    await broker.close()
  })
  const base = `http://127.0.0.1:${http.port}/api/v1`
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`)
    // biome-ignore lint/suspicious/noExplicitAny: response shapes are asserted field by field below
    return { status: response.status, body: (await response.json()) as Record<string, any> }
  }

  // Without the server's registry (embedded use), the HTTP listener still reports itself.
  const listeners = await get('/listeners')
  assert.deepEqual(listeners.body.items, [{ name: 'http', port: http.port, urls: [], connections: null }])

  await broker.createStream('s', { partitions: 2 })
  await broker.produce('s', [{ value: Buffer.from('hello') }])
  const system = await get('/system')
  assert.equal(system.status, 200)
  assert.equal(system.body.partitions, 2)
  assert.equal(
    system.body.storedBytes,
    broker.stream('s').partitions.reduce((n, log) => n + log.sizeBytes, 0),
  )
  assert.ok(system.body.storedBytes > 0)

  await broker.createQueue('q')
  for (let i = 0; i < 5; i++) await broker.topics.createTopic(`topic-${i}`)
  await broker.topics.subscribe({ topic: 'topic-3', destination: { kind: 'queue', name: 'q' }, raw: true })
  const page = await get('/topics?limit=2&offset=2')
  assert.deepEqual(page.body, {
    items: [
      { name: 'topic-2', subscriptions: 0 },
      { name: 'topic-3', subscriptions: 1 },
    ],
    total: 5,
    limit: 2,
    offset: 2,
  })
  assert.equal((await get('/topics?q=-4')).body.total, 1)
  const topic = await get('/topics/topic-3')
  assert.equal(topic.body.subscriptions[0].destination.name, 'q')
  assert.equal(topic.body.subscriptions[0].raw, true)
  assert.deepEqual(await get('/topics/nope'), {
    status: 404,
    body: { error: { code: 'NOT_FOUND', message: "topic 'nope' does not exist" } },
  })
  assert.equal((await get('/topics?limit=0')).status, 400)

  await broker.createQueue('dead')
  await broker.createQueue('work-a', { deadLetter: { queue: 'dead' } })
  await broker.createQueue('work-b', { deadLetter: { queue: 'dead' } })
  assert.deepEqual((await get('/queues/dead/dead-letter-sources')).body, {
    queue: 'dead',
    sources: ['work-a', 'work-b'],
  })
  assert.deepEqual((await get('/queues/work-a/dead-letter-sources')).body.sources, [])
  assert.equal((await get('/queues/none/dead-letter-sources')).status, 404)
})
