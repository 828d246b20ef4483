// AMQP 0-9-1 properties ↔ the neutral form (pure logic; the real-client proofs are test/protocols/properties.test.ts):
// the field-table letter decides the property type, the property type decides the letter back, and the mapped
// basic properties land under the JMS names.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  MessageProperties,
  type Property,
  property,
  propertyHeaders,
  TYPES_HEADER,
} from '../../../src/broker/properties/properties.ts'
import {
  AmqpTyped,
  type BasicProperties,
  encodeContentHeaderFrame,
  FRAME_OVERHEAD_BYTES,
  typed,
} from '../../../src/protocols/amqp/codec/index.ts'
import { decimalText, neutralHeaders, propertiesFromHeaders } from '../../../src/protocols/amqp/properties.ts'

/** The raw property bytes of a content header with these properties (what `amqp.props` stores). */
function rawOf(props: BasicProperties): Buffer {
  const frame = encodeContentHeaderFrame(1, 0, props)
  return frame.subarray(FRAME_OVERHEAD_BYTES - 1 + 12, frame.length - 1)
}

function text(headers: ReturnType<typeof neutralHeaders>): Record<string, string> {
  return Object.fromEntries((headers ?? []).map((h) => [h.key, h.value?.toString() ?? '']))
}

test('each field-table letter becomes its JMS type; tables, arrays, void and binary x stay AMQP-only', () => {
  const props: BasicProperties = {
    contentType: 'text/plain',
    contentEncoding: 'gzip',
    headers: {
      t: true,
      b: typed('b', -128),
      B: typed('B', 255),
      s: typed('s', -32768),
      u: typed('u', 65535),
      I: typed('I', 2147483647),
      i: typed('i', 4294967295),
      l: typed('l', 2n ** 63n - 1n),
      f: typed('f', 0.1),
      d: typed('d', 0.1),
      D: typed('D', { scale: 2, value: 12345 }),
      S: 'café',
      x: Buffer.from('text bytes'),
      xb: Buffer.from([0xff, 0xfe]),
      T: typed('T', 1_700_000_000),
      A: [1, 2],
      F: { nested: 1 },
      V: null,
      'wharf.priority': typed('I', 9),
      'amqp.props': 'no',
    },
  }
  const headers = neutralHeaders(rawOf(props))
  const all = new MessageProperties(headers!).all()
  assert.deepEqual(Object.fromEntries(all), {
    'content-type': { type: 'string', value: 'text/plain' },
    t: { type: 'boolean', value: true },
    b: { type: 'byte', value: -128 },
    B: { type: 'short', value: 255 },
    s: { type: 'short', value: -32768 },
    u: { type: 'int', value: 65535 },
    I: { type: 'int', value: 2147483647 },
    i: { type: 'long', value: 4294967295n },
    l: { type: 'long', value: 2n ** 63n - 1n },
    f: { type: 'float', value: Math.fround(0.1) },
    d: { type: 'double', value: 0.1 },
    D: { type: 'string', value: '123.45' },
    S: { type: 'string', value: 'café' },
    x: { type: 'string', value: 'text bytes' },
    T: { type: 'long', value: 1_700_000_000_000n },
  })
  // The float's text is the shortest that reads back as the same 32-bit value.
  assert.equal(text(headers).f, '0.1')
  assert.ok(!(headers ?? []).some((h) => h.key === 'wharf.priority' || h.key === 'amqp.props'))
})

test('basic properties become the neutral JMS headers and win over a headers-table entry of the same name', () => {
  const props: BasicProperties = {
    deliveryMode: 2,
    correlationId: 'corr-1',
    replyTo: 'replies',
    type: 'order',
    messageId: 'm-1',
    timestamp: 1_700_000_000,
    appId: 'shop',
    userId: 'alice',
    priority: 5,
    expiration: '60000',
    headers: { 'correlation-id': 'from the table', custom: 'kept' },
  }
  const headers = neutralHeaders(rawOf(props))!
  assert.deepEqual(text(headers), {
    'correlation-id': 'corr-1',
    'reply-to': 'replies',
    type: 'order',
    'message-id': 'm-1',
    JMSXAppID: 'shop',
    JMSXUserID: 'alice',
    persistent: 'true',
    timestamp: '1700000000000',
    custom: 'kept',
  })
  assert.equal(headers.filter((h) => h.key === 'correlation-id').length, 1)
  assert.equal(text(neutralHeaders(rawOf({ deliveryMode: 1 }))).persistent, 'false')
})

