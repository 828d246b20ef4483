// Broker errors over REST admin: each maps by code to its status, and the message is the broker's neutral
// text, never an AMQP reply text (those belong to the AMQP adapter alone).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startHarness } from './helpers.ts'

const amqpWords = /vhost|inequivalent arg|[A-Z]+_[A-Z]+ - /

async function call(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, error: ((await res.json()) as { error?: { code: string; message: string } }).error }
}

test('router errors over REST: status by code, neutral messages', async (t) => {
  const { url, broker } = await startHarness(t)
  const cases: Array<[method: string, path: string, body: unknown, status: number, code: string]> = [
    ['POST', '/exchanges', { name: 'amq.custom', type: 'direct' }, 403, 'ACCESS_REFUSED'],
    ['DELETE', '/exchanges/amq.direct', undefined, 403, 'ACCESS_REFUSED'],
    ['POST', '/exchanges', { name: 'ex', type: 'x-delayed' }, 400, 'INVALID_ARGUMENT'],
    ['POST', '/exchanges', { name: 'ex', type: 'fanout' }, 409, 'PRECONDITION_FAILED'],
    ['DELETE', '/exchanges/used?ifUnused=true', undefined, 409, 'PRECONDITION_FAILED'],
    ['POST', '/bindings', { source: 'ex', destination: { kind: 'queue', name: 'nope' } }, 404, 'QUEUE_NOT_FOUND'],
    ['POST', '/bindings', { source: 'ghost', destination: { kind: 'queue', name: 'q' } }, 404, 'EXCHANGE_NOT_FOUND'],
    ['DELETE', '/queues/q?ifEmpty=true', undefined, 409, 'PRECONDITION_FAILED'],
  ]
  assert.equal((await call(url, 'POST', '/exchanges', { name: 'ex', type: 'direct' })).status, 201)
  assert.equal((await call(url, 'POST', '/exchanges', { name: 'used', type: 'direct' })).status, 201)
  await broker.createQueue('q')
  await broker.sendToQueue('q', [{ value: 'held' }])
  await broker.bind({ source: 'used', destination: { kind: 'queue', name: 'q' }, key: 'k', arguments: {} })
  for (const [method, path, body, status, code] of cases) {
    const reply = await call(url, method, path, body)
    assert.equal(reply.status, status, `${method} ${path}`)
    assert.equal(reply.error?.code, code, `${method} ${path}`)
    assert.doesNotMatch(reply.error?.message ?? '', amqpWords, `${method} ${path}`)
  }
})
