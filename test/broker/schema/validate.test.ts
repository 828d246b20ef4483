import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { frame, frameId, SchemaStore } from '../../../src/broker/schema/index.ts'
import { MemoryMetadata } from '../../fixtures/memory-metadata.ts'
import { avroRecord, throwsCode } from './helpers.ts'

const userV1 = avroRecord([{ name: 'name', type: 'string' }])
const userV2 = avroRecord([
  { name: 'name', type: 'string' },
  { name: 'age', type: 'int', default: 0 },
])
const orderJson = JSON.stringify({
  type: 'object',
  properties: { id: { type: 'integer' }, total: { type: 'number', minimum: 0 } },
  required: ['id'],
})

/** Frames a raw payload by hand, independent of the store's encoder. */
const framed = (id: number, payload: number[] | Buffer) =>
  Buffer.concat([
    Buffer.from([0, (id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]),
    Buffer.from(payload),
  ])

async function setup() {
  const store = await SchemaStore.open(new MemoryMetadata())
  const avro = await store.register('users-value', { schema: userV1 })
  const json = await store.register('orders-value', { schema: orderJson, schemaType: 'JSON' })
  return { store, avroId: avro.id, jsonId: json.id }
}

const rejected = (result: { ok: boolean; reason?: string }, pattern: RegExp) => {
  assert.equal(result.ok, false)
  assert.match(result.reason ?? '', pattern)
}

describe('wire format', () => {
  test('frame and frameId', () => {
    const f = frame(0x01020304, Buffer.from('xy'))
    assert.deepEqual([...f], [0, 1, 2, 3, 4, 0x78, 0x79])
    assert.equal(frameId(f), 0x01020304)
    assert.equal(frameId(Buffer.from([0, 0, 0, 1])), -1, 'too short')
    assert.equal(frameId(Buffer.from([1, 0, 0, 0, 1])), -1, 'wrong magic byte')
    assert.equal(frameId(Buffer.from('{"a":1}')), -1)
  })
})

describe('record validation', () => {
  test('Confluent-framed Avro: exact payloads pass, anything else is rejected', async () => {
    const { store, avroId, jsonId } = await setup()
    const check = store.validator('users-value')
    // {"name": "ab"}: zigzag length 2 → 0x04, then the bytes.
    assert.deepEqual(check(framed(avroId, [0x04, 0x61, 0x62])), { ok: true })
    assert.deepEqual(check(store.encode('users-value', { name: 'Ada' })), { ok: true })
    assert.deepEqual(check(null), { ok: true }, 'tombstones pass')
    rejected(check(framed(avroId, [0x04, 0x61])), /truncated/)
    rejected(check(framed(avroId, [0x04, 0x61, 0x62, 0x00])), /trailing/)
    rejected(check(framed(avroId, [])), /truncated/)
    rejected(check(framed(jsonId, [0x04, 0x61, 0x62])), /not a version of subject/)
    rejected(check(framed(999, [0x04, 0x61, 0x62])), /not a version of subject/)
    rejected(check(Buffer.from([0x04, 0x61, 0x62])), /wire format header/)
    rejected(check(Buffer.from([0, 0, 0])), /wire format header/)
  })

  test('a validator follows later registrations and deletions', async () => {
    const { store, avroId } = await setup()
    const check = store.validator('users-value')
    const v2 = await store.register('users-value', { schema: userV2 })
    // {"name":"a","age":-1}: 0x02 'a', zigzag(-1) = 0x01.
    assert.equal(check(framed(v2.id, [0x02, 0x61, 0x01])).ok, true)
    assert.equal(check(framed(avroId, [0x02, 0x61])).ok, true, 'older versions stay valid')
    await store.deleteVersion('users-value', 1)
    rejected(check(framed(avroId, [0x02, 0x61])), /not a version/)
    await store.deleteSubject('users-value')
    rejected(check(framed(v2.id, [0x02, 0x61, 0x01])), /has no schema/)
  })

  test('a schema id shared with another subject is valid in both', async () => {
    const { store, avroId } = await setup()
    await store.register('users-copy', { schema: userV1 })
    assert.equal(store.validator('users-copy')(framed(avroId, [0x02, 0x61])).ok, true)
  })

  test('JSON subjects: framed and raw JSON text, validated against the schema', async () => {
    const { store, jsonId } = await setup()
    const check = store.validator('orders-value')
    const text = (v: string) => Buffer.from(v, 'utf8')
    assert.equal(check(framed(jsonId, text('{"id":1,"total":2.5}'))).ok, true)
    assert.equal(check(text('{"id":1,"total":2.5}')).ok, true)
    assert.equal(check(text('  {"id": 7}\n')).ok, true)
    rejected(check(text('{"total":2.5}')), /required property 'id'/)
    rejected(check(framed(jsonId, text('{"id":1,"total":-1}'))), /\/total must be >= 0/)
    rejected(check(text('{"id":1.5}')), /\/id must be integer/)
    rejected(check(text('{"id":')), /not valid JSON/)
    rejected(check(framed(jsonId, text('nope'))), /not valid JSON/)
    rejected(store.validator('no-such-subject')(text('{}')), /has no schema/)
  })

  test('raw JSON is checked against the latest version', async () => {
    const { store } = await setup()
    const check = store.validator('orders-value')
    assert.equal(check(Buffer.from('{"id":1,"note":5}')).ok, true)
    await store.setCompatibility('NONE', 'orders-value')
    const closed = JSON.stringify({
      type: 'object',
      properties: { id: { type: 'integer' } },
      additionalProperties: false,
    })
    await store.register('orders-value', { schema: closed, schemaType: 'JSON' })
    rejected(check(Buffer.from('{"id":1,"note":5}')), /additional properties/)
  })

  test('arbitrary bytes never throw out of a validator', () => {
    return setup().then(({ store, avroId, jsonId }) => {
      const avroCheck = store.validator('users-value')
      const jsonCheck = store.validator('orders-value')
      const numRuns = process.env.WHARF_LONG === '1' ? 20_000 : 300
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, frameIt) => {
          const a = avroCheck(frameIt ? framed(avroId, Buffer.from(bytes)) : Buffer.from(bytes))
          const j = jsonCheck(frameIt ? framed(jsonId, Buffer.from(bytes)) : Buffer.from(bytes))
          assert.equal(typeof a.ok, 'boolean')
          assert.equal(typeof j.ok, 'boolean')
        }),
        { numRuns },
      )
    })
  })
})

