import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { SchemaStore } from '../../../src/broker/schema/index.ts'
import { MemoryMetadata } from '../../fixtures/memory-metadata.ts'
import { avroRecord, rejectsCode, throwsCode } from './helpers.ts'

const v1 = avroRecord([{ name: 'name', type: 'string' }])
const v2 = avroRecord([
  { name: 'name', type: 'string' },
  { name: 'age', type: 'int', default: 0 },
])
const v3 = avroRecord([
  { name: 'name', type: 'string' },
  { name: 'age', type: 'int', default: 0 },
  { name: 'email', type: ['null', 'string'], default: null },
])

async function fresh() {
  const metadata = new MemoryMetadata()
  return { metadata, store: await SchemaStore.open(metadata) }
}

describe('schema store: register and read', () => {
  test('versions count from 1 per subject and ids are global', async () => {
    const { store } = await fresh()
    assert.deepEqual(await store.register('users-value', { schema: v1 }), { id: 1, version: 1 })
    assert.deepEqual(await store.register('users-value', { schema: v2 }), { id: 2, version: 2 })
    assert.deepEqual(await store.register('orders-value', { schema: v3 }), { id: 3, version: 1 })
    assert.deepEqual(store.listSubjects(), ['orders-value', 'users-value'])
    assert.deepEqual(store.listVersions('users-value'), [1, 2])
    const latest = store.getVersion('users-value', 'latest')
    assert.equal(latest.version, 2)
    assert.equal(latest.id, 2)
    assert.equal(latest.schemaType, 'AVRO')
    assert.equal(latest.schema, v2)
    assert.equal(store.getVersion('users-value', -1).version, 2)
    assert.equal(store.getVersion('users-value', 1).schema, v1)
    assert.deepEqual(store.getById(3), { schema: v3, schemaType: 'AVRO', references: [] })
  })

  test('the same schema again returns the existing id and version, no new version', async () => {
    const { store, metadata } = await fresh()
    await store.register('s', { schema: v1 })
    await store.register('s', { schema: v2 })
    const puts = metadata.puts
    // Whitespace and key order differ, the canonical form does not.
    const reordered = JSON.stringify(
      { fields: [{ type: 'string', name: 'name' }], namespace: 'com.example', name: 'User', type: 'record' },
      null,
      2,
    )
    assert.deepEqual(await store.register('s', { schema: reordered }), { id: 1, version: 1 })
    assert.deepEqual(store.listVersions('s'), [1, 2])
    assert.equal(metadata.puts, puts, 'nothing written for a duplicate')
  })

  test('the same schema under another subject gets the same id', async () => {
    const { store } = await fresh()
    const a = await store.register('a-value', { schema: v1 })
    const b = await store.register('b-value', { schema: v1 })
    assert.equal(a.id, b.id)
    assert.equal(b.version, 1)
    assert.deepEqual(store.versionsById(a.id), [
      { subject: 'a-value', version: 1 },
      { subject: 'b-value', version: 1 },
    ])
    // Same text as JSON Schema is a different schema, so a different id.
    const json = await store.register('c-value', { schema: '{"type":"string"}', schemaType: 'JSON' })
    const avro = await store.register('d-value', { schema: '{"type":"string"}' })
    assert.notEqual(json.id, avro.id)
  })

  test('defaults take part in identity (schemas differing only in a default get distinct ids)', async () => {
    const { store } = await fresh()
    await store.setCompatibility('NONE')
    const a = await store.register('s', { schema: avroRecord([{ name: 'n', type: 'int' }]) })
    const b = await store.register('s', { schema: avroRecord([{ name: 'n', type: 'int', default: 1 }]) })
    assert.notEqual(a.id, b.id)
  })

  test('lookup finds the version holding a schema', async () => {
    const { store } = await fresh()
    await store.register('s', { schema: v1 })
    await store.register('s', { schema: v2 })
    await store.register('other', { schema: v3 })
    const found = store.lookup('s', { schema: v1 })
    assert.deepEqual(found, { subject: 's', id: 1, version: 1, schema: v1, schemaType: 'AVRO', references: [] })
    throwsCode(() => store.lookup('s', { schema: v3 }), 'SCHEMA_NOT_FOUND', 40403)
    throwsCode(() => store.lookup('nope', { schema: v1 }), 'SCHEMA_NOT_FOUND', 40401)
  })

  test('unknown subjects, versions and ids carry Confluent codes', async () => {
    const { store } = await fresh()
    await store.register('s', { schema: v1 })
    throwsCode(() => store.getVersion('nope', 1), 'SCHEMA_NOT_FOUND', 40401)
    throwsCode(() => store.getVersion('s', 7), 'SCHEMA_NOT_FOUND', 40402)
    throwsCode(() => store.getVersion('s', 0), 'INVALID_ARGUMENT', 42202)
    throwsCode(() => store.getVersion('s', 1.5), 'INVALID_ARGUMENT', 42202)
    throwsCode(() => store.getById(99), 'SCHEMA_NOT_FOUND', 40403)
    throwsCode(() => store.listVersions('nope'), 'SCHEMA_NOT_FOUND', 40401)
    await rejectsCode(store.register('', { schema: v1 }), 'INVALID_ARGUMENT')
  })

  test('invalid schemas are INVALID_SCHEMA', async () => {
    const { store } = await fresh()
    const bad: Array<[string, 'AVRO' | 'JSON' | undefined]> = [
      ['not json', undefined],
      ['{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}', 'AVRO'],
      ['{"type":"record","name":"X","fields":[{"name":"a","type":"int","default":"x"}]}', 'AVRO'],
      ['{"type":"enum","name":"E","symbols":["A","A"]}', 'AVRO'],
      ['{"type":"foo"}', 'JSON'],
      ['{"type":"object","properties":{"a":{"minimum":"zero"}}}', 'JSON'],
      ['[1,2]', 'JSON'],
      ['', 'JSON'],
    ]
    for (const [schema, schemaType] of bad)
      await rejectsCode(store.register('s', schemaType ? { schema, schemaType } : { schema }), 'INVALID_SCHEMA', 42201)
    await rejectsCode(store.register('s', { schema: v1, schemaType: 'PROTOBUF' as 'AVRO' }), 'INVALID_SCHEMA')
    assert.deepEqual(store.listSubjects(), [])
  })

  test('oversized schemas are refused', async () => {
    const { store } = await fresh()
    const doc = `{"type":"string","description":"${'x'.repeat(1024 * 1024)}"}`
    await rejectsCode(store.register('s', { schema: doc, schemaType: 'JSON' }), 'LIMIT_EXCEEDED')
  })

  test('concurrent registrations of one schema yield one version', async () => {
    const { store } = await fresh()
    const results = await Promise.all([1, 2, 3, 4].map(() => store.register('s', { schema: v1 })))
    for (const r of results) assert.deepEqual(r, { id: 1, version: 1 })
    assert.deepEqual(store.listVersions('s'), [1])
  })

  test('a failed catalog write leaves memory unchanged and the store usable', async () => {
    const { store, metadata } = await fresh()
    await store.register('s', { schema: v1 })
    metadata.failNext = new Error('disk on fire')
    await assert.rejects(store.register('s', { schema: v2 }), /disk on fire/)
    assert.deepEqual(store.listVersions('s'), [1])
    assert.deepEqual(await store.register('s', { schema: v2 }), { id: 2, version: 2 })
  })
})

