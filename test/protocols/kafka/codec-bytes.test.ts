// Byte layouts checked against hand-computed frames (classic vs flexible encodings), plus the writer's
// chunking and the frame splitter.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ApiKey,
  decodeApiVersionsRequest,
  decodeMetadataRequest,
  decodeProduceRequest,
  encodeApiVersionsResponse,
  encodeMetadataRequest,
  encodeProduceRequest,
  encodeRequestFrame,
  encodeResponseFrame,
  FrameSplitter,
  kafkaApis,
  Reader,
  readRequest,
  refBytesMin,
  Writer,
} from '../../../src/protocols/kafka/codec/index.ts'
import { isWharfError } from '../../../src/util/errors.ts'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const apiVersions = kafkaApis.get(ApiKey.ApiVersions)!

function bytesOf(encode: (w: Writer) => void): Buffer {
  const w = new Writer()
  encode(w)
  return Buffer.concat(w.finish())
}

test('ApiVersions v0 request: header v1, empty body', () => {
  const frame = Buffer.concat(encodeRequestFrame(apiVersions, 0, 1, 'ab', {}).chunks)
  assert.deepEqual(frame, hex('0000000c 0012 0000 00000001 0002 6162'))
  const req = readRequest(frame.subarray(4))
  assert.equal(req.header.clientId, 'ab')
  assert.deepEqual(decodeApiVersionsRequest(req.body, 0), { clientSoftwareName: '', clientSoftwareVersion: '' })
})

test('ApiVersions v3 request: header v2 keeps a classic clientId, body uses compact strings', () => {
  const body = { clientSoftwareName: 'kj', clientSoftwareVersion: '1' }
  const frame = Buffer.concat(encodeRequestFrame(apiVersions, 3, 1, 'ab', body).chunks)
  assert.deepEqual(frame, hex('00000013 0012 0003 00000001 0002 6162 00   03 6b6a 02 31 00'))
  const req = readRequest(frame.subarray(4))
  assert.deepEqual(decodeApiVersionsRequest(req.body, 3), body)
})

test('ApiVersions v0 response: int32 array, header v0', () => {
  const body = { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] }
  const frame = Buffer.concat(encodeResponseFrame(apiVersions, 0, 7, body).chunks)
  assert.deepEqual(frame, hex('00000010 00000007  0000 00000001 0012 0000 0003'))
})

test('ApiVersions v3 response: still header v0 (no tagged fields), compact array, tagged epoch', () => {
  const body = {
    errorCode: 0,
    apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
    throttleTimeMs: 0,
    finalizedFeaturesEpoch: 5,
  }
  const frame = Buffer.concat(encodeResponseFrame(apiVersions, 3, 7, body).chunks)
  const expected = hex('00000007  0000 02 0012 0000 0004 00  00000000  01 01 08 0000000000000005')
  assert.deepEqual(frame.subarray(4), expected)
  assert.equal(frame.readInt32BE(0), expected.length)
  // Default-valued tagged fields are not written at all.
  const plain = bytesOf((w) => encodeApiVersionsResponse(w, { ...body, finalizedFeaturesEpoch: -1 }, 3))
  assert.deepEqual(plain, hex('0000 02 0012 0000 0004 00  00000000  00'))
})

test('Metadata v9 request: compact nullable array, tagged sections per struct', () => {
  const body = {
    topics: [{ name: 'foo' }],
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: true,
  }
  const bytes = bytesOf((w) => encodeMetadataRequest(w, body, 9))
  assert.deepEqual(bytes, hex('02 04 666f6f 00  01 00 01 00'))
  const decoded = decodeMetadataRequest(new Reader(bytes), 9)
  assert.equal(decoded.topics?.[0]?.name, 'foo')
  assert.equal(decoded.includeTopicAuthorizedOperations, true)
  // null topics (= all topics) is a compact length of 0.
  assert.deepEqual(
    bytesOf((w) => encodeMetadataRequest(w, { ...body, topics: null }, 9)),
    hex('00 01 00 01 00'),
  )
})

test('Produce v3 request: classic strings and int32 records length, records decoded zero-copy', () => {
  const body = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [{ name: 't', partitionData: [{ index: 0, records: hex('010203') }] }],
  }
  const bytes = bytesOf((w) => encodeProduceRequest(w, body, 3))
  assert.deepEqual(bytes, hex('ffff ffff 000003e8 00000001 0001 74 00000001 00000000 00000003 010203'))
  const decoded = decodeProduceRequest(new Reader(bytes), 3)
  const records = decoded.topicData[0]!.partitionData[0]!.records as Buffer
  assert.deepEqual(records, hex('010203'))
  assert.equal(records.buffer, bytes.buffer, 'records must be a view of the request bytes')
})

