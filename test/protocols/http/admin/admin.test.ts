// REST admin API, OpenAPI, health and Prometheus metrics over real HTTP (fetch).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startHarness } from '../helpers.ts'

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk untyped JSON replies
type Json = Record<string, any>

async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.status, json: (await res.json()) as Json }
}

test('streams: create, list with paging and filter, produce JSON and base64, peek, describe, delete', async (t) => {
  const { url } = await startHarness(t)
  assert.equal((await call(url, 'POST', '/streams', { name: 'events', partitions: 2 })).status, 201)
  for (const n of ['alpha', 'beta', 'gamma']) await call(url, 'POST', '/streams', { name: n })
  const conflict = await call(url, 'POST', '/streams', { name: 'alpha' })
  assert.equal(conflict.status, 409)
  assert.equal(conflict.json.error.code, 'STREAM_EXISTS')
  const list = await call(url, 'GET', '/streams?limit=2&offset=1')
  assert.equal(list.json.total, 4)
  assert.deepEqual(
    list.json.items.map((s: Json) => s.name),
    ['beta', 'events'],
  )
  assert.deepEqual(
    (await call(url, 'GET', '/streams?q=MM')).json.items.map((s: Json) => s.name),
    ['gamma'],
  )

  const produced = await call(url, 'POST', '/streams/events/messages', {
    messages: [
      { value: { n: 1 }, partition: 1, headers: { h: 'v' } },
      { value: { n: 2 }, partition: 1 },
    ],
  })
  assert.equal(produced.status, 200)
  assert.deepEqual(
    produced.json.positions.map((p: Json) => p.offset),
    [0, 1],
  )
  await call(url, 'POST', '/streams/events/messages', {
    encoding: 'base64',
    messages: [{ value: Buffer.from([1, 2, 3]).toString('base64'), partition: 1 }],
  })
  const peek = await call(url, 'GET', '/streams/events/messages?partition=1&offset=0&limit=2')
  assert.deepEqual(
    peek.json.messages.map((m: Json) => m.value),
    [{ n: 1 }, { n: 2 }],
  )
  assert.equal(peek.json.messages[0].headers.h, 'v')
  assert.equal(peek.json.nextOffset, 2)
  const raw = await call(url, 'GET', '/streams/events/messages?partition=1&offset=2&encoding=base64')
  assert.equal(raw.json.messages[0].value, 'AQID')
  const described = await call(url, 'GET', '/streams/events')
  assert.equal(described.json.partitions[1].highWatermark, 3)
  assert.equal((await call(url, 'GET', '/streams/nope')).status, 404)
  assert.equal((await call(url, 'DELETE', '/streams/alpha')).status, 200)
  assert.equal((await call(url, 'GET', '/streams/alpha')).status, 404)
})

test('queues: create, send, peek without taking, purge, redrive from a DLQ, delete', async (t) => {
  const { url, broker } = await startHarness(t)
  await call(url, 'POST', '/queues', { name: 'dlq' })
  assert.equal(
    (await call(url, 'POST', '/queues', { name: 'jobs', maxDeliveries: 1, deadLetter: { queue: 'dlq' }, leaseMs: 50 }))
      .status,
    201,
  )
  await call(url, 'POST', '/queues/jobs/messages', { encoding: 'text', messages: [{ value: 'a' }, { value: 'b' }] })
  const peek = await call(url, 'GET', '/queues/jobs/messages?encoding=text')
  assert.deepEqual(
    peek.json.messages.map((m: Json) => m.value),
    ['a', 'b'],
  )
  assert.equal((await call(url, 'GET', '/queues/jobs')).json.ready, 2, 'peek took nothing')
  // Both die once (lease expires after one delivery) and land in the DLQ.
  await broker.get('jobs', { owner: 't', max: 2, leaseMs: 10 })
  for (let i = 0; i < 100 && broker.queueStats('dlq').depth < 2; i++) await new Promise((r) => setTimeout(r, 20))
  assert.equal((await call(url, 'GET', '/queues/dlq')).json.depth, 2)
  const redrive = await call(url, 'POST', '/queues/dlq/redrive', {})
  assert.equal(redrive.json.moved, 2)
  assert.equal((await call(url, 'GET', '/queues/jobs')).json.depth, 2)
  assert.equal((await call(url, 'POST', '/queues/jobs/purge')).json.purged, 2)
  const queues = await call(url, 'GET', '/queues?q=job')
  assert.deepEqual(
    queues.json.items.map((q: Json) => q.name),
    ['jobs'],
  )
  assert.equal((await call(url, 'DELETE', '/queues/jobs')).status, 200)
  assert.equal((await call(url, 'GET', '/queues/jobs')).status, 404)
})