describe('schema store: deletes', () => {
  test('soft delete hides a subject, permanent delete needs a soft delete first', async () => {
    const { store } = await fresh()
    await store.register('s', { schema: v1 })
    await store.register('s', { schema: v2 })
    await store.register('t', { schema: v1 })
    await rejectsCode(store.deleteSubject('s', { permanent: true }), 'PRECONDITION_FAILED', 40405)
    assert.deepEqual(await store.deleteSubject('s'), [1, 2])
    assert.deepEqual(store.listSubjects(), ['t'])
    assert.deepEqual(store.listSubjects({ deleted: true }), ['s', 't'])
    throwsCode(() => store.listVersions('s'), 'SCHEMA_NOT_FOUND', 40401)
    assert.deepEqual(store.listVersions('s', { deleted: true }), [1, 2])
    throwsCode(() => store.getVersion('s', 1), 'SCHEMA_NOT_FOUND', 40401)
    assert.equal(store.getVersion('s', 1, { deleted: true }).id, 1)
    // Ids stay readable after a soft delete: old data must still decode.
    assert.equal(store.getById(2).schema, v2)
    await rejectsCode(store.deleteSubject('s'), 'SCHEMA_NOT_FOUND', 40404)

    assert.deepEqual(await store.deleteSubject('s', { permanent: true }), [1, 2])
    assert.deepEqual(store.listSubjects({ deleted: true }), ['t'])
    // id 1 is still used by t; id 2 is gone.
    assert.equal(store.getById(1).schema, v1)
    throwsCode(() => store.getById(2), 'SCHEMA_NOT_FOUND', 40403)
    await rejectsCode(store.deleteSubject('s'), 'SCHEMA_NOT_FOUND', 40401)
  })

  test('re-registering after a soft delete continues the version numbers and reuses the id', async () => {
    const { store } = await fresh()
    await store.register('s', { schema: v1 })
    await store.deleteSubject('s')
    assert.deepEqual(await store.register('s', { schema: v1 }), { id: 1, version: 2 })
    assert.deepEqual(store.listVersions('s'), [2])
  })

  test('after a permanent delete, ids are not reused and versions restart', async () => {
    const { store } = await fresh()
    await store.register('s', { schema: v1 })
    await store.deleteSubject('s')
    await store.deleteSubject('s', { permanent: true })
    assert.deepEqual(await store.register('s', { schema: v2 }), { id: 2, version: 1 })
    assert.deepEqual(await store.register('t', { schema: v1 }), { id: 3, version: 1 })
  })

  test('version deletes: soft, then permanent; latest moves back', async () => {
    const { store } = await fresh()
    await store.register('s', { schema: v1 })
    await store.register('s', { schema: v2 })
    await store.register('s', { schema: v3 })
    await rejectsCode(store.deleteVersion('s', 2, { permanent: true }), 'PRECONDITION_FAILED', 40407)
    assert.equal(await store.deleteVersion('s', 'latest'), 3)
    assert.equal(store.getVersion('s', 'latest').version, 2)
    await rejectsCode(store.deleteVersion('s', 3), 'SCHEMA_NOT_FOUND', 40406)
    await rejectsCode(store.deleteVersion('s', 9), 'SCHEMA_NOT_FOUND', 40402)
    assert.equal(await store.deleteVersion('s', 3, { permanent: true }), 3)
    assert.deepEqual(store.listVersions('s', { deleted: true }), [1, 2])
    throwsCode(() => store.getById(3), 'SCHEMA_NOT_FOUND', 40403)
    // The deleted schema can come back; the version number continues after the highest kept one.
    assert.deepEqual(await store.register('s', { schema: v3 }), { id: 4, version: 3 })
  })

  test('a version another schema references cannot be deleted', async () => {
    const { store } = await fresh()
    const address = JSON.stringify({
      type: 'record',
      name: 'Address',
      namespace: 'com.example',
      fields: [{ name: 'city', type: 'string' }],
    })
    await store.register('address', { schema: address })
    const person = JSON.stringify({
      type: 'record',
      name: 'Person',
      namespace: 'com.example',
      fields: [{ name: 'home', type: 'com.example.Address' }],
    })
    const refs = [{ name: 'com.example.Address', subject: 'address', version: 1 }]
    const { id } = await store.register('person', { schema: person, references: refs })
    assert.deepEqual(store.getById(id).references, refs)
    const encoded = store.encode('person', { home: { city: 'Oslo' } })
    assert.deepEqual(JSON.parse(JSON.stringify(store.decode(encoded).value)), { home: { city: 'Oslo' } })
    await rejectsCode(store.deleteSubject('address'), 'PRECONDITION_FAILED', 42206)
    await store.deleteSubject('person')
    await store.deleteSubject('person', { permanent: true })
    assert.deepEqual(await store.deleteSubject('address'), [1])
    // Unknown reference targets are invalid schemas.
    await rejectsCode(
      store.register('p2', {
        schema: person,
        references: [{ name: 'com.example.Address', subject: 'nope', version: 1 }],
      }),
      'INVALID_SCHEMA',
    )
  })
})