test('writer: large records are referenced, not copied, so a Fetch response can be written with writev', () => {
  const big = Buffer.alloc(refBytesMin * 4, 7)
  const parts = [Buffer.alloc(refBytesMin, 1), Buffer.alloc(refBytesMin, 2)]
  const w = new Writer(8)
  w.int32(5)
  w.records(big, false)
  w.records(parts, true)
  w.records(null, false)
  const length = w.length
  const chunks = w.finish()
  assert.ok(chunks.includes(big) && chunks.includes(parts[0]!) && chunks.includes(parts[1]!))
  const all = Buffer.concat(chunks)
  assert.equal(all.length, length)
  const r = new Reader(all)
  assert.equal(r.int32(), 5)
  assert.deepEqual(r.nullableBytes(false), big)
  assert.deepEqual(r.nullableBytes(true), Buffer.concat(parts))
  assert.equal(r.nullableBytes(false), null)
})

test('int64 is a number; values beyond 2^53 are rejected with a typed error', () => {
  const w = new Writer()
  w.int64(-1)
  w.int64(2 ** 53 - 1)
  const r = new Reader(Buffer.concat(w.finish()))
  assert.equal(r.int64(), -1)
  assert.equal(r.int64(), 2 ** 53 - 1)
  assert.throws(
    () => new Reader(hex('7fffffffffffffff')).int64(),
    (e) => isWharfError(e, 'INVALID_ARGUMENT'),
  )
  assert.throws(
    () => new Writer().int64(2 ** 60),
    (e) => isWharfError(e, 'INVALID_ARGUMENT'),
  )
})

test('encoding a non-ignorable field in a version that lacks it is an error', () => {
  // AllowAutoTopicCreation exists from v4 and is not ignorable: false cannot be expressed in v3.
  const body = { topics: null, allowAutoTopicCreation: false }
  assert.throws(
    () => bytesOf((w) => encodeMetadataRequest(w, body, 3)),
    (e) => isWharfError(e, 'INVALID_ARGUMENT'),
  )
  assert.ok(bytesOf((w) => encodeMetadataRequest(w, { topics: null, allowAutoTopicCreation: true }, 3)).length > 0)
})

test('frame splitter: any split of a byte stream yields the same frames', () => {
  const frames = [hex('01'), hex(''), Buffer.alloc(300, 9), hex('0203')]
  const stream = Buffer.concat(frames.flatMap((f) => [hex(f.length.toString(16).padStart(8, '0')), f]))
  for (let step = 1; step <= stream.length; step += step < 8 ? 1 : 37) {
    const splitter = new FrameSplitter(1000)
    const out: Buffer[] = []
    for (let i = 0; i < stream.length; i += step) out.push(...splitter.push(stream.subarray(i, i + step)))
    assert.deepEqual(out, frames, `step ${step}`)
    assert.equal(splitter.bufferedBytes, 0)
  }
})

test('frame splitter: oversized and negative sizes are typed errors', () => {
  assert.throws(
    () => new FrameSplitter(100).push(hex('00000065')),
    (e) => isWharfError(e, 'LIMIT_EXCEEDED'),
  )
  const split = new FrameSplitter(100)
  assert.deepEqual(split.push(hex('0000')), [])
  assert.throws(
    () => split.push(hex('0fff')),
    (e) => isWharfError(e, 'LIMIT_EXCEEDED'),
  )
  assert.throws(
    () => new FrameSplitter(100).push(hex('ffffffff')),
    (e) => isWharfError(e, 'INVALID_ARGUMENT'),
  )
})

test('unknown tagged fields are skipped; a known tag with a wrong size is an error', () => {
  // ApiVersions v3 request body with an unknown tag 9 (3 bytes) in its tagged section.
  const body = hex('03 6b6a 02 31  01 09 03 aabbcc')
  assert.deepEqual(decodeApiVersionsRequest(new Reader(body), 3), {
    clientSoftwareName: 'kj',
    clientSoftwareVersion: '1',
  })
  // ApiVersions v3 response with FinalizedFeaturesEpoch (tag 1) declared as 9 bytes but holding 8.
  const bad = hex('0000 01 00000000  01 01 09 0000000000000005 00')
  assert.throws(
    () => kafkaApis.get(ApiKey.ApiVersions)!.decodeResponse(new Reader(bad), 3),
    (e) => isWharfError(e, 'INVALID_ARGUMENT'),
  )
})
