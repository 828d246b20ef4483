// Method and content-header codecs: every method round trips, bits pack as the spec says, and a few
// frames are compared byte for byte with layouts worked out by hand from the 0-9-1 spec (amqplib is not
// installed, so these stand in for interop fixtures).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  AmqpFrameError,
  AmqpFrameParser,
  type BasicProperties,
  decodeContentHeader,
  decodeMethodFrame,
  encodeContentHeaderFrame,
  encodeMessage,
  encodeMethodFrame,
  FRAME_METHOD,
  METHODS_BY_ID,
  METHODS_BY_NAME,
  type MethodName,
} from '../../../src/protocols/amqp/codec/index.ts'
import { methodArgs, shortString } from './codec-arbitraries.ts'

const runs = process.env.WHARF_LONG === '1' ? 2000 : 40

const u8 = (v: number) => Buffer.from([v])
const u16 = (v: number) => Buffer.from([v >> 8, v & 0xff])
const u32 = (v: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(v)
  return b
}
const u64 = (v: number) => Buffer.concat([u32(Math.floor(v / 2 ** 32)), u32(v % 2 ** 32)])
const ascii = (s: string) => Buffer.from(s, 'latin1')
const sstr = (s: string) => Buffer.concat([u8(s.length), ascii(s)])
const lstr = (s: string) => Buffer.concat([u32(s.length), ascii(s)])
const table = (...entries: Buffer[]) => {
  const body = Buffer.concat(entries)
  return Buffer.concat([u32(body.length), body])
}
const frame = (type: number, channel: number, ...payload: Buffer[]) => {
  const body = Buffer.concat(payload)
  return Buffer.concat([u8(type), u16(channel), u32(body.length), body, u8(0xce)])
}

function decodeOne(bytes: Buffer) {
  const frames = new AmqpFrameParser({ frameMax: 131072, expectProtocolHeader: false }).push(bytes)
  assert.equal(frames.length, 1)
  return frames[0]!
}

test('every method in the spec round trips through a method frame with random arguments', () => {
  const names = Object.keys(METHODS_BY_NAME) as MethodName[]
  assert.equal(names.length, METHODS_BY_ID.size)
  assert.ok(names.length >= 50, `only ${names.length} methods`)
  for (const name of names) {
    const info = METHODS_BY_NAME[name]
    fc.assert(
      fc.property(methodArgs(info), fc.integer({ min: 0, max: 0xffff }), (args, channel) => {
        const bytes = encodeMethodFrame(channel, name, args as never)
        const parsed = decodeOne(bytes)
        assert.equal(parsed.type, FRAME_METHOD)
        assert.equal(parsed.channel, channel)
        const method = decodeMethodFrame(parsed.payload)
        assert.equal(method.name, name)
        assert.equal(method.classId, info.classId)
        assert.equal(method.methodId, info.methodId)
        assert.deepStrictEqual(method.args, args)
      }),
      { numRuns: runs },
    )
  }
})

test('omitted arguments take the spec defaults', () => {
  const publish = decodeMethodFrame(decodeOne(encodeMethodFrame(1, 'basic.publish', {})).payload)
  assert.deepStrictEqual(publish.args, { ticket: 0, exchange: '', routingKey: '', mandatory: false, immediate: false })
  const reject = decodeMethodFrame(decodeOne(encodeMethodFrame(1, 'basic.reject', { deliveryTag: 3 })).payload)
  assert.deepStrictEqual(reject.args, { deliveryTag: 3, requeue: true })
  const start = decodeMethodFrame(decodeOne(encodeMethodFrame(0, 'connection.start', { serverProperties: {} })).payload)
  assert.deepStrictEqual(start.args, {
    versionMajor: 0,
    versionMinor: 9,
    serverProperties: {},
    mechanisms: Buffer.from('PLAIN'),
    locales: Buffer.from('en_US'),
  })
})

test('consecutive bits share one octet, least significant bit first', () => {
  const flags = ['passive', 'durable', 'exclusive', 'autoDelete', 'nowait'] as const
  flags.forEach((flag, bit) => {
    const bytes = encodeMethodFrame(1, 'queue.declare', { queue: 'q', [flag]: true })
    // frame header 7, class+method 4, ticket 2, shortstr 'q' 2 → the bit octet, then the empty table.
    assert.equal(bytes[15], 1 << bit, flag)
    assert.deepEqual([...bytes.subarray(16, 20)], [0, 0, 0, 0])
    assert.equal(bytes.length, 21)
  })
  // basic.nack: delivery-tag then two bits (multiple, requeue) in one octet.
  const nack = encodeMethodFrame(1, 'basic.nack', { deliveryTag: 1, multiple: false, requeue: true })
  assert.equal(nack[7 + 4 + 8], 0b10)
  assert.equal(nack.length, 7 + 4 + 8 + 1 + 1)
  // access.request: five bits after the realm.
  const access = encodeMethodFrame(1, 'access.request', { realm: '/', exclusive: true, passive: false })
  assert.equal(access[7 + 4 + 2], 0b11101)
})