describe('schema store: compatibility config and persistence', () => {
  test('global default BACKWARD, subject level unset until set, delete falls back', async () => {
    const { store } = await fresh()
    assert.equal(store.getCompatibility(), 'BACKWARD')
    assert.equal(store.getCompatibility('s'), undefined)
    assert.equal(store.effectiveCompatibility('s'), 'BACKWARD')
    await store.setCompatibility('FULL', 's')
    assert.equal(store.getCompatibility('s'), 'FULL')
    assert.equal(store.effectiveCompatibility('s'), 'FULL')
    await store.setCompatibility('NONE')
    assert.equal(store.effectiveCompatibility('t'), 'NONE')
    assert.equal(await store.deleteCompatibility('s'), 'FULL')
    assert.equal(store.getCompatibility('s'), undefined)
    await rejectsCode(store.deleteCompatibility('s'), 'SCHEMA_NOT_FOUND', 40408)
    assert.equal(await store.deleteCompatibility(), 'NONE')
    assert.equal(store.getCompatibility(), 'BACKWARD')
    await rejectsCode(store.setCompatibility('SIDEWAYS' as 'NONE'), 'INVALID_CONFIG', 42203)
  })

  test('everything survives open() on the same catalog', async () => {
    const { store, metadata } = await fresh()
    await store.register('s', { schema: v1 })
    await store.register('s', { schema: v2 })
    await store.register('j', { schema: '{"type":"object"}', schemaType: 'JSON' })
    await store.deleteVersion('s', 1)
    await store.setCompatibility('FORWARD', 's')
    await store.setCompatibility('FULL')

    const again = await SchemaStore.open(metadata)
    assert.deepEqual(again.listSubjects(), ['j', 's'])
    assert.deepEqual(again.listVersions('s'), [2])
    assert.deepEqual(again.listVersions('s', { deleted: true }), [1, 2])
    assert.equal(again.getById(3).schemaType, 'JSON')
    assert.equal(again.getCompatibility('s'), 'FORWARD')
    assert.equal(again.getCompatibility(), 'FULL')
    // Dedup and id allocation continue where they were.
    assert.deepEqual(await again.register('x', { schema: v2 }), { id: 2, version: 1 })
    assert.equal((await again.register('x', { schema: v3 })).id, 4)
    // Compatibility still applies to reloaded (lazily re-parsed) versions: FORWARD on s.
    await rejectsCode(
      again.register('s', { schema: avroRecord([{ name: 'other', type: 'int' }]) }),
      'SCHEMA_INCOMPATIBLE',
      40901,
    )
  })
})

