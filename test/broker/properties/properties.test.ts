import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  MessageProperties,
  type Property,
  type PropertyType,
  parsePropertyText,
  property,
  propertyHeaders,
  TYPES_HEADER,
} from '../../../src/broker/properties/properties.ts'

const runs = process.env.WHARF_LONG === '1' ? 20_000 : 500

test('each of the eight types survives headers and back, strings without a types entry', () => {
  const props: [string, Property][] = [
    ['ok', property('boolean', true)],
    ['b', property('byte', -128)],
    ['s', property('short', 32767)],
    ['i', property('int', -2147483648)],
    ['l', property('long', 2n ** 63n - 1n)],
    ['f', property('float', 0.1)],
    ['d', property('double', 0.1)],
    ['name', property('string', 'café, 1')],
  ]
  const headers = propertyHeaders(props)
  assert.equal(headers.find((h) => h.key === 'l')?.value?.toString(), '9223372036854775807')
  assert.equal(headers.find((h) => h.key === 'ok')?.value?.toString(), 'true')
  const types = JSON.parse(headers.find((h) => h.key === TYPES_HEADER)!.value!.toString())
  assert.equal(types.name, undefined)
  assert.equal(types.i, 'int')
  assert.deepEqual(new MessageProperties(headers).all(), new Map(props))
  assert.equal(new MessageProperties(headers).get('f')?.value, Math.fround(0.1))
  assert.notEqual(Math.fround(0.1), 0.1)
})

test('values out of their type range are refused', () => {
  assert.throws(() => property('byte', 128), TypeError)
  assert.throws(() => property('int', 2 ** 31), TypeError)
  assert.throws(() => property('int', 1.5), TypeError)
  assert.throws(() => property('long', 2n ** 63n), TypeError)
  assert.throws(() => property('long', 2 ** 60), TypeError) // not a safe integer: would already be rounded
  assert.throws(() => property('boolean', 'true'), TypeError)
  assert.equal(parsePropertyText('short', '40000'), undefined)
  assert.equal(parsePropertyText('boolean', 'TRUE'), undefined)
  assert.equal(parsePropertyText('double', '1e400'), Number.POSITIVE_INFINITY)
  assert.equal(parsePropertyText('double', '0x10'), undefined)
})

test('headers that are not properties, bad types JSON and mistyped text read safely', () => {
  const headers = [
    { key: 'wharf.priority', value: Buffer.from('4') },
    { key: 'amqp.props', value: Buffer.from([0, 0]) },
    { key: 'n', value: Buffer.from('not a number') },
    { key: 'n', value: Buffer.from('7') },
    { key: 'gone', value: null },
    { key: TYPES_HEADER, value: Buffer.from('{"n":"int","gone":"int"}') },
  ]
  const props = new MessageProperties(headers)
  assert.equal(props.get('wharf.priority'), undefined)
  assert.equal(props.get('amqp.props'), undefined)
  // The first header of a name wins; its text is not an int, so it stays a string rather than being lost.
  assert.deepEqual(props.get('n'), { type: 'string', value: 'not a number' })
  assert.equal(props.get('gone'), undefined)
  assert.deepEqual([...props.all().keys()], ['n'])
  const broken = new MessageProperties([
    { key: 'n', value: Buffer.from('7') },
    { key: TYPES_HEADER, value: Buffer.from('{') },
  ])
  assert.deepEqual(broken.get('n'), { type: 'string', value: '7' })
})

test('property: any valid typed value reads back equal (fast-check)', () => {
  const typed: fc.Arbitrary<Property> = fc.oneof(
    fc.boolean().map((v) => property('boolean', v)),
    fc.integer({ min: -128, max: 127 }).map((v) => property('byte', v)),
    fc.integer({ min: -32768, max: 32767 }).map((v) => property('short', v)),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((v) => property('int', v)),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => property('long', v)),
    fc.float({ noNaN: true }).map((v) => property('float', v)),
    fc.double({ noNaN: true }).map((v) => property('double', v)),
    fc.string().map((v) => property('string', v)),
  )
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/), typed), { selector: (e) => e[0] }),
      (entries) => {
        const read = new MessageProperties(propertyHeaders(entries)).all()
        assert.equal(read.size, entries.length)
        for (const [name, p] of entries) {
          const back = read.get(name)!
          assert.equal(back.type, p.type as PropertyType)
          assert.ok(
            Object.is(back.value, p.value) || back.value === p.value,
            `${name}: ${String(back.value)} vs ${String(p.value)}`,
          )
        }
      },
    ),
    { numRuns: runs },
  )
})

test('the types header escapes names JSON must escape and reads back', () => {
  const names = ['plain.name-1', 'quo"te', 'back\\slash', 'new\nline', 'ünï']
  const headers = propertyHeaders(names.map((n) => [n, property('int', 1)] as [string, Property]))
  const types = JSON.parse(headers.at(-1)!.value!.toString())
  assert.deepEqual(Object.keys(types), names)
  assert.deepEqual(new Set(Object.values(types)), new Set(['int']))
})