test('connection.start matches the hand-worked layout', () => {
  const bytes = encodeMethodFrame(0, 'connection.start', {
    serverProperties: { product: 'Wharf' },
    mechanisms: Buffer.from('AMQPLAIN PLAIN'),
    locales: Buffer.from('en_US'),
  })
  const expected = frame(
    1,
    0,
    u16(10),
    u16(10),
    u8(0),
    u8(9),
    table(sstr('product'), ascii('S'), lstr('Wharf')),
    lstr('AMQPLAIN PLAIN'),
    lstr('en_US'),
  )
  assert.equal(bytes.toString('hex'), expected.toString('hex'))
  assert.equal(bytes.readUInt32BE(3), 55)
})

test('connection.start-ok with a PLAIN response and a client-properties table decodes as a client sent it', () => {
  const clientSent = frame(
    1,
    0,
    u16(10),
    u16(11),
    table(
      sstr('capabilities'),
      ascii('F'),
      table(sstr('consumer_cancel_notify'), ascii('t'), u8(1)),
      sstr('product'),
      ascii('S'),
      lstr('amqplib'),
    ),
    sstr('PLAIN'),
    lstr('\0guest\0guest'),
    sstr('en_US'),
  )
  assert.equal(clientSent.readUInt32BE(3), 99)
  const method = decodeMethodFrame(decodeOne(clientSent).payload)
  assert.equal(method.name, 'connection.start-ok')
  assert.deepStrictEqual(method.args, {
    clientProperties: { capabilities: { consumer_cancel_notify: true }, product: 'amqplib' },
    mechanism: 'PLAIN',
    response: Buffer.from('\0guest\0guest'),
    locale: 'en_US',
  })
  const reencoded = encodeMethodFrame(0, 'connection.start-ok', method.args as never)
  assert.equal(reencoded.toString('hex'), clientSent.toString('hex'))
})

test('basic.publish and basic.deliver match the hand-worked layouts', () => {
  const publish = encodeMethodFrame(1, 'basic.publish', { exchange: 'amq.topic', routingKey: 'a.b', mandatory: true })
  const publishExpected = frame(1, 1, u16(60), u16(40), u16(0), sstr('amq.topic'), sstr('a.b'), u8(1))
  assert.equal(publish.toString('hex'), publishExpected.toString('hex'))

  const deliver = encodeMethodFrame(1, 'basic.deliver', {
    consumerTag: 'amq.ctag-1',
    deliveryTag: 7,
    redelivered: true,
    exchange: '',
    routingKey: 'q',
  })
  const deliverExpected = frame(1, 1, u16(60), u16(60), sstr('amq.ctag-1'), u64(7), u8(1), sstr(''), sstr('q'))
  assert.equal(deliver.toString('hex'), deliverExpected.toString('hex'))
  assert.equal(deliver.readUInt32BE(3), 27)
})

test('a content header with a headers table and delivery-mode 2 matches the hand-worked layout', () => {
  const properties: BasicProperties = { contentType: 'text/plain', headers: { 'x-retry': 3 }, deliveryMode: 2 }
  const bytes = encodeContentHeaderFrame(1, 5, properties)
  const expected = frame(
    2,
    1,
    u16(60),
    u16(0),
    u64(5),
    u16(0x8000 | 0x2000 | 0x1000),
    sstr('text/plain'),
    table(sstr('x-retry'), ascii('I'), u32(3)),
    u8(2),
  )
  assert.equal(bytes.toString('hex'), expected.toString('hex'))
  assert.deepStrictEqual(decodeContentHeader(decodeOne(bytes).payload), { classId: 60, bodySize: 5, properties })
})

test('content header with all 14 properties and with none round trips', () => {
  const all: BasicProperties = {
    contentType: 'application/json',
    contentEncoding: 'gzip',
    headers: { a: 1, b: 'two', nested: { c: [true, null] } },
    deliveryMode: 2,
    priority: 9,
    correlationId: 'corr',
    replyTo: 'amq.rabbitmq.reply-to',
    expiration: '60000',
    messageId: 'm-1',
    timestamp: 1_700_000_000,
    type: 'event',
    userId: 'guest',
    appId: 'wharf-test',
    clusterId: 'c1',
  }
  const full = encodeContentHeaderFrame(3, 1_000_000, all)
  assert.equal(full.readUInt16BE(7 + 12), 0xfffc, 'all 14 flag bits, high bit first')
  assert.deepStrictEqual(decodeContentHeader(decodeOne(full).payload), {
    classId: 60,
    bodySize: 1_000_000,
    properties: all,
  })

  const none = encodeContentHeaderFrame(3, 0, {})
  assert.equal(none.length, 8 + 14)
  assert.equal(none.readUInt16BE(7 + 12), 0)
  assert.deepStrictEqual(decodeContentHeader(decodeOne(none).payload), { classId: 60, bodySize: 0, properties: {} })

  fc.assert(
    fc.property(
      fc.record(
        {
          contentType: shortString,
          deliveryMode: fc.integer({ min: 0, max: 255 }),
          timestamp: fc.maxSafeNat(),
          appId: shortString,
        },
        { requiredKeys: [], noNullPrototype: true },
      ),
      fc.maxSafeNat(),
      (props, bodySize) => {
        const header = decodeContentHeader(decodeOne(encodeContentHeaderFrame(1, bodySize, props)).payload)
        assert.deepStrictEqual(header, { classId: 60, bodySize, properties: props })
      },
    ),
    { numRuns: runs },
  )
})

