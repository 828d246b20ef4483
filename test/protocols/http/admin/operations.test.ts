// REST admin endpoints the CLI's operator verbs use, over real HTTP (fetch): destructive queue get with ack
// modes, group delete and one-partition reset, and definitions (administrators only, format checked).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startHarness } from '../helpers.ts'

async function call(url: string, method: string, path: string, body?: unknown, auth?: string) {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (auth !== undefined) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  // biome-ignore lint/suspicious/noExplicitAny: untyped JSON replies
  return { status: res.status, json: (await res.json()) as any }
}

test('POST /queues/:name/get: ack modes, bounds, an empty queue', async (t) => {
  const { url } = await startHarness(t)
  await call(url, 'POST', '/queues', { name: 'work' })
  await call(url, 'POST', '/queues/work/messages', { messages: [{ value: 1 }, { value: 2 }, { value: 3 }] })
  assert.equal((await call(url, 'POST', '/queues/work/get', { count: 0 })).status, 400)
  const badMode = await call(url, 'POST', '/queues/work/get', { ackMode: 'maybe' })
  assert.equal(badMode.status, 400)
  assert.match(badMode.json.error.message, /ack, requeue, reject/)
  assert.equal((await call(url, 'POST', '/queues/nope/get', {})).status, 404)

  const requeued = await call(url, 'POST', '/queues/work/get', { count: 2, ackMode: 'requeue' })
  assert.deepEqual(
    requeued.json.messages.map((m: { value: number }) => m.value),
    [1, 2],
  )
  assert.equal((await call(url, 'GET', '/queues/work')).json.ready, 3)
  assert.equal((await call(url, 'GET', '/queues/work')).json.inflight, 0, 'no lease left behind')
  const rejected = await call(url, 'POST', '/queues/work/get', { ackMode: 'reject' })
  assert.equal(rejected.json.messages[0].value, 1)
  assert.equal(rejected.json.messages[0].redelivered, true)
  // The drop is stored as an ack, which settles just after the reply.
  for (let i = 0; i < 250 && (await call(url, 'GET', '/queues/work')).json.inflight !== 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 20))
  const after = (await call(url, 'GET', '/queues/work')).json
  assert.deepEqual([after.ready, after.inflight], [2, 0], 'rejected without a dead-letter queue: dropped')
  const acked = await call(url, 'POST', '/queues/work/get', { count: 10 })
  assert.equal(acked.json.ackMode, 'ack', 'ack is the API default')
  assert.equal(acked.json.messages.length, 2)
  assert.deepEqual((await call(url, 'POST', '/queues/work/get', {})).json.messages, [])
})

test('DELETE /groups/:group and a reset of one partition', async (t) => {
  const { url, broker } = await startHarness(t)
  await call(url, 'POST', '/streams', { name: 's', partitions: 2 })
  await call(url, 'POST', '/streams/s/messages', {
    messages: [
      { value: 1, partition: 1 },
      { value: 2, partition: 1 },
    ],
  })
  const missing = await call(url, 'DELETE', '/groups/ghost')
  assert.equal(missing.status, 404)
  assert.equal(missing.json.error.code, 'GROUP_NOT_FOUND')

  const reset = await call(url, 'POST', '/groups/g/reset', { stream: 's', to: 'latest', partition: 1 })
  assert.deepEqual(reset.json.offsets, [{ partition: 1, offset: 2 }])
  assert.equal(broker.committedOffset('g', 's', 0), undefined, 'the other partition is untouched')
  assert.equal((await call(url, 'POST', '/groups/g/reset', { stream: 's', to: 'latest', partition: 2 })).status, 400)

  assert.equal((await call(url, 'DELETE', '/groups/g')).status, 200)
  assert.equal((await call(url, 'GET', '/groups')).json.total, 0)
  assert.equal(broker.committedOffset('g', 's', 1), undefined)
})

test('definitions: administrators only; an unknown format is refused', async (t) => {
  const { url } = await startHarness(t)
  assert.equal(
    (await call(url, 'POST', '/users', { name: 'ops', password: 'ops-pw', tags: ['management'] })).status,
    201,
  )
  assert.equal((await call(url, 'GET', '/definitions', undefined, 'ops:ops-pw')).status, 403)
  assert.equal((await call(url, 'POST', '/definitions', {}, 'ops:ops-pw')).status, 403)
  const exported = await call(url, 'GET', '/definitions')
  assert.equal(exported.status, 200)
  assert.equal(exported.json.format, 1)
  assert.ok(exported.json.users.some((u: { name: string }) => u.name === 'ops'))
  const future = await call(url, 'POST', '/definitions', { format: 99 })
  assert.equal(future.status, 400)
  assert.match(future.json.error.message, /format 99/)
})
