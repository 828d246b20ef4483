// Field tables with RabbitMQ's type letters: every letter decodes from hand-built bytes, JS values pick
// the documented letters, typed() forces one, and hostile nesting or keys are handled.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  AmqpFrameError,
  AmqpTyped,
  decodeFieldTable,
  encodeFieldTable,
  FIELD_NESTING_DEPTH_MAX,
  type FieldTable,
  letterOf,
  typed,
} from '../../../src/protocols/amqp/codec/index.ts'
import { fieldTable } from './codec-arbitraries.ts'

const runs = process.env.WHARF_LONG === '1' ? 5000 : 200

function entry(key: string, letter: string, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([key.length]), Buffer.from(key + letter, 'latin1'), value])
}
function wrap(...entries: Buffer[]): Buffer {
  const body = Buffer.concat(entries)
  const length = Buffer.alloc(4)
  length.writeUInt32BE(body.length)
  return Buffer.concat([length, body])
}
const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex')

test('every RabbitMQ type letter decodes', () => {
  const bytes = wrap(
    entry('t', 't', hex('01')),
    entry('f0', 't', hex('00')),
    entry('b', 'b', hex('f6')), // -10: amqplib sends small ints as b
    entry('B', 'B', hex('fa')),
    entry('s', 's', hex('ff38')), // -200: s is int16 in RabbitMQ, not a short string
    entry('u', 'u', hex('fde8')),
    entry('I', 'I', hex('fffe7960')),
    entry('i', 'i', hex('fffffffe')),
    entry('l', 'l', hex('ffffffffffffff9c')),
    entry('lb', 'l', hex('7fffffffffffffff')),
    entry('f', 'f', hex('3fc00000')),
    entry('d', 'd', hex('400921fb54442d18')),
    entry('D', 'D', hex('02 000004d2')),
    entry('S', 'S', hex('00000003 e282ac')),
    entry('x', 'x', hex('00000002 00ff')),
    entry('A', 'A', hex('00000009 62 05  53 00000001 61  56')),
    entry('T', 'T', hex('000000006553f100')),
    entry('F', 'F', hex('00000004 01 6b 74 01')),
    entry('V', 'V', hex('')),
  )
  const decoded = decodeFieldTable(bytes)
  assert.deepStrictEqual(decoded, {
    t: true,
    f0: false,
    b: -10,
    B: 250,
    s: -200,
    u: 65000,
    I: -100000,
    i: 4294967294,
    l: -100,
    lb: 2n ** 63n - 1n,
    f: 1.5,
    d: Math.PI,
    D: typed('D', { scale: 2, value: 1234 }),
    S: '€',
    x: Buffer.from([0, 0xff]),
    A: [5, 'a', null],
    T: new Date(1_700_000_000 * 1000),
    F: { k: true },
    V: null,
  })
  // Integer letters compare by value: amqplib's b 10 and our I 10 are the same argument.
  assert.equal(decodeFieldTable(wrap(entry('x-max-priority', 'b', hex('0a'))))['x-max-priority'], 10)
})

test('JS values encode with the letters RabbitMQ and amqplib use', () => {
  const cases: [unknown, string][] = [
    ['s', 'S'],
    [true, 't'],
    [1, 'I'],
    [-(2 ** 31), 'I'],
    [2 ** 31, 'l'],
    [-(2 ** 40), 'l'],
    [1.5, 'd'],
    [-0, 'd'],
    [2 ** 70, 'd'],
    [Number.NaN, 'd'],
    [10n, 'l'],
    [Buffer.alloc(1), 'x'],
    [new Date(0), 'T'],
    [[1], 'A'],
    [{}, 'F'],
    [null, 'V'],
    [typed('b', 3), 'b'],
  ]
  for (const [value, letter] of cases) {
    assert.equal(letterOf(value as never), letter, String(value))
    const bytes = encodeFieldTable({ k: value as never })
    assert.equal(String.fromCharCode(bytes[6]!), letter, `wire letter for ${String(value)}`)
  }
  assert.throws(() => letterOf((() => 1) as never), { code: 'INVALID_ARGUMENT' })
  // Past 2^53 an int64 is exact only as a bigint, so that is how it comes back.
  assert.deepStrictEqual(decodeFieldTable(encodeFieldTable({ big: -(2 ** 53) - 2, max: 2n ** 63n - 1n })), {
    big: -(2n ** 53n) - 2n,
    max: 2n ** 63n - 1n,
  })
})

