// The one name rule (src/broker/names.ts) over REST: streams, queues and exchanges created through the admin API
// keep Kafka's rule, and a refusal is a 400 that states it; names AMQP, SQS and MQTT clients declare
// themselves keep their protocol's rules (their own tests cover those).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { startAllListeners } from '../../../fixtures/all-listeners.ts'

const RULE = "1-249 characters of letters a-z A-Z, digits, '.', '_' and '-', and not '.' or '..'"

test('REST create refuses names outside the rule with 400 and the rule; names inside it work for Kafka', {
  timeout: 30_000,
}, async (t) => {
  const w = await startAllListeners(t)
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${w.base}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: res.status, json: (await res.json()) as { error?: { code: string; message: string } } }
  }
  const bad = ['../../etc', 'with space', '.', '..', 'x'.repeat(250), '', 'caf\u00e9', 'a/b']
  for (const [path, extra] of [
    ['/streams', {}],
    ['/queues', {}],
    ['/exchanges', { type: 'direct' }],
  ] as const) {
    const kind = path.slice(1, -1)
    for (const name of bad) {
      const reply = await post(path, { name, ...extra })
      assert.equal(reply.status, 400, `${path} ${JSON.stringify(name)}`)
      assert.equal(reply.json.error?.code, 'INVALID_ARGUMENT')
      assert.equal(reply.json.error?.message, `invalid ${kind} name ${JSON.stringify(name)}: names are ${RULE}`)
    }
    const missing = await post(path, { ...extra })
    assert.equal(missing.status, 400)
    assert.match(missing.json.error?.message ?? '', new RegExp(`invalid ${kind} name undefined: a name is required`))
  }
  // Only MQTT's own retained stream exists: nothing was created.
  assert.deepEqual(
    w.broker.listStreams().map((s) => s.name),
    ['mqtt.retained'],
  )
  assert.deepEqual(w.broker.listQueues(), [])

  // The edges of the rule are usable by a real Kafka client.
  const longest = 'a'.repeat(249)
  for (const name of [longest, 'Orders.v2_eu-west', '...']) {
    assert.equal((await post('/streams', { name })).status, 201, name)
  }
  const kafka = new Kafka({ brokers: [`127.0.0.1:${w.kafka.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } })
  const producer = kafka.producer()
  await producer.connect()
  t.after(() => producer.disconnect())
  for (const topic of [longest, 'Orders.v2_eu-west', '...']) await producer.send({ topic, messages: [{ value: 'v' }] })
  assert.equal(w.broker.stream(longest).stats.messagesIn, 1)
  assert.equal((await post('/queues', { name: 'jobs.v1' })).status, 201)
  assert.equal((await post('/exchanges', { name: 'events-1', type: 'topic' })).status, 201)
})
