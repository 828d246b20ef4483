// Every generated message, every valid version: encode a sample, decode it back, compare; also through the
// full frame path (size prefix, header by version, body) for requests and responses.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as generated from '../../../src/protocols/kafka/codec/generated/index.ts'
import {
  decodeResponseHeader,
  encodeRequestFrame,
  encodeResponseFrame,
  type KafkaApi,
  kafkaApis,
  Reader,
  readRequest,
  Writer,
} from '../../../src/protocols/kafka/codec/index.ts'
import { sample, specs, versions } from './codec-samples.ts'

type Encode = (w: Writer, m: unknown, v: number) => void
type Decode = (r: Reader, v: number) => unknown
const codecs = generated as unknown as Record<string, Encode | Decode>

function concat(chunks: Buffer[]): Buffer {
  return Buffer.concat(chunks)
}

test('every message round-trips in every version', () => {
  let cases = 0
  for (const msg of specs) {
    const encode = codecs[`encode${msg.name}`] as Encode
    const decode = codecs[`decode${msg.name}`] as Decode
    assert.equal(typeof encode, 'function', msg.name)
    for (const v of versions(msg)) {
      for (const seed of [1, 2, 3]) {
        const value = sample(msg, v, seed)
        const w = new Writer(16)
        encode(w, value, v)
        const length = w.length
        const bytes = concat(w.finish())
        assert.equal(bytes.length, length, `${msg.name} v${v} length`)
        const r = new Reader(bytes)
        assert.deepStrictEqual(decode(r, v), value, `${msg.name} v${v} seed ${seed}`)
        assert.equal(r.pos, bytes.length, `${msg.name} v${v} leaves bytes`)
        cases++
      }
    }
  }
  assert.ok(cases > 1000, `only ${cases} cases`)
})

test('requests and responses round-trip through full frames for every API and version', () => {
  const byName = new Map(specs.map((m) => [m.name, m]))
  for (const api of kafkaApis.values() as IterableIterator<KafkaApi>) {
    const reqSpec = byName.get(`${api.name}Request`)!
    const resSpec = byName.get(`${api.name}Response`)!
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      const req = sample(reqSpec, v)
      const frame = concat(encodeRequestFrame(api, v, 77, 'client-1', req).chunks)
      assert.equal(frame.readInt32BE(0), frame.length - 4)
      const decoded = readRequest(frame.subarray(4))
      assert.equal(decoded.api, api)
      assert.deepStrictEqual(decoded.header, {
        requestApiKey: api.apiKey,
        requestApiVersion: v,
        correlationId: 77,
        clientId: 'client-1',
      })
      assert.deepStrictEqual(api.decodeRequest(decoded.body, v), req, `${api.name} v${v} request`)
      assert.equal(decoded.body.remaining, 0)

      const res = sample(resSpec, v)
      const { chunks, length } = encodeResponseFrame(api, v, 78, res)
      const out = concat(chunks)
      assert.equal(out.length, length)
      assert.equal(out.readInt32BE(0), length - 4)
      const r = new Reader(out, 4)
      assert.deepStrictEqual(decodeResponseHeader(r, api.responseHeaderVersion(v)), { correlationId: 78 })
      assert.deepStrictEqual(api.decodeResponse(r, v), res, `${api.name} v${v} response`)
      assert.equal(r.remaining, 0)
    }
  }
})

test('header versions: flexible requests use v2, ApiVersions responses always v0', () => {
  const produce = kafkaApis.get(generated.ApiKey.Produce)!
  assert.equal(produce.requestHeaderVersion(8), 1)
  assert.equal(produce.requestHeaderVersion(9), 2)
  assert.equal(produce.responseHeaderVersion(8), 0)
  assert.equal(produce.responseHeaderVersion(9), 1)
  const apiVersions = kafkaApis.get(generated.ApiKey.ApiVersions)!
  assert.equal(apiVersions.requestHeaderVersion(3), 2)
  assert.equal(apiVersions.responseHeaderVersion(3), 0)
  assert.equal(apiVersions.responseHeaderVersion(4), 0)
})
