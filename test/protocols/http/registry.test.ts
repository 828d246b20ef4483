// Schema registry against the real @kafkajs/confluent-schema-registry client (its GET/PUT /config flow,
// register, encode, decode, compatibility rejection), plus schema enforcement on a bound stream.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { startHarness } from './helpers.ts'

const v1 = { type: 'record', name: 'User', namespace: 'com.example', fields: [{ name: 'id', type: 'int' }] }
const v2 = { ...v1, fields: [...v1.fields, { name: 'email', type: 'string', default: '' }] }
const incompatible = { ...v1, fields: [...v1.fields, { name: 'age', type: 'int' }] }

test('kafkajs registry: register, encode/decode, versions, compatibility rejection, lookups', async (t) => {
  const { url } = await startHarness(t)
  const registry = new SchemaRegistry({ host: url })
  const subject = 'users-value'
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject })
  assert.ok(id > 0)
  const encoded = await registry.encode(id, { id: 7 })
  assert.equal(encoded[0], 0)
  assert.equal(encoded.readInt32BE(1), id)
  assert.deepEqual({ ...(await registry.decode(encoded)) }, { id: 7 })
  const again = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject })
  assert.equal(again.id, id, 'same schema, same id')
  const second = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2) }, { subject })
  assert.notEqual(second.id, id)
  assert.equal(await registry.getLatestSchemaId(subject), second.id)
  assert.equal(await registry.getRegistryId(subject, 1), id)
  await assert.rejects(
    registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(incompatible) }, { subject }),
    /incompatible/i,
  )

  const cfg = await fetch(`${url}/config/${subject}`)
  assert.equal(
    ((await cfg.json()) as { compatibilityLevel: string }).compatibilityLevel,
    'BACKWARD',
    'kafkajs set the subject level after a 40408',
  )
  const missing = await fetch(`${url}/subjects/none/versions`)
  assert.equal(missing.status, 404)
  assert.equal(((await missing.json()) as { error_code: number }).error_code, 40401)
  const version = (await (await fetch(`${url}/subjects/${subject}/versions/latest`)).json()) as Record<string, unknown>
  assert.equal(version.version, 2)
  assert.equal(version.schemaType, undefined, 'AVRO type is omitted as Confluent does')
  const compat = await fetch(`${url}/compatibility/subjects/${subject}/versions/latest?verbose=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(incompatible) }),
  })
  assert.equal(((await compat.json()) as { is_compatible: boolean }).is_compatible, false)
  const types = (await (await fetch(`${url}/schemas/types`)).json()) as string[]
  assert.ok(types.includes('JSON'))
  const badBody = await fetch(`${url}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{nope',
  })
  assert.equal(badBody.status, 400)
  const badSchema = await fetch(`${url}/subjects/x/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ schema: '{"type":"recordz"}' }),
  })
  assert.equal(((await badSchema.json()) as { error_code: number }).error_code, 42201)
  const badVersion = await fetch(`${url}/subjects/${subject}/versions/zero`)
  assert.equal(((await badVersion.json()) as { error_code: number }).error_code, 42202)
})

test('a stream bound to a subject rejects records that do not match, on broker.produce and the REST API', async (t) => {
  const { url, broker } = await startHarness(t)
  const registry = new SchemaRegistry({ host: url })
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(v1) },
    { subject: 'orders-value' },
  )
  const created = await fetch(`${url}/api/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'orders', schemaSubject: 'orders-value' }),
  })
  assert.equal(created.status, 201)
  const good = await registry.encode(id, { id: 1 })
  assert.equal((await broker.produce('orders', [{ value: good }]))[0]?.offset, 0)
  await assert.rejects(
    broker.produce('orders', [{ value: Buffer.from('not avro') }]),
    (e: Error & { code?: string }) => e.code === 'SCHEMA_VIOLATION',
  )
  const rest = await fetch(`${url}/api/v1/streams/orders/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ encoding: 'text', value: 'plain text' }),
  })
  assert.equal(rest.status, 422)
  assert.equal(((await rest.json()) as { error: { code: string } }).error.code, 'SCHEMA_VIOLATION')
})