test('decoders reject unknown methods, truncation, trailing bytes and unknown property flags with reply codes', () => {
  const code = (fn: () => unknown) => {
    try {
      fn()
    } catch (error) {
      assert.ok(error instanceof AmqpFrameError, String(error))
      assert.equal(error.code, 'INVALID_ARGUMENT')
      return [error.replyCode, error.classId, error.methodId]
    }
    assert.fail('expected an AmqpFrameError')
  }
  assert.deepEqual(
    code(() => decodeMethodFrame(Buffer.from([0, 60, 0, 99]))),
    [540, 60, 99],
  )
  assert.deepEqual(
    code(() => decodeMethodFrame(Buffer.from([0, 60]))),
    [501, 0, 0],
  )
  const publish = decodeOne(encodeMethodFrame(1, 'basic.publish', { exchange: 'x' })).payload
  assert.deepEqual(
    code(() => decodeMethodFrame(publish.subarray(0, publish.length - 1))),
    [501, 60, 40],
  )
  assert.deepEqual(
    code(() => decodeMethodFrame(Buffer.concat([publish, u8(0)]))),
    [501, 60, 40],
  )
  const header = Buffer.from(decodeOne(encodeContentHeaderFrame(1, 0, {})).payload)
  header.writeUInt16BE(0x0001, 12) // continuation bit: no 15th property exists
  assert.deepEqual(
    code(() => decodeContentHeader(header)),
    [502, 0, 0],
  )
  header.writeUInt16BE(10, 0)
  assert.deepEqual(
    code(() => decodeContentHeader(header)),
    [503, 10, 0],
  )
  // A delivery tag past 2^53 cannot be a number without losing precision.
  const huge = Buffer.concat([u16(60), u16(80), u32(0xffff_ffff), u32(0), u8(0)])
  assert.deepEqual(
    code(() => decodeMethodFrame(huge)),
    [502, 60, 80],
  )
})

test('encoders reject out-of-range arguments with WharfError, not RangeError', () => {
  const bad: [MethodName, Record<string, unknown>][] = [
    ['basic.qos', { prefetchCount: 70000 }],
    ['basic.qos', { prefetchSize: -1 }],
    ['basic.ack', { deliveryTag: 2 ** 53 }],
    ['basic.publish', { exchange: 'x'.repeat(256) }],
    ['queue.declare', { arguments: { ['k'.repeat(256)]: 1 } }],
    ['connection.secure', { challenge: 'not a buffer' }],
  ]
  for (const [name, args] of bad) {
    assert.throws(
      () => encodeMethodFrame(1, name, args as never),
      { name: 'WharfError', code: 'INVALID_ARGUMENT' },
      name,
    )
  }
  assert.throws(() => encodeMethodFrame(70000, 'basic.qos', {}), { code: 'INVALID_ARGUMENT' })
  assert.throws(() => encodeMethodFrame(0, 'connection.start', { serverProperties: { big: 'x'.repeat(5000) } }, 4096), {
    code: 'LIMIT_EXCEEDED',
  })
})

test('encodeMessage writes method, header and body frames into one buffer', () => {
  const body = Buffer.alloc(10000, 7)
  const bytes = encodeMessage(
    2,
    'basic.deliver',
    { consumerTag: 'c', deliveryTag: 1, exchange: 'e', routingKey: 'r' },
    { deliveryMode: 2 },
    body,
    4096,
  )
  const frames = new AmqpFrameParser({ frameMax: 4096, expectProtocolHeader: false }).push(bytes)
  assert.deepEqual(
    frames.map((f) => [f.type, f.channel, f.payload.length]),
    [
      [1, 2, 4 + 2 + 8 + 1 + 2 + 2],
      [2, 2, 12 + 2 + 1],
      [3, 2, 4088],
      [3, 2, 4088],
      [3, 2, 10000 - 2 * 4088],
    ],
  )
  assert.deepEqual(Buffer.concat(frames.slice(2).map((f) => f.payload)), body)
  const empty = encodeMessage(2, 'basic.publish', {}, {}, Buffer.alloc(0), 4096)
  assert.equal(new AmqpFrameParser({ frameMax: 4096, expectProtocolHeader: false }).push(empty).length, 2)
})