describe('encode and decode', () => {
  test('round trips in Confluent wire format by subject or id', async () => {
    const { store, avroId, jsonId } = await setup()
    const a = store.encode('users-value', { name: 'Ada' })
    assert.equal(frameId(a), avroId)
    assert.deepEqual([...a.subarray(5)], [0x06, 0x41, 0x64, 0x61])
    const back = store.decode(a)
    assert.equal(back.id, avroId)
    assert.equal(back.schemaType, 'AVRO')
    assert.equal((back.value as { name: string }).name, 'Ada')
    const j = store.encode(jsonId, { id: 3 })
    assert.equal(j.subarray(5).toString(), '{"id":3}')
    assert.deepEqual(store.decode(j), { id: jsonId, schemaType: 'JSON', value: { id: 3 } })
  })

  test('errors carry stable codes', async () => {
    const { store, avroId } = await setup()
    throwsCode(() => store.encode('users-value', { name: 42 }), 'SCHEMA_VIOLATION')
    throwsCode(() => store.encode('orders-value', { total: 1 }), 'SCHEMA_VIOLATION')
    throwsCode(() => store.encode('nope', {}), 'SCHEMA_NOT_FOUND', 40401)
    throwsCode(() => store.encode(999, {}), 'SCHEMA_NOT_FOUND', 40403)
    throwsCode(() => store.decode(Buffer.from('{}')), 'SCHEMA_VIOLATION')
    throwsCode(() => store.decode(framed(999, [])), 'SCHEMA_NOT_FOUND', 40403)
    throwsCode(() => store.decode(framed(avroId, [0x04, 0x61])), 'SCHEMA_VIOLATION')
    throwsCode(() => store.decode(framed(avroId, [0x02, 0x61, 0x00])), 'SCHEMA_VIOLATION')
  })
})
