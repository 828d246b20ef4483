// Hostile input: random bytes and mutated valid frames go through the parser and every decoder. The
// only acceptable failure is an AmqpFrameError (a reply code for connection.close) — never a RangeError,
// TypeError or a hang — and payloads never exceed frame-max.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  AmqpFrameError,
  AmqpFrameParser,
  decodeContentHeader,
  decodeFieldTable,
  decodeMethodFrame,
  encodeContentHeaderFrame,
  encodeMessage,
  encodeMethodFrame,
  METHODS_BY_NAME,
  type MethodName,
  PROTOCOL_HEADER,
} from '../../../src/protocols/amqp/codec/index.ts'
import { fieldTable, methodArgs } from './codec-arbitraries.ts'

const runs = Number(process.env.WHARF_FUZZ_RUNS) || (process.env.WHARF_LONG === '1' ? 1_000_000 : 300)
const FRAME_MAX = 8192

/** Runs fn; returns normally on success or a typed codec error, rethrows anything else. */
function onlyTyped(fn: () => void): void {
  try {
    fn()
  } catch (error) {
    if (error instanceof AmqpFrameError) {
      assert.ok([501, 502, 503, 505, 540].includes(error.replyCode), `reply code ${error.replyCode}`)
      return
    }
    throw error
  }
}

function feed(bytes: Buffer, cuts: number[], expectProtocolHeader: boolean): void {
  const parser = new AmqpFrameParser({ frameMax: FRAME_MAX, expectProtocolHeader })
  let start = 0
  for (const cut of [...cuts, bytes.length].sort((a, b) => a - b)) {
    const frames = parser.push(bytes.subarray(start, Math.max(start, cut)))
    start = Math.max(start, cut)
    for (const frame of frames) {
      assert.ok(frame.payload.length <= FRAME_MAX - 8)
      if (frame.type === 1) onlyTyped(() => decodeMethodFrame(frame.payload))
      if (frame.type === 2) onlyTyped(() => decodeContentHeader(frame.payload))
    }
  }
}

const validFrames = fc.oneof(
  fc
    .constantFrom(...(Object.keys(METHODS_BY_NAME) as MethodName[]))
    .chain((name) => methodArgs(METHODS_BY_NAME[name]).map((args) => encodeMethodFrame(1, name, args as never))),
  fieldTable.map((headers) => encodeContentHeaderFrame(1, 10, { headers, deliveryMode: 2 })),
  fc
    .uint8Array({ maxLength: 300 })
    .map((body) => encodeMessage(1, 'basic.publish', { exchange: 'x' }, {}, Buffer.from(body), 4096)),
)

const mutated = fc
  .tuple(
    fc.array(validFrames, { minLength: 1, maxLength: 4 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  )
  .map(([frames, flips]) => {
    const bytes = Buffer.concat(frames)
    for (const [at, value] of flips) bytes[at % bytes.length] = value
    return bytes
  })

test('random bytes into the parser and decoders raise only typed codec errors', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 600 }),
      fc.array(fc.nat({ max: 600 }), { maxLength: 8 }),
      fc.boolean(),
      (bytes, cuts, header) => {
        const input = header ? Buffer.concat([PROTOCOL_HEADER, bytes]) : Buffer.from(bytes)
        onlyTyped(() => feed(input, cuts, header))
        onlyTyped(() => decodeMethodFrame(Buffer.from(bytes)))
        onlyTyped(() => decodeContentHeader(Buffer.from(bytes)))
        onlyTyped(() => decodeFieldTable(Buffer.from(bytes)))
      },
    ),
    { numRuns: runs },
  )
})

test('mutated valid frames raise only typed codec errors, whatever the split', () => {
  fc.assert(
    fc.property(mutated, fc.array(fc.nat({ max: 2000 }), { maxLength: 8 }), (bytes, cuts) => {
      onlyTyped(() => feed(bytes, cuts, false))
    }),
    { numRuns: runs },
  )
})

test('mutated method payloads and tables decode or fail typed', () => {
  fc.assert(
    fc.property(
      validFrames,
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.nat({ max: 20 }),
      (frame, at, value, trim) => {
        const payload = Buffer.from(frame.subarray(7, 7 + frame.readUInt32BE(3)))
        if (payload.length > 0) payload[at % payload.length] = value
        const cut = payload.subarray(0, Math.max(0, payload.length - trim))
        onlyTyped(() => decodeMethodFrame(cut))
        onlyTyped(() => decodeContentHeader(cut))
        onlyTyped(() => decodeFieldTable(cut.subarray(Math.min(cut.length, 4))))
      },
    ),
    { numRuns: runs },
  )
})
