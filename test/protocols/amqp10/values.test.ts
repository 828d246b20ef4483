import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { decodeValue } from '../../../src/protocols/amqp10/codec/decoder.ts'
import { encodeValue } from '../../../src/protocols/amqp10/codec/encoder.ts'
import { fromDescribed, toDescribed } from '../../../src/protocols/amqp10/codec/generated/types.ts'
import {
  Amqp10DecodeError,
  AmqpArray,
  AmqpMap,
  Described,
  symbol,
  Typed,
  type Value,
} from '../../../src/protocols/amqp10/codec/values.ts'

const runs = process.env.WHARF_LONG === '1' ? 200_000 : 2_000
const hex = (v: Value) => encodeValue(v).toString('hex')

test('each value gets the smallest encoding the standard has for it', () => {
  assert.equal(hex(null), '40')
  assert.equal(hex(true), '41')
  assert.equal(hex(false), '42')
  assert.equal(hex(new Typed('uint', 0)), '43')
  assert.equal(hex(new Typed('uint', 255)), '52ff')
  assert.equal(hex(new Typed('uint', 256)), '7000000100')
  assert.equal(hex(new Typed('ulong', 0n)), '44')
  assert.equal(hex(new Typed('ulong', 0x10n)), '5310')
  assert.equal(hex(new Typed('ulong', 2n ** 64n - 1n)), '80ffffffffffffffff')
  assert.equal(hex(new Typed('int', -1)), '54ff')
  assert.equal(hex(new Typed('int', 128)), '7100000080')
  assert.equal(hex(new Typed('long', -128n)), '5580')
  assert.equal(hex(new Typed('long', 2n ** 40n)), '810000010000000000')
  assert.equal(hex(new Typed('ubyte', 7)), '5007')
  assert.equal(hex(new Typed('ushort', 65535)), '60ffff')
  assert.equal(hex(new Typed('double', 1.5)), '823ff8000000000000')
  assert.equal(hex(new Typed('timestamp', 1)), '830000000000000001')
  assert.equal(hex('a'), 'a10161')
  assert.equal(hex(symbol('ab')), 'a3026162')
  assert.equal(hex(Buffer.from([1, 2])), 'a0020102')
  assert.equal(hex('x'.repeat(256)).slice(0, 10), 'b100000100')
  assert.equal(hex([]), '45')
  assert.equal(hex([true, null]), 'c003024140')
  assert.equal(hex(new AmqpMap([[symbol('k'), 'v']])), 'c10702a3016ba10176')
  assert.equal(
    hex(new AmqpArray('symbol', [symbol('a'), symbol('b')])),
    'f00000000f00000002b3' + '0000000161' + '0000000162',
  )
  // The open performative's head, as every AMQP 1.0 client puts it on the wire.
  assert.equal(hex(toDescribed({ kind: 'open', containerId: 'c' })).slice(0, 8), '005310c0')
})

test('lists and maps past 255 bytes or elements take the 32-bit forms', () => {
  const long = Array.from({ length: 300 }, () => null)
  const bytes = encodeValue(long)
  assert.equal(bytes[0], 0xd0)
  assert.equal(bytes.readUInt32BE(5), 300)
  assert.deepEqual(decodeValue(bytes), long)
})

const scalar: fc.Arbitrary<Value> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.string(),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.integer({ min: 0, max: 255 }).map((n) => new Typed('ubyte', n)),
  fc.integer({ min: -128, max: 127 }).map((n) => new Typed('byte', n)),
  fc.integer({ min: 0, max: 65535 }).map((n) => new Typed('ushort', n)),
  fc.integer({ min: -32768, max: 32767 }).map((n) => new Typed('short', n)),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((n) => new Typed('uint', n)),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => new Typed('int', n)),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => new Typed('ulong', n)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => new Typed('long', n)),
  fc.double({ noNaN: true }).map((n) => new Typed('double', n)),
  fc.float({ noNaN: true }).map((n) => new Typed('float', n)),
  fc.integer({ min: 0, max: 0x10ffff }).map((n) => new Typed('char', n)),
  fc.integer({ min: -(2 ** 52), max: 2 ** 52 }).map((n) => new Typed('timestamp', n)),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => new Typed('uuid', Buffer.from(b))),
  fc.stringMatching(/^[a-z:-]{0,20}$/).map(symbol),
)

const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('v'), { maxLength: 5 }),
    fc.array(fc.tuple(tie('v'), tie('v')), { maxLength: 4 }).map((e) => new AmqpMap(e)),
    fc
      .tuple(
        fc.oneof(
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => new Typed('ulong', n)),
          scalar.filter((s) => s instanceof Typed && s.type === 'symbol'),
        ),
        tie('v'),
      )
      .map(([d, v]) => new Described(d, v)),
    fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 5 }).map(
      (ns) =>
        new AmqpArray(
          'uint',
          ns.map((n) => new Typed('uint', n)),
        ),
    ),
    fc.array(fc.string(), { maxLength: 5 }).map((ss) => new AmqpArray('string', ss)),
  ),
})).v

