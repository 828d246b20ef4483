import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type CompatibilityLevel, SchemaStore, type SchemaType } from '../../../src/broker/schema/index.ts'
import { MemoryMetadata } from '../../fixtures/memory-metadata.ts'
import { avroRecord, rejectsCode } from './helpers.ts'

/** Registers `history` under NONE, then asks whether `candidate` passes `level` (as register would). */
async function passes(
  level: CompatibilityLevel,
  history: string[],
  candidate: string,
  schemaType: SchemaType = 'AVRO',
) {
  const store = await SchemaStore.open(new MemoryMetadata())
  await store.setCompatibility('NONE', 's')
  for (const schema of history) await store.register('s', { schema, schemaType })
  await store.setCompatibility(level, 's')
  const result = store.testCompatibility('s', undefined, { schema: candidate, schemaType })
  assert.equal(result.compatible, result.messages.length === 0)
  // register() must agree with the test endpoint.
  const registered = await store.register('s', { schema: candidate, schemaType }).then(
    () => true,
    (e: { code?: string }) => {
      assert.equal(e.code, 'SCHEMA_INCOMPATIBLE')
      return false
    },
  )
  assert.equal(registered, result.compatible, result.messages.join('; '))
  return result.compatible
}

// The Confluent documentation's Avro examples.
const name = { name: 'name', type: 'string' }
const base = avroRecord([name])
const withAgeDefault = avroRecord([name, { name: 'age', type: 'int', default: 0 }])
const withAge = avroRecord([name, { name: 'age', type: 'int' }])
const withAgeLong = avroRecord([name, { name: 'age', type: 'long' }])
const withAgeString = avroRecord([name, { name: 'age', type: 'string' }])

describe('Avro compatibility', () => {
  test('add a field with a default: backward and forward compatible', async () => {
    assert.equal(await passes('BACKWARD', [base], withAgeDefault), true)
    assert.equal(await passes('FORWARD', [base], withAgeDefault), true)
    assert.equal(await passes('FULL', [base], withAgeDefault), true)
  })

  test('add a field without a default: forward only', async () => {
    assert.equal(await passes('BACKWARD', [base], withAge), false)
    assert.equal(await passes('FORWARD', [base], withAge), true)
    assert.equal(await passes('FULL', [base], withAge), false)
  })

  test('remove a field: backward only (unless it had a default)', async () => {
    assert.equal(await passes('BACKWARD', [withAge], base), true)
    assert.equal(await passes('FORWARD', [withAge], base), false)
    assert.equal(await passes('FULL', [withAge], base), false)
    assert.equal(await passes('FULL', [withAgeDefault], base), true)
  })

  test('type promotion int→long: backward only; int→string: neither', async () => {
    assert.equal(await passes('BACKWARD', [withAge], withAgeLong), true)
    assert.equal(await passes('FORWARD', [withAge], withAgeLong), false)
    assert.equal(await passes('BACKWARD', [withAgeLong], withAge), false)
    assert.equal(await passes('BACKWARD', [withAge], withAgeString), false)
    assert.equal(await passes('FORWARD', [withAge], withAgeString), false)
  })

  test('enum symbols and record renames', async () => {
    const e = (symbols: string[], extra: object = {}) =>
      JSON.stringify({ type: 'enum', name: 'Color', symbols, ...extra })
    assert.equal(await passes('BACKWARD', [e(['RED', 'GREEN'])], e(['RED', 'GREEN', 'BLUE'])), true)
    assert.equal(await passes('FORWARD', [e(['RED', 'GREEN'])], e(['RED', 'GREEN', 'BLUE'])), false)
    assert.equal(await passes('FORWARD', [e(['RED', 'GREEN'], { default: 'RED' })], e(['RED', 'GREEN', 'BLUE'])), true)
    const renamed = avroRecord([name], 'Customer')
    assert.equal(await passes('BACKWARD', [base], renamed), false)
    const aliased = JSON.stringify({
      type: 'record',
      name: 'Customer',
      namespace: 'com.example',
      aliases: ['User'],
      fields: [name],
    })
    assert.equal(await passes('BACKWARD', [base], aliased), true)
  })

  test('NONE accepts anything, including a change of schema type', async () => {
    assert.equal(await passes('NONE', [withAge], withAgeString), true)
    const store = await SchemaStore.open(new MemoryMetadata())
    await store.register('s', { schema: base })
    await rejectsCode(
      store.register('s', { schema: '{"type":"object"}', schemaType: 'JSON' }),
      'SCHEMA_INCOMPATIBLE',
      40901,
    )
    await store.setCompatibility('NONE', 's')
    assert.equal((await store.register('s', { schema: '{"type":"object"}', schemaType: 'JSON' })).version, 2)
  })

  test('transitive levels check every earlier version, the others only the latest', async () => {
    // v1 has no age; v2 adds it with a default; v3 drops the default. v3 reads v2 data but not v1 data.
    const history = [base, withAgeDefault]
    assert.equal(await passes('BACKWARD', history, withAge), true)
    assert.equal(await passes('BACKWARD_TRANSITIVE', history, withAge), false)
    // v1 requires age; v2 gives it a default; v3 removes it. v2 reads v3 data, v1 cannot.
    const fwd = [withAge, withAgeDefault]
    assert.equal(await passes('FORWARD', fwd, base), true)
    assert.equal(await passes('FORWARD_TRANSITIVE', fwd, base), false)
    assert.equal(
      await passes('FULL', [withAgeDefault, withAgeDefault.replace('"age"', '"age2"')], withAgeDefault),
      true,
    )
    assert.equal(await passes('FULL_TRANSITIVE', [withAge, withAgeDefault], base), false)
    assert.equal(await passes('FULL', [withAge, withAgeDefault], base), true)
  })

  test('soft-deleted versions are not checked', async () => {
    const store = await SchemaStore.open(new MemoryMetadata())
    await store.register('s', { schema: withAge })
    await store.deleteVersion('s', 1)
    assert.equal((await store.register('s', { schema: withAgeString })).version, 2)
  })

  test('testCompatibility against one version uses the level direction, and explains', async () => {
    const store = await SchemaStore.open(new MemoryMetadata())
    await store.setCompatibility('NONE', 's')
    await store.register('s', { schema: base })
    await store.register('s', { schema: withAge })
    await store.setCompatibility('BACKWARD', 's')
    assert.equal(store.testCompatibility('s', 2, { schema: withAgeDefault }).compatible, true)
    const result = store.testCompatibility('s', 1, { schema: withAge })
    assert.equal(result.compatible, false)
    assert.match(result.messages[0] ?? '', /BACKWARD/)
    assert.equal(store.testCompatibility('s', 'latest', { schema: withAgeLong }).compatible, true)
  })
})

