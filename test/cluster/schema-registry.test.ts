// The schema registry on two brokers over one PostgreSQL, driven by the @kafkajs/confluent-schema-registry client:
// schemas registered through both brokers at once get distinct ids; a schema registered through one broker is
// served by the other (the client on it decodes what a client on the first encoded); a stream bound to a subject
// is enforced through the broker that did not register the schema. Each as soon as the registering broker has
// answered: a registry change and a stream's creation are applied by every broker before they are answered.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { startCluster } from '../fixtures/cluster.ts'

const PER_BROKER = 10

const record = (name: string) => ({ type: 'record', name, fields: [{ name: 'id', type: 'int' }] })

test('schemas registered through two brokers at once get distinct ids, and each broker serves the other’s', {
  timeout: 180_000,
}, async (t) => {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['kafka', 'http'] })
  if (cluster === undefined) return
  const [first, second] = cluster.brokers as [(typeof cluster.brokers)[0], (typeof cluster.brokers)[0]]
  const url = (broker: typeof first) => `http://127.0.0.1:${broker.ports.http}`
  const registries = [new SchemaRegistry({ host: url(first) }), new SchemaRegistry({ host: url(second) })]

  const registered = await Promise.all(
    registries.flatMap((registry, b) =>
      Array.from({ length: PER_BROKER }, async (_, i) => {
        const subject = `b${b}-s${i}-value`
        const { id } = await registry.register(
          { type: SchemaType.AVRO, schema: JSON.stringify(record(`R${b}x${i}`)) },
          { subject },
        )
        return { broker: b, subject, id }
      }),
    ),
  )
  const ids = registered.map((r) => r.id)
  assert.equal(new Set(ids).size, ids.length, `every schema its own id: ${ids}`)

  // What a client encoded through one broker's registry, a client of the other decodes.
  for (const { broker, id } of registered) {
    const encoded = await registries[broker]!.encode(id, { id: 7 })
    const other = new SchemaRegistry({ host: url(broker === 0 ? second : first) })
    const decoded = await other.decode(encoded)
    assert.deepEqual({ ...decoded }, { id: 7 })
  }

  // A stream bound to a subject registered through the first broker, produced to through the second.
  const { id } = await registries[0]!.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(record('Order')) },
    { subject: 'orders-value' },
  )
  const created = await fetch(`${url(first)}/api/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'orders', schemaSubject: 'orders-value' }),
  })
  assert.equal(created.status, 201)
  const good = (await registries[0]!.encode(id, { id: 1 })).toString('base64')
  const produce = (body: object) =>
    fetch(`${url(second)}/api/v1/streams/orders/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const accepted = await produce({ encoding: 'base64', value: good })
  assert.ok(accepted.status < 300, `a valid record accepted through the second broker: ${await accepted.text()}`)
  const bad = await produce({ encoding: 'text', value: 'plain text' })
  assert.equal(bad.status, 422)
  assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'SCHEMA_VIOLATION')
})
