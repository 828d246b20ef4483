// The sans-I/O frame parser and the frame writers: arbitrary splits, the protocol header, frame-end,
// frame-max, sticky errors, and body splitting at frame-max − 8.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  type AmqpFrame,
  AmqpFrameError,
  AmqpFrameParser,
  AmqpProtocolHeaderError,
  decodeMethodFrame,
  encodeBodyFrames,
  encodeMessage,
  encodeMethodFrame,
  FRAME_MAX_FLOOR,
  HEARTBEAT_FRAME,
  PROTOCOL_HEADER,
} from '../../../src/protocols/amqp/codec/index.ts'

const runs = process.env.WHARF_LONG === '1' ? 1000 : 50

function handshakeBytes(): Buffer {
  // What amqplib sends in its first bursts: header, start-ok, then tune-ok and open pipelined.
  return Buffer.concat([
    PROTOCOL_HEADER,
    encodeMethodFrame(0, 'connection.start-ok', {
      clientProperties: { product: 'amqplib' },
      response: Buffer.from('\0guest\0guest'),
    }),
    encodeMethodFrame(0, 'connection.tune-ok', { channelMax: 0, frameMax: 131072, heartbeat: 60 }),
    encodeMethodFrame(0, 'connection.open', { virtualHost: '/' }),
    HEARTBEAT_FRAME,
    encodeMessage(1, 'basic.publish', { routingKey: 'q' }, { deliveryMode: 2 }, Buffer.alloc(9000, 1), 4096),
  ])
}

const describe = (frames: AmqpFrame[]) => frames.map((f) => `${f.type}/${f.channel}/${f.payload.toString('hex')}`)

function parseInPieces(bytes: Buffer, cuts: number[]): AmqpFrame[] {
  const parser = new AmqpFrameParser({ frameMax: 8192, expectProtocolHeader: true })
  const frames: AmqpFrame[] = []
  let start = 0
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    frames.push(...parser.push(bytes.subarray(start, cut)))
    start = cut
  }
  frames.push(...parser.push(bytes.subarray(start)))
  return frames
}

test('a pipelined handshake parses the same in one push, byte at a time and in random splits', () => {
  const bytes = handshakeBytes()
  const whole = parseInPieces(bytes, [])
  assert.deepEqual(
    whole.map((f) => f.type),
    [1, 1, 1, 8, 1, 2, 3, 3, 3],
  )
  assert.deepEqual(
    whole.slice(0, 3).map((f) => decodeMethodFrame(f.payload).name),
    ['connection.start-ok', 'connection.tune-ok', 'connection.open'],
  )
  const expected = describe(whole)
  const byteAtATime = parseInPieces(
    bytes,
    Array.from({ length: bytes.length }, (_, i) => i),
  )
  assert.deepEqual(describe(byteAtATime), expected)
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 40 }), (cuts) => {
      assert.deepEqual(describe(parseInPieces(bytes, cuts)), expected)
    }),
    { numRuns: runs },
  )
})

test('whole frames in a chunk are views into it; split frames are copies', () => {
  const frame = encodeMethodFrame(1, 'basic.ack', { deliveryTag: 5 })
  const parser = new AmqpFrameParser({ frameMax: 8192, expectProtocolHeader: false })
  const [whole] = parser.push(frame)
  assert.equal(parser.push(frame.subarray(0, 10)).length, 0)
  const [split] = parser.push(frame.subarray(10))
  assert.deepEqual(split!.payload, whole!.payload)
  frame[7] = 0xee // first payload byte: visible through a view, not through a copy
  assert.equal(whole!.payload[0], 0xee)
  assert.equal(split!.payload[0], 0)
})

test('a wrong protocol header is reported at the first wrong byte with what was received', () => {
  const cases: [Buffer, string][] = [
    [Buffer.from('GET / HTTP/1.1\r\n'), '47'],
    [Buffer.from('AMQP\x00\x01\x00\x00'), '414d51500001'], // AMQP 1.0
    [Buffer.from('AMQP\x01\x01\x00\x09'), '414d515001'], // 0-9 header
    [Buffer.from('AMQP\x00\x00\x08\x00'), '414d5150000008'], // 0-8
  ]
  for (const [bytes, received] of cases) {
    const parser = new AmqpFrameParser({ frameMax: 8192, expectProtocolHeader: true })
    assert.throws(
      () => parser.push(bytes),
      (error: unknown) => error instanceof AmqpProtocolHeaderError && error.received.toString('hex') === received,
    )
  }
  // Split across pushes, the already-accepted prefix is still reported.
  const parser = new AmqpFrameParser({ frameMax: 8192, expectProtocolHeader: true })
  assert.deepEqual(parser.push(Buffer.from('AMQ')), [])
  assert.ok(parser.awaitingProtocolHeader)
  assert.throws(() => parser.push(Buffer.from('X')), { name: 'AmqpProtocolHeaderError' })
  const good = new AmqpFrameParser({ frameMax: 8192, expectProtocolHeader: true })
  assert.deepEqual(good.push(PROTOCOL_HEADER), [])
  assert.equal(good.awaitingProtocolHeader, false)
})

