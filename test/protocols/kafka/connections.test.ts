// Connections in the admin API with real Kafka clients: kafkajs's client.id (from the request headers) and
// librdkafka's KIP-511 software name and version (ApiVersions v3, via kcat) show in GET /api/v1/connections;
// DELETE drops the socket (Kafka has no close frame) and kafkajs reconnects on its next request.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { startHttpListener } from '../../../src/protocols/http/listener.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { startHarness } from './harness.ts'

interface Started {
  name: string
  port: number
  urls: string[]
  close(): Promise<void>
}

// biome-ignore lint/suspicious/noExplicitAny: response shapes are asserted field by field
type Json = any

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('kafka connections: kafkajs client.id and kcat software name listed; closed by id', async (t) => {
  const h = await startHarness(t)
  const started = new Map<string, Started>([['kafka', h.listener]])
  // The server passes its live listener registry as `started`; the connections endpoint reads it.
  const httpContext = { broker: h.broker, host: '127.0.0.1', port: 0, logger: silentLogger, started }
  const http = await startHttpListener(httpContext)
  t.after(() => http.close())
  const api = `http://127.0.0.1:${http.port}/api/v1`
  const get = async (path: string): Promise<Json> => (await fetch(`${api}${path}`)).json()

  const kafka = new Kafka({
    clientId: 'billing-svc',
    brokers: [h.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 50 },
  })
  const producer = kafka.producer()
  await producer.connect()
  h.defer(() => producer.disconnect())
  await producer.send({ topic: 'invoices', messages: [{ value: 'one' }] })

  const listed = await get('/connections?protocol=kafka&q=billing')
  assert.ok(listed.total >= 1)
  for (const c of listed.items) {
    assert.equal(c.protocol, 'kafka')
    assert.equal(c.clientName, 'billing-svc', 'kafkajs sends no KIP-511 name: the client.id names it')
    assert.equal(c.details.clientId, 'billing-svc')
    assert.match(c.remoteAddress, /^127\.0\.0\.1:\d+$/)
  }
  assert.equal((await get('/connections?q=no-such-client')).total, 0)
  const metrics = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text()
  assert.match(metrics, new RegExp(`^wharf_connections\\{protocol="kafka"\\} ${h.listener.connectionCount}$`, 'm'))

  // Close every kafkajs connection: they leave the list, and the producer's next send reconnects.
  const before = new Set<string>(listed.items.map((c: Json) => c.id))
  for (const id of before) {
    const response = await fetch(`${api}/connections/${encodeURIComponent(id)}`, { method: 'DELETE' })
    assert.equal(response.status, 200)
  }
  await until('closed connections to leave the list', async () => {
    const now = await get('/connections?protocol=kafka')
    return now.items.some((c: Json) => before.has(c.id)) ? undefined : true
  })
  await producer.send({ topic: 'invoices', messages: [{ value: 'two' }] })
  const reconnected = await get('/connections?q=billing-svc')
  assert.ok(reconnected.total >= 1)
  assert.ok(
    reconnected.items.every((c: Json) => !before.has(c.id)),
    'new connections, new ids',
  )
  assert.equal(h.broker.stream('invoices').partitions[0]!.highWatermark, 2)
  const missing = await fetch(`${api}/connections/${encodeURIComponent([...before][0]!)}`, { method: 'DELETE' })
  assert.equal(missing.status, 404)
  assert.equal(((await missing.json()) as Json).error.code, 'NOT_FOUND')

  // librdkafka (kcat) names itself in ApiVersions v3 (KIP-511).
  if (existsSync('/usr/bin/kcat')) {
    const kcat = spawn('kcat', ['-b', h.bootstrap, '-C', '-t', 'invoices', '-o', 'end', '-X', 'client.id=kcat-probe'], {
      stdio: 'ignore',
    })
    t.after(() => {
      if (kcat.exitCode === null) kcat.kill('SIGKILL')
    })
    const probe = await until('the kcat connection', async () => {
      const page = await get('/connections?q=kcat-probe')
      return page.items.find((c: Json) => c.clientVersion !== undefined)
    })
    assert.equal(probe.clientName, 'librdkafka')
    assert.match(probe.clientVersion, /^\d+\.\d+\.\d+/)
    assert.equal(probe.details.clientId, 'kcat-probe')
    kcat.kill('SIGTERM')
  }
})