test('every value decodes back to itself (fast-check)', () => {
  fc.assert(
    fc.property(value, (v) => {
      assert.deepEqual(decodeValue(encodeValue(v)), v)
    }),
    { numRuns: runs },
  )
})

test('malformed input is a decode error, never a RangeError, and allocates nothing up front', () => {
  const bad: Array<[string, string]> = [
    ['', 'constructor'],
    ['01', 'unknown constructor'],
    ['70000000', 'need 4 bytes'],
    ['a105616263', 'need 5 bytes'],
    ['d0ffffffff00000001', 'need'], // a list claiming 4 GiB
    ['c00301' + '41', 'need'], // size past the end
    ['c0020341', 'elements in'], // 3 elements in 2 bytes
    ['c1020141', 'odd'],
    ['c003024141' + '41', 'after the value'],
    ['f0000000050fffffff40', 'elements in'], // 268M nulls claimed
    ['5602', 'boolean byte'],
    ['c00202' + '4141', 'elements in'],
  ]
  for (const [bytes, message] of bad)
    assert.throws(
      () => decodeValue(Buffer.from(bytes, 'hex')),
      (e: unknown) => e instanceof Amqp10DecodeError && e.message.includes(message),
      `${bytes}: expected "${message}"`,
    )
  // Nesting beyond the limit.
  let nested = Buffer.from('45', 'hex')
  for (let i = 0; i < 100; i++) nested = Buffer.concat([Buffer.from([0xd0]), u32(nested.length + 4), u32(1), nested])
  assert.throws(() => decodeValue(nested), /nested too deeply/)
})

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

test('random and damaged bytes only ever fail with a decode error (fast-check)', () => {
  const valid = value.map((v) => encodeValue(v))
  const damaged = fc
    .tuple(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
    .map(([b, edits]) => {
      const copy = Buffer.from(b)
      for (const [at, byte] of edits) if (copy.length > 0) copy[at % copy.length] = byte
      return copy
    })
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        damaged,
      ),
      (bytes) => {
        try {
          decodeValue(bytes)
        } catch (e) {
          if (!(e instanceof Amqp10DecodeError)) throw e
        }
      },
    ),
    { numRuns: runs },
  )
})

test('performatives round trip with their defaults filled in, and a missing mandatory field is named', () => {
  const attach = fromDescribed(
    decodeValue(
      encodeValue(
        toDescribed({
          kind: 'attach',
          name: 'link-1',
          handle: 0,
          role: true,
          source: toDescribed({ kind: 'source', address: 'q1', capabilities: ['queue'] }),
          desiredCapabilities: ['SHARED-SUBS'],
        }),
      ),
    ) as Described,
  )
  assert.deepEqual(attach, {
    kind: 'attach',
    name: 'link-1',
    handle: 0,
    role: true,
    sndSettleMode: 2,
    rcvSettleMode: 0,
    incompleteUnsettled: false,
    source: {
      kind: 'source',
      address: 'q1',
      durable: 0,
      expiryPolicy: 'session-end',
      timeout: 0,
      dynamic: false,
      capabilities: ['queue'],
    },
    desiredCapabilities: ['SHARED-SUBS'],
  })
  const transfer = fromDescribed(
    decodeValue(
      encodeValue(
        toDescribed({
          kind: 'transfer',
          handle: 1,
          deliveryId: 7,
          deliveryTag: Buffer.from([1]),
          state: { kind: 'accepted' },
        }),
      ),
    ) as Described,
  )
  assert.equal((transfer as { deliveryId: number }).deliveryId, 7)
  assert.deepEqual((transfer as { state: unknown }).state, { kind: 'accepted' })
  // A symbolic descriptor names the same type as the numeric one.
  const symbolic = new Described(symbol('amqp:flow:list'), [
    null,
    new Typed('uint', 10),
    new Typed('uint', 0),
    new Typed('uint', 10),
  ])
  assert.equal((fromDescribed(symbolic) as { kind: string }).kind, 'flow')
  // open without its container-id.
  assert.throws(() => fromDescribed(new Described(new Typed('ulong', 0x10n), [])), /open.container-id is mandatory/)
  assert.throws(
    () => fromDescribed(new Described(new Typed('ulong', 0x10n), [new Typed('uint', 1)])),
    /open.container-id: expected string, got uint/,
  )
  // Unknown descriptors stay as they are (an extension the broker may ignore).
  const unknown = new Described(new Typed('ulong', 0x468c00000004n), 'prio > 5')
  assert.equal(fromDescribed(unknown), unknown)
})