test('exchanges, bindings, consumer groups with lag and offset reset', async (t) => {
  const { url, broker } = await startHarness(t)
  await call(url, 'POST', '/queues', { name: 'q1' })
  assert.equal((await call(url, 'POST', '/exchanges', { name: 'ex', type: 'topic' })).status, 201)
  assert.equal(
    (await call(url, 'POST', '/bindings', { source: 'ex', destination: { kind: 'queue', name: 'q1' }, key: 'a.*' }))
      .status,
    201,
  )
  assert.equal((await call(url, 'GET', '/exchanges/ex')).json.bindings.length, 1)
  await broker.publish('ex', 'a.b', { value: 'x' })
  assert.equal(broker.queueStats('q1').depth, 1)
  assert.equal((await call(url, 'GET', '/bindings?q=ex')).json.total, 1)
  assert.equal(
    (await call(url, 'DELETE', '/bindings', { source: 'ex', destination: { kind: 'queue', name: 'q1' }, key: 'a.*' }))
      .json.removed,
    true,
  )

  await call(url, 'POST', '/streams', { name: 'log' })
  await call(url, 'POST', '/streams/log/messages', { messages: [{ value: 1 }, { value: 2 }, { value: 3 }] })
  await broker.commitOffset('g1', 'log', 0, 1)
  const group = await call(url, 'GET', '/groups/g1')
  assert.equal(group.json.lag, 2)
  assert.equal((await call(url, 'GET', '/groups')).json.items[0].group, 'g1')
  const reset = await call(url, 'POST', '/groups/g1/reset', { stream: 'log', to: 'latest' })
  assert.deepEqual(reset.json.offsets, [{ partition: 0, offset: 3 }])
  assert.equal((await call(url, 'GET', '/groups/g1')).json.lag, 0)
  assert.equal((await call(url, 'POST', '/groups/g1/reset', { stream: 'log', to: 'sideways' })).status, 400)
})

test('openapi, health, metrics, and bad input gets JSON errors', async (t) => {
  const { url } = await startHarness(t)
  const doc = (await call(url, 'GET', '/openapi.json')).json
  assert.equal(doc.openapi, '3.0.3')
  assert.ok(doc.paths['/queues/{name}/redrive'].post)
  for (const path of [
    '/connections',
    '/alarms',
    '/mqtt/sessions',
    '/mqtt/retained',
    '/listeners',
    '/topics/{name}',
    '/rates',
    '/streams/{name}/consumers',
  ]) {
    assert.ok(doc.paths[path]?.get, `OpenAPI documents GET ${path}`)
  }
  for (const path of ['/queues/{name}/get', '/exchanges/{name}/publish'])
    assert.ok(doc.paths[path]?.post, `OpenAPI documents POST ${path}`)
  assert.ok(doc.paths['/connections/{id}'].delete)
  assert.equal((await fetch(`${url}/healthz`)).status, 200)
  assert.equal((await fetch(`${url}/readyz`)).status, 200)
  await call(url, 'POST', '/queues', { name: 'mq' })
  await call(url, 'POST', '/queues/mq/messages', { value: 1 })
  await call(url, 'POST', '/queues', { name: 'capped', maxLengthBytes: 1000 })
  await call(url, 'POST', '/queues/capped/messages', { value: 'abcd' })
  const metrics = await (await fetch(`${url}/metrics`)).text()
  assert.match(metrics, /wharf_queue_messages_ready\{queue="mq"\} 1/)
  assert.match(metrics, /wharf_queue_messages_bytes\{queue="capped"\} [1-9]/)
  assert.doesNotMatch(metrics, /wharf_queue_messages_bytes\{queue="mq"\}/)
  assert.match(metrics, /# TYPE wharf_topic_messages_in_total counter/)
  assert.match(metrics, /wharf_topic_messages_in_total\{topic="mq"\} 1/)
  assert.match(metrics, /wharf_process_resident_memory_bytes/)
  const malformed = await call(url, 'POST', '/streams', '{oops')
  assert.equal(malformed.status, 400)
  assert.equal(malformed.json.error.code, 'INVALID_ARGUMENT')
  assert.equal((await call(url, 'POST', '/streams', { name: 'x', partitions: -1 })).status, 400)
  assert.equal((await call(url, 'GET', '/streams?limit=0')).status, 400)
  assert.equal((await call(url, 'GET', '/nothing-here')).status, 404)
  const big = await call(url, 'POST', '/streams', JSON.stringify({ name: 'x'.repeat(5 * 1024 * 1024) }))
  assert.equal(big.status, 413)
})
