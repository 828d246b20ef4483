// The REST admin API's queue operations on two brokers over one PostgreSQL, each made through one broker on a
// queue created through the other: send, peek, destructive get, purge and delete. Whichever broker serves the
// queue, one side of each pair is not it and answers from the queue's server.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ClusterBroker, startCluster } from '../fixtures/cluster.ts'
import { sleep } from './kafka-helpers.ts'

test('admin API queue operations through either broker of a cluster', { timeout: 180_000 }, async (t) => {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['http'] })
  if (cluster === undefined) return
  const [a, b] = cluster.brokers as [ClusterBroker, ClusterBroker]
  const call = async (broker: ClusterBroker, method: string, path: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${broker.ports.http}/api/v1${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) }
  }

  assert.equal((await call(a, 'POST', '/queues', { name: 'adm' })).status, 201)
  for (const deadline = Date.now() + 15_000; (await call(b, 'GET', '/queues/adm')).status !== 200; await sleep(200))
    assert.ok(Date.now() < deadline, 'the queue reached the second broker')

  const sent = await call(b, 'POST', '/queues/adm/messages', {
    messages: ['one', 'two', 'three', 'four'].map((value) => ({ value, encoding: 'text' })),
  })
  assert.ok(sent.status < 300, JSON.stringify(sent))
  const depth = async (broker: ClusterBroker) => (await call(broker, 'GET', '/queues/adm')).json as { depth?: number }
  assert.equal((await depth(a)).depth, 4)
  assert.equal((await depth(b)).depth, 4)

  const peeked = await call(a, 'GET', '/queues/adm/messages?encoding=text')
  assert.equal(peeked.status, 200)
  const values = (list: unknown) => (list as Array<{ value: string }>).map((m) => m.value)
  assert.deepEqual(values(peeked.json!.messages), ['one', 'two', 'three', 'four'])

  const taken = await call(b, 'POST', '/queues/adm/get', { count: 1, ackMode: 'ack', encoding: 'text' })
  assert.equal(taken.status, 200, JSON.stringify(taken))
  assert.deepEqual(values(taken.json!.messages), ['one'])
  assert.equal((await depth(a)).depth, 3)

  assert.equal((await call(a, 'POST', '/queues/adm/purge')).json!.purged, 3)
  assert.equal((await depth(b)).depth, 0)
  assert.equal((await call(b, 'DELETE', '/queues/adm?ifEmpty=true')).json!.deleted, 'adm')
  for (const deadline = Date.now() + 15_000; (await call(a, 'GET', '/queues/adm')).status !== 404; await sleep(200))
    assert.ok(Date.now() < deadline, 'the queue gone from the first broker')
})
