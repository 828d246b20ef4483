// Hostile bytes into the AMQP 1.0 frame parser (which decodes each performative): valid frames (every
// performative the client sends, with random field values, transfers with payloads) damaged by truncation,
// byte flips and insertions, or random bytes, fed in random splits after the protocol header. Checked: only
// Amqp10FrameError or Amqp10DecodeError is ever thrown and the parser never holds more than a frame's bound.
// Then damaged frames go to a real listener over sockets, and rhea still sends and receives.
// WHARF_LONG=1 runs 1,000,000 parser inputs instead of 2,000.
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import fc from 'fast-check'
import type rhea from 'rhea'
import {
  Amqp10FrameError,
  encodeFrame,
  FRAME_AMQP,
  FrameParser,
  protocolHeader,
} from '../../src/protocols/amqp10/codec/frames.ts'
import type { AnyInit } from '../../src/protocols/amqp10/codec/generated/types.ts'
import { Amqp10DecodeError } from '../../src/protocols/amqp10/codec/values.ts'
import { connect, startWharf } from '../protocols/amqp10/helpers.ts'
import { damagedBytes } from './mutations.ts'

const runs = Number(process.env.WHARF_FUZZ_RUNS) || (process.env.WHARF_LONG === '1' ? 1_000_000 : 2000)
const MAX_FRAME = 4096

const uint = fc.integer({ min: 0, max: 2 ** 32 - 1 })
const name = fc.string({ maxLength: 20 })
const performative: fc.Arbitrary<AnyInit> = fc.oneof(
  fc.record({
    kind: fc.constant('open' as const),
    containerId: name,
    maxFrameSize: uint,
    channelMax: fc.integer({ min: 0, max: 65535 }),
  }),
  fc.record({ kind: fc.constant('begin' as const), nextOutgoingId: uint, incomingWindow: uint, outgoingWindow: uint }),
  fc.record({
    kind: fc.constant('attach' as const),
    name,
    handle: uint,
    role: fc.boolean(),
    sndSettleMode: fc.integer({ min: 0, max: 2 }),
    rcvSettleMode: fc.integer({ min: 0, max: 1 }),
  }),
  fc.record({
    kind: fc.constant('flow' as const),
    incomingWindow: uint,
    nextOutgoingId: uint,
    outgoingWindow: uint,
    handle: uint,
    linkCredit: uint,
    drain: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('transfer' as const),
    handle: uint,
    deliveryId: uint,
    deliveryTag: fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)),
    settled: fc.boolean(),
    more: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('disposition' as const),
    role: fc.boolean(),
    first: uint,
    last: uint,
    settled: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('detach' as const), handle: uint, closed: fc.boolean() }),
  fc.constant({ kind: 'end' } as AnyInit),
  fc.constant({ kind: 'close' } as AnyInit),
)
const frame = fc
  .tuple(performative, fc.integer({ min: 0, max: 65535 }), fc.uint8Array({ maxLength: 600 }))
  .map(([p, channel, payload]) =>
    encodeFrame(FRAME_AMQP, channel, p, p.kind === 'transfer' ? Buffer.from(payload) : undefined),
  )
const input = fc.oneof(
  frame,
  frame.chain((bytes) => damagedBytes(bytes)),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
)

test('the AMQP 1.0 frame parser throws only its framing and decode errors and holds at most a frame', () => {
  fc.assert(
    fc.property(
      fc.array(input, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(4000), { maxLength: 6 }),
      (parts, cuts) => {
        const bytes = Buffer.concat([protocolHeader(0), ...parts])
        const parser = new FrameParser(MAX_FRAME)
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
        let from = 0
        try {
          for (const to of [...points, bytes.length]) {
            // The parser stops after a header: keep pushing (empty) until it returns nothing, as the connection does.
            let chunk = bytes.subarray(from, to)
            while (parser.push(chunk).length > 0) chunk = Buffer.alloc(0)
            from = to
            assert.ok(parser.buffered <= MAX_FRAME + 8, `held ${parser.buffered} bytes`)
          }
        } catch (error) {
          if (!(error instanceof Amqp10FrameError) && !(error instanceof Amqp10DecodeError)) throw error
        }
      },
    ),
    { numRuns: runs },
  )
})

test('damaged frames over sockets: each gets a close, and rhea still sends and receives', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  const samples = fc.sample(input, { numRuns: 40, seed: 42 })
  for (const bytes of samples) {
    await new Promise<void>((resolve) => {
      const socket = net.connect(wharf.port, '127.0.0.1')
      socket.on('error', () => {})
      socket.on('close', () => resolve())
      socket.write(protocolHeader(0))
      socket.write(encodeFrame(FRAME_AMQP, 0, { kind: 'open', containerId: 'fuzz' }))
      socket.write(bytes)
      setTimeout(() => socket.destroy(), 100)
    })
  }
  const connection = await connect(t, wharf)
  const sender = connection.open_sender('fuzz-after')
  await new Promise((resolve) => sender.once('sendable', resolve))
  sender.send({ body: 'alive' })
  await new Promise((resolve) => sender.once('accepted', resolve))
  const got = await new Promise<rhea.EventContext>((resolve) =>
    connection.open_receiver('fuzz-after').once('message', resolve),
  )
  assert.equal(got.message!.body, 'alive')
})
