// The hand-written per-message encoders write exactly what the generic encoder writes for the same fields.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { encodeValue } from '../../../src/protocols/amqp10/codec/encoder.ts'
import { encodeFrame, FRAME_AMQP } from '../../../src/protocols/amqp10/codec/frames.ts'
import type { AnyInit } from '../../../src/protocols/amqp10/codec/generated/types.ts'
import { toDescribed } from '../../../src/protocols/amqp10/codec/generated/types.ts'
import {
  acceptedFrame,
  dataSectionHead,
  headerSection,
  transferFrameHead,
} from '../../../src/protocols/amqp10/codec/per-message.ts'

const uint = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }))
const runs = process.env.WHARF_LONG === '1' ? 50_000 : 1_000

test('a transfer frame head is the generic frame without its payload', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 65535 }),
      uint,
      uint,
      fc.uint8Array({ minLength: 0, maxLength: 32 }),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
      fc.uint8Array({ maxLength: 300 }),
      (channel, handle, deliveryId, tag, first, settled, more, payload) => {
        const body = Buffer.from(payload)
        const t: Record<string, unknown> = { kind: 'transfer', handle, settled, more }
        if (first) Object.assign(t, { deliveryId, deliveryTag: Buffer.from(tag), messageFormat: 0 })
        const generic = encodeFrame(FRAME_AMQP, channel, t as AnyInit, body)
        const head = transferFrameHead(
          channel,
          handle,
          first ? { deliveryId, tag: Buffer.from(tag) } : undefined,
          settled,
          more,
          body.length,
        )
        assert.deepEqual(Buffer.concat([head, body]), generic)
      },
    ),
    { numRuns: runs },
  )
})

test('an accepted disposition is the generic one, for one delivery and for a range', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 65535 }), uint, uint, (channel, first, last) => {
      const d: Record<string, unknown> = { kind: 'disposition', role: true, first, settled: true }
      if (last !== first) d.last = last
      d.state = { kind: 'accepted' }
      assert.deepEqual(acceptedFrame(channel, first, last), encodeFrame(FRAME_AMQP, channel, d as AnyInit))
    }),
    { numRuns: runs },
  )
})

test('a header section and a data section head are the generic sections', () => {
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined })
  fc.assert(
    fc.property(
      fc.boolean(),
      opt(fc.integer({ min: 0, max: 255 })),
      opt(uint),
      opt(fc.integer({ min: 1, max: 2 ** 32 - 1 })),
      (durable, priority, ttl, deliveryCount) => {
        const h: Record<string, unknown> = { kind: 'header', durable }
        if (priority !== undefined) h.priority = priority
        if (ttl !== undefined) h.ttl = ttl
        if (deliveryCount !== undefined) h.deliveryCount = deliveryCount
        assert.deepEqual(headerSection(durable, priority, ttl, deliveryCount), encodeValue(toDescribed(h as AnyInit)))
      },
    ),
    { numRuns: runs },
  )
  for (const size of [0, 1, 255, 256, 70_000]) {
    const body = Buffer.alloc(size, 1)
    assert.deepEqual(
      Buffer.concat([dataSectionHead(size), body]),
      encodeValue(toDescribed({ kind: 'data', value: body } as AnyInit)),
    )
  }
})