const J = (doc: object) => JSON.stringify(doc)
const obj = (properties: object, extra: object = {}) => J({ type: 'object', properties, ...extra })
const json = (level: CompatibilityLevel, before: string, after: string) => passes(level, [before], after, 'JSON')

describe('JSON Schema compatibility', () => {
  test('adding a required property breaks BACKWARD, dropping required does not', async () => {
    const a = obj({ id: { type: 'integer' } })
    const b = obj({ id: { type: 'integer' }, name: { type: 'string' } }, { required: ['name'] })
    assert.equal(await json('BACKWARD', a, b), false)
    assert.equal(await json('BACKWARD', b, a.replace('}}}', '}}, "additionalProperties": true}')), true)
    assert.equal(await json('FORWARD', b, a), false)
  })

  test('adding an optional property: fine for a closed model, not for an open one', async () => {
    const closed = obj({ id: { type: 'integer' } }, { additionalProperties: false })
    const closedPlus = obj({ id: { type: 'integer' }, note: { type: 'string' } }, { additionalProperties: false })
    assert.equal(await json('BACKWARD', closed, closedPlus), true)
    const open = obj({ id: { type: 'integer' } })
    const openPlus = obj({ id: { type: 'integer' }, note: { type: 'string' } })
    assert.equal(await json('BACKWARD', open, openPlus), false)
    // An unconstrained new property cannot reject anything.
    assert.equal(await json('BACKWARD', open, obj({ id: { type: 'integer' }, note: {} })), true)
  })

  test('removing a property from a closed model breaks BACKWARD, not FORWARD', async () => {
    const before = obj({ id: { type: 'integer' }, note: { type: 'string' } }, { additionalProperties: false })
    const after = obj({ id: { type: 'integer' } }, { additionalProperties: false })
    assert.equal(await json('BACKWARD', before, after), false)
    assert.equal(await json('FORWARD', before, after), true)
    assert.equal(
      await json(
        'BACKWARD',
        obj({ id: { type: 'integer' }, note: { type: 'string' } }),
        obj({ id: { type: 'integer' } }),
      ),
      true,
    )
  })

  test('widening and narrowing types, enums and bounds', async () => {
    const t = (type: unknown, extra: object = {}) => J({ type, ...extra })
    assert.equal(await json('BACKWARD', t('integer'), t('number')), true)
    assert.equal(await json('FORWARD', t('integer'), t('number')), false)
    assert.equal(await json('BACKWARD', t('string'), t(['string', 'null'])), true)
    assert.equal(await json('BACKWARD', t(['string', 'null']), t('string')), false)
    assert.equal(await json('BACKWARD', J({}), t('string')), false)
    assert.equal(
      await json('BACKWARD', t('string', { enum: ['a', 'b'] }), t('string', { enum: ['a', 'b', 'c'] })),
      true,
    )
    assert.equal(
      await json('FORWARD', t('string', { enum: ['a', 'b'] }), t('string', { enum: ['a', 'b', 'c'] })),
      false,
    )
    assert.equal(await json('BACKWARD', t('string', { maxLength: 10 }), t('string', { maxLength: 5 })), false)
    assert.equal(await json('BACKWARD', t('string', { maxLength: 5 }), t('string', { maxLength: 10 })), true)
    assert.equal(await json('BACKWARD', t('number', { minimum: 0 }), t('number', { exclusiveMinimum: 0 })), false)
    assert.equal(await json('BACKWARD', t('number', { exclusiveMinimum: 0 }), t('number', { minimum: 0 })), true)
    assert.equal(await json('BACKWARD', t('integer', { multipleOf: 4 }), t('integer', { multipleOf: 2 })), true)
    assert.equal(await json('BACKWARD', t('integer', { multipleOf: 2 }), t('integer', { multipleOf: 4 })), false)
    assert.equal(
      await json('BACKWARD', t('array', { items: { type: 'integer' } }), t('array', { items: { type: 'number' } })),
      true,
    )
    assert.equal(
      await json('BACKWARD', t('array', { items: { type: 'number' } }), t('array', { items: { type: 'integer' } })),
      false,
    )
  })

  test('combinators and $ref are followed', async () => {
    const str = J({ type: 'string' })
    const strOrNum = J({ anyOf: [{ type: 'string' }, { type: 'number' }] })
    assert.equal(await json('BACKWARD', str, strOrNum), true)
    assert.equal(await json('FORWARD', str, strOrNum), false)
    const withRef = (type: string) =>
      J({ type: 'object', properties: { when: { $ref: '#/definitions/ts' } }, definitions: { ts: { type } } })
    assert.equal(await json('BACKWARD', withRef('integer'), withRef('number')), true)
    assert.equal(await json('BACKWARD', withRef('number'), withRef('integer')), false)
    const allOf = J({ allOf: [{ type: 'object', properties: { a: { type: 'integer' } } }, { required: ['a'] }] })
    assert.equal(await json('BACKWARD', allOf, obj({ a: { type: 'number' } })), true)
    assert.equal(await json('BACKWARD', obj({ a: { type: 'number' } }), allOf), false)
  })

  test('recursive schemas terminate', async () => {
    const tree = (leaf: string) =>
      J({
        $ref: '#/definitions/node',
        definitions: {
          node: {
            type: 'object',
            properties: { value: { type: leaf }, children: { type: 'array', items: { $ref: '#/definitions/node' } } },
          },
        },
      })
    assert.equal(await json('FULL', tree('integer'), tree('integer').replace('"object"', '"object","title":"t"')), true)
    assert.equal(await json('BACKWARD', tree('integer'), tree('number')), true)
    assert.equal(await json('BACKWARD', tree('number'), tree('integer')), false)
  })

  test('constraints the checker does not analyse must stay unchanged', async () => {
    assert.equal(await json('BACKWARD', J({ type: 'string' }), J({ type: 'string', not: { const: 'x' } })), false)
    assert.equal(await json('BACKWARD', J({ type: 'string', not: { const: 'x' } }), J({ type: 'string' })), true)
    const pp = J({ type: 'object', patternProperties: { '^x-': { type: 'string' } } })
    assert.equal(await json('FULL', pp, pp.replace('}}}', '}}, "title": "same"}')), true)
  })
})