test('typed() forces each letter and round trips to the plain decoded value', () => {
  const forced: FieldTable = {
    t: typed('t', false),
    b: typed('b', -128),
    B: typed('B', 255),
    s: typed('s', -32768),
    u: typed('u', 65535),
    I: typed('I', 2147483647),
    i: typed('i', 4294967295),
    l: typed('l', -(2 ** 53)),
    f: typed('f', 0.25),
    d: typed('d', 3),
    D: typed('D', { scale: 3, value: 5 }),
    S: typed('S', Buffer.from('raw')),
    x: typed('x', Buffer.from('bytes')),
    A: typed('A', [typed('u', 7)]),
    T: typed('T', 1_700_000_000),
    F: typed('F', { a: typed('s', 1) }),
    V: typed('V', null),
  }
  const decoded = decodeFieldTable(encodeFieldTable(forced))
  assert.deepStrictEqual(decoded, {
    t: false,
    b: -128,
    B: 255,
    s: -32768,
    u: 65535,
    I: 2147483647,
    i: 4294967295,
    l: -(2 ** 53),
    f: 0.25,
    d: 3,
    D: new AmqpTyped('D', { scale: 3, value: 5 }),
    S: 'raw',
    x: Buffer.from('bytes'),
    A: [7],
    T: new Date(1_700_000_000_000),
    F: { a: 1 },
    V: null,
  })
  // Each forced letter is on the wire, in order.
  const letters = [...encodeFieldTable(forced).subarray(4)]
  assert.equal(letters[2], 't'.charCodeAt(0))
  for (const [value, why] of [
    [typed('b', 128), 'int8 overflow'],
    [typed('B', -1), 'uint8 underflow'],
    [typed('u', 1.5), 'fraction'],
    [typed('t', 1), 'not a boolean'],
    [typed('x', 'str'), 'x needs a Buffer'],
    [typed('T', new Date(Number.NaN)), 'invalid date'],
  ] as const) {
    assert.throws(() => encodeFieldTable({ k: value }), { name: 'WharfError', code: 'INVALID_ARGUMENT' }, why)
  }
})

test('random tables round trip', () => {
  fc.assert(
    fc.property(fieldTable, (table) => {
      assert.deepStrictEqual(decodeFieldTable(encodeFieldTable(table)), table)
    }),
    { numRuns: runs },
  )
})

test('undefined values are skipped and __proto__ is an ordinary key', () => {
  assert.deepStrictEqual(decodeFieldTable(encodeFieldTable({ a: undefined, b: 1 })), { b: 1 })
  const decoded = decodeFieldTable(wrap(entry('__proto__', 'F', hex('00000004 01 6b 74 01'))))
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype)
  assert.deepEqual(Object.keys(decoded), ['__proto__'])
  assert.equal(({} as Record<string, unknown>).k, undefined, 'Object.prototype untouched')
})

test('nesting is bounded on decode and encode (no stack overflow, cycles rejected)', () => {
  // 20k levels of {n: {n: ...}} built in place: deep enough to overflow the stack if decoding recursed freely.
  const levels = 20_000
  const nested = Buffer.alloc(levels * 7 + 4)
  for (let i = 0; i < levels; i++) {
    nested.writeUInt32BE(nested.length - i * 7 - 4, i * 7)
    nested.write('\x01nF', i * 7 + 4, 'latin1')
  }
  assert.equal(decodeFieldTable(nested.subarray(levels * 7 - 7 * 3)).n !== undefined, true, 'the bytes are well formed')
  assert.throws(
    () => decodeFieldTable(nested),
    (error: unknown) => {
      return error instanceof AmqpFrameError && error.replyCode === 501 && /nesting/.test(error.message)
    },
  )
  let ok: FieldTable = {}
  for (let i = 0; i < FIELD_NESTING_DEPTH_MAX; i++) ok = { n: ok }
  assert.deepStrictEqual(decodeFieldTable(encodeFieldTable(ok)), ok)
  const cyclic: FieldTable = {}
  cyclic.self = cyclic
  assert.throws(() => encodeFieldTable(cyclic), { name: 'WharfError', code: 'INVALID_ARGUMENT' })
})

test('truncated and malformed tables are frame errors', () => {
  const good = encodeFieldTable({ a: 'hello', b: [1, 2], c: { d: 1.5 } })
  for (let cut = 0; cut < good.length; cut++) {
    assert.throws(() => decodeFieldTable(good.subarray(0, cut)), AmqpFrameError, `cut at ${cut}`)
  }
  assert.throws(() => decodeFieldTable(wrap(entry('k', 'Z', hex('')))), /unknown field type 0x5a/)
  // An inner length that runs past the outer table is caught by the narrowed bound.
  assert.throws(() => decodeFieldTable(wrap(entry('k', 'S', hex('00000010 41')))), AmqpFrameError)
  assert.throws(() => decodeFieldTable(wrap(entry('k', 'T', hex('ffffffffffffffff')))), AmqpFrameError)
})