describe('schema store: JSON Schema references', () => {
  test('a $ref to a referenced subject resolves for validation and compatibility', async () => {
    const store = await SchemaStore.open(new MemoryMetadata())
    const address = JSON.stringify({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] })
    await store.register('address', { schema: address, schemaType: 'JSON' })
    const person = (type: string) =>
      JSON.stringify({ type: 'object', properties: { home: { $ref: 'address.json' }, age: { type } } })
    const references = [{ name: 'address.json', subject: 'address', version: 1 }]
    const { id } = await store.register('person', { schema: person('integer'), schemaType: 'JSON', references })
    const check = store.validator('person')
    assert.equal(check(Buffer.from('{"home":{"city":"Oslo"},"age":3}')).ok, true)
    assert.equal(check(Buffer.from('{"home":{},"age":3}')).ok, false)
    throwsCode(() => store.encode(id, { home: { town: 'x' } }), 'SCHEMA_VIOLATION')
    // The same text without the reference is another schema (and cannot compile: the $ref is dangling).
    await rejectsCode(store.register('p2', { schema: person('integer'), schemaType: 'JSON' }), 'INVALID_SCHEMA')
    // Widening a property next to the external $ref is backward compatible; narrowing is not.
    await rejectsCode(
      store.register('person', { schema: person('string'), schemaType: 'JSON', references }),
      'SCHEMA_INCOMPATIBLE',
    )
    assert.equal(
      (await store.register('person', { schema: person('number'), schemaType: 'JSON', references })).version,
      2,
    )
  })
})