test('bad frame-end, unknown frame type and oversize frames are frame errors, and errors are sticky', () => {
  const frame = Buffer.from(encodeMethodFrame(1, 'basic.ack', { deliveryTag: 5 }))
  frame[frame.length - 1] = 0xcd
  for (const split of [frame.length, frame.length - 1, 3]) {
    const parser = new AmqpFrameParser({ frameMax: 8192, expectProtocolHeader: false })
    assert.throws(() => {
      parser.push(frame.subarray(0, split))
      parser.push(frame.subarray(split))
    }, /bad frame-end octet 0xcd/)
    assert.throws(() => parser.push(HEARTBEAT_FRAME), /bad frame-end/, 'sticky')
  }

  const unknown = Buffer.from(HEARTBEAT_FRAME)
  unknown[0] = 4
  assert.throws(
    () => new AmqpFrameParser({ frameMax: 8192, expectProtocolHeader: false }).push(unknown),
    (error: unknown) =>
      error instanceof AmqpFrameError && error.replyCode === 501 && /unknown frame type 4/.test(error.message),
  )

  // A header claiming 4 GiB is rejected from its 7 header bytes alone, before any allocation.
  const huge = Buffer.from([3, 0, 1, 0xff, 0xff, 0xff, 0xff])
  const parser = new AmqpFrameParser({ frameMax: 8192, expectProtocolHeader: false })
  assert.throws(() => parser.push(huge.subarray(0, 6)).concat(parser.push(huge.subarray(6))), /exceeds frame-max 8192/)

  // Exactly frame-max is fine; one byte more is not. frame-max counts the 8 bytes of framing.
  const body = Buffer.alloc(8192 - 8)
  const limit = new AmqpFrameParser({ frameMax: 8192, expectProtocolHeader: false })
  assert.equal(limit.push(encodeBodyFrames(1, body, 8192)).length, 1)
  const over = encodeBodyFrames(1, Buffer.alloc(8192 - 7), 16384)
  assert.throws(() => limit.push(over), /exceeds frame-max/)
})

test('setFrameMax raises the limit after tuning', () => {
  const parser = new AmqpFrameParser({ frameMax: FRAME_MAX_FLOOR, expectProtocolHeader: false })
  const big = encodeBodyFrames(1, Buffer.alloc(100_000), 131072)
  parser.setFrameMax(131072)
  assert.equal(parser.frameMax, 131072)
  assert.equal(parser.push(big)[0]!.payload.length, 100_000)
  assert.throws(() => parser.setFrameMax(100), { name: 'AssertionError' })
})

test('body frames split at frame-max − 8 and reassemble to the body', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 20_000 }),
      fc.integer({ min: FRAME_MAX_FLOOR, max: 9000 }),
      (length, frameMax) => {
        const body = Buffer.alloc(length)
        for (let i = 0; i < length; i++) body[i] = i % 251
        const bytes = encodeBodyFrames(7, body, frameMax)
        const frames = new AmqpFrameParser({ frameMax, expectProtocolHeader: false }).push(bytes)
        assert.equal(frames.length, Math.ceil(length / (frameMax - 8)))
        for (const f of frames) {
          assert.equal(f.type, 3)
          assert.equal(f.channel, 7)
          assert.ok(f.payload.length <= frameMax - 8 && f.payload.length > 0)
        }
        assert.deepEqual(Buffer.concat(frames.map((f) => f.payload)), body)
      },
    ),
    { numRuns: runs },
  )
})

test('the heartbeat frame is type 8 on channel 0 with an empty payload', () => {
  assert.equal(HEARTBEAT_FRAME.toString('hex'), '08000000000000ce')
  const [frame] = new AmqpFrameParser({ frameMax: 8192, expectProtocolHeader: false }).push(HEARTBEAT_FRAME)
  assert.deepEqual(frame, { type: 8, channel: 0, payload: Buffer.alloc(0) })
})