test('a publish with no mapped property (or an empty headers table) gets no neutral headers', () => {
  assert.equal(neutralHeaders(rawOf({})), undefined)
  assert.equal(neutralHeaders(rawOf({ priority: 3, expiration: '10' })), undefined)
  assert.equal(neutralHeaders(rawOf({ headers: {} })), undefined)
  assert.equal(neutralHeaders(rawOf({ headers: { n: null } })), undefined)
})

test('typed properties from another protocol become a typed headers table; neutral names basic properties', () => {
  const typedProps: [string, Property][] = [
    ['ok', property('boolean', false)],
    ['b', property('byte', 7)],
    ['s', property('short', 300)],
    ['i', property('int', 70000)],
    ['l', property('long', 9007199254740993n)],
    ['f', property('float', 1.5)],
    ['d', property('double', 0.25)],
    ['name', property('string', 'x')],
  ]
  const headers = [
    { key: 'wharf.routing-key', value: Buffer.from('rk') },
    { key: 'correlation-id', value: Buffer.from('c-9') },
    { key: 'persistent', value: Buffer.from('false') },
    { key: 'timestamp', value: Buffer.from('1700000000999') },
    { key: 'JMSXAppID', value: Buffer.from('app') },
    { key: 'reply-to', value: Buffer.from('r'.repeat(300)) },
    ...propertyHeaders(typedProps),
  ]
  const props = propertiesFromHeaders(headers)
  assert.equal(props.correlationId, 'c-9')
  assert.equal(props.deliveryMode, 1)
  assert.equal(props.timestamp, 1_700_000_000)
  assert.equal(props.appId, 'app')
  assert.equal(props.replyTo, undefined, 'too long for a shortstr: stays in the table')
  const table = props.headers!
  assert.equal(table['reply-to'], 'r'.repeat(300))
  assert.equal(table.ok, false)
  assert.equal(table.name, 'x')
  const letters = Object.fromEntries(
    Object.entries(table)
      .filter(([, v]) => v instanceof AmqpTyped)
      .map(([k, v]) => [k, [(v as AmqpTyped).type, (v as AmqpTyped).value]]),
  )
  assert.deepEqual(letters, {
    b: ['b', 7],
    s: ['s', 300],
    i: ['I', 70000],
    l: ['l', 9007199254740993n],
    f: ['f', 1.5],
    d: ['d', 0.25],
  })
  assert.equal(table[TYPES_HEADER], undefined)
  assert.equal(table['wharf.routing-key'], undefined)
  // And the table encodes (the long keeps all 64 bits).
  assert.ok(rawOf(props).length > 0)
})

test('typed → AMQP table → typed is the identity for the eight types', () => {
  const typedProps: [string, Property][] = [
    ['ok', property('boolean', true)],
    ['b', property('byte', -1)],
    ['s', property('short', -300)],
    ['i', property('int', -70000)],
    ['l', property('long', -(2n ** 63n))],
    ['f', property('float', -0.3)],
    ['d', property('double', Number.MAX_VALUE)],
    ['name', property('string', 'ünïcode')],
  ]
  const props = propertiesFromHeaders(propertyHeaders(typedProps))
  const back = new MessageProperties(neutralHeaders(rawOf(props))!).all()
  assert.deepEqual(back, new Map(typedProps))
})

test('a header whose text does not parse as its recorded type stays a longstr', () => {
  const props = propertiesFromHeaders([
    { key: 'n', value: Buffer.from('not a number') },
    { key: TYPES_HEADER, value: Buffer.from('{"n":"int"}') },
  ])
  assert.equal(props.headers?.n, 'not a number')
})

test('a header named __proto__ is an ordinary table entry, not the table prototype', () => {
  const props = propertiesFromHeaders([
    { key: '__proto__', value: Buffer.from('7') },
    { key: TYPES_HEADER, value: Buffer.from('{"__proto__":"int"}') },
  ])
  const table = props.headers!
  assert.equal(Object.getPrototypeOf(table), Object.prototype)
  assert.ok(Object.hasOwn(table, '__proto__'))
  assert.ok(rawOf(props).length > 0)
})

test('decimal text is exact', () => {
  assert.equal(decimalText(12345, 2), '123.45')
  assert.equal(decimalText(5, 3), '0.005')
  assert.equal(decimalText(42, 0), '42')
})
