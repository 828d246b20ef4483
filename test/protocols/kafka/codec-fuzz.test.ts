// Hostile input into every request decoder: random bytes, truncations and byte flips of valid requests must
// end in WharfError('INVALID_ARGUMENT') (or decode), never in another exception.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { type KafkaApi, kafkaApis, Reader, readRequest, Writer } from '../../../src/protocols/kafka/codec/index.ts'
import { isWharfError } from '../../../src/util/errors.ts'
import { sample, specs } from './codec-samples.ts'

const runs = Number(process.env.WHARF_FUZZ_RUNS) || (process.env.WHARF_LONG === '1' ? 1_000_000 : 300)
const apis = [...kafkaApis.values()] as KafkaApi[]
const byName = new Map(specs.map((m) => [m.name, m]))

function decodeOrTypedError(api: KafkaApi, bytes: Buffer, version: number): void {
  try {
    api.decodeRequest(new Reader(bytes), version)
  } catch (error) {
    if (!isWharfError(error, 'INVALID_ARGUMENT')) throw error
  }
}

/** A valid request body for every API and version, to truncate and corrupt. */
const valid = apis.flatMap((api) => {
  const out: { api: KafkaApi; v: number; bytes: Buffer }[] = []
  for (let v = api.minVersion; v <= api.maxVersion; v++) {
    const w = new Writer()
    api.encodeRequest(w, sample(byName.get(`${api.name}Request`)!, v), v)
    out.push({ api, v, bytes: Buffer.concat(w.finish()) })
  }
  return out
})

test('random bytes into request decoders: typed errors only', () => {
  fc.assert(
    fc.property(fc.nat(apis.length - 1), fc.nat(20), fc.uint8Array({ maxLength: 200 }), (i, vi, data) => {
      const api = apis[i]!
      const v = api.minVersion + (vi % (api.maxVersion - api.minVersion + 1))
      decodeOrTypedError(api, Buffer.from(data), v)
    }),
    { numRuns: runs * 4 },
  )
})

test('every truncation of every valid request is a typed error', () => {
  let checked = 0
  for (const { api, v, bytes } of valid) {
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(
        () => api.decodeRequest(new Reader(bytes.subarray(0, cut)), v),
        (e) => isWharfError(e, 'INVALID_ARGUMENT'),
        `${api.name} v${v} cut at ${cut}`,
      )
      checked++
    }
  }
  assert.ok(checked > 1000)
})

test('byte flips in valid requests: typed errors only', () => {
  fc.assert(
    fc.property(
      fc.nat(valid.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
      (i, flips) => {
        const { api, v, bytes } = valid[i]!
        const copy = Buffer.from(bytes)
        for (const [at, value] of flips) if (copy.length > 0) copy[at % copy.length] = value
        decodeOrTypedError(api, copy, v)
      },
    ),
    { numRuns: runs * 4 },
  )
})

test('random frames into the request header reader: typed errors only', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
      try {
        const req = readRequest(Buffer.from(data))
        if (req.api?.isSupported(req.header.requestApiVersion)) {
          req.api.decodeRequest(req.body, req.header.requestApiVersion)
        }
      } catch (error) {
        if (!isWharfError(error, 'INVALID_ARGUMENT')) throw error
      }
    }),
    { numRuns: runs * 4 },
  )
})
