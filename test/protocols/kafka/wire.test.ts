// Connection-level behaviour over a raw socket: in-order responses with pipelining (even behind a long-poll
// Fetch), ApiVersions negotiation for unknown versions, and bad input (garbage, oversize frames, unknown
// APIs) closing only the offending connection while the listener keeps serving others.
import assert from 'node:assert/strict'
import type net from 'node:net'
import { test } from 'node:test'
import type { ApiVersionsResponse, FetchResponse, MetadataResponse } from '../../../src/protocols/kafka/codec/index.ts'
import { run, startHarness } from './harness.ts'
import { RawClient } from './raw-client.ts'

test('pipelined requests are answered in order, even behind a long-polling Fetch', async (t) => {
  const h = await startHarness(t)
  await h.broker.createStream('poll', { partitions: 1 })
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  const fetch = {
    replicaId: -1,
    maxWaitMs: 400,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 1,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: 'poll', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
    rackId: '',
  }
  const started = Date.now()
  c.send(1, 11, 1, fetch)
  c.send(18, 2, 2, {})
  c.send(3, 1, 3, { topics: null })
  const first = await c.response<FetchResponse>(1, 11)
  assert.equal(first.correlationId, 1)
  assert.ok(Date.now() - started >= 350, 'the empty fetch waited for maxWaitMs')
  assert.equal(first.body.responses[0]!.partitions[0]!.errorCode, 0)
  assert.equal((await c.response<ApiVersionsResponse>(18, 2)).correlationId, 2)
  const meta = await c.response<MetadataResponse>(3, 1)
  assert.equal(meta.correlationId, 3)
  assert.deepEqual(
    meta.body.topics.map((tp) => tp.name),
    ['poll'],
  )

  // A long poll returns as soon as data arrives.
  const t0 = Date.now()
  c.send(1, 11, 4, { ...fetch, maxWaitMs: 5000 })
  setTimeout(() => void h.broker.produce('poll', [{ value: 'wake' }]), 200)
  const woke = await c.response<FetchResponse>(1, 11)
  assert.ok(Date.now() - t0 < 3000, 'long poll woke on append')
  const records = woke.body.responses[0]!.partitions[0]!.records
  const bytes = Array.isArray(records) ? Buffer.concat(records) : (records ?? Buffer.alloc(0))
  assert.ok(bytes.includes(Buffer.from('wake')))
})

test('ApiVersions with an unknown version gets the v0-layout UNSUPPORTED_VERSION answer with the key list', async (t) => {
  const h = await startHarness(t)
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  c.send(18, 4, 7, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })
  const res = await c.response<ApiVersionsResponse>(18, 0)
  assert.equal(res.correlationId, 7)
  assert.equal(res.body.errorCode, 35)
  const produce = res.body.apiKeys.find((k) => k.apiKey === 0)
  assert.deepEqual(produce, { apiKey: 0, minVersion: 0, maxVersion: 9 })
  assert.ok(!res.body.apiKeys.some((k) => k.apiKey === 68), 'KIP-848 heartbeat not advertised')
  // The connection stays usable.
  c.send(18, 3, 8, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })
  const ok = await c.response<ApiVersionsResponse>(18, 3)
  assert.equal(ok.body.errorCode, 0)
})

test('bad input closes only the offending connection; the broker keeps serving', async (t) => {
  const h = await startHarness(t, { frameBytesMax: 64 * 1024 })
  const cases: Array<[string, (s: net.Socket) => void]> = [
    ['garbage header', (s) => s.write(Buffer.from([0, 0, 0, 3, 1, 2, 3]))],
    ['random bytes', (s) => s.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))],
    ['oversize frame', (s) => s.write(Buffer.from([0x00, 0x10, 0x00, 0x00]))],
    ['negative frame size', (s) => s.write(Buffer.from([0xff, 0xff, 0xff, 0xff]))],
  ]
  for (const [name, send] of cases) {
    const c = new RawClient(h.port)
    send(c.socket)
    await Promise.race([
      c.closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`${name}: not closed`)), 5000)),
    ])
  }
  // Unknown API key and an unsupported version of a known API: Kafka closes the connection.
  const unknown = new RawClient(h.port)
  const frame = Buffer.alloc(14)
  frame.writeInt32BE(10, 0)
  frame.writeInt16BE(999, 4)
  frame.writeInt16BE(0, 6)
  frame.writeInt32BE(1, 8)
  frame.writeInt16BE(-1, 12)
  unknown.socket.write(frame)
  await unknown.closed
  const tooNew = new RawClient(h.port)
  // Fetch v16 is in the codec but not advertised (versions.ts stops at 15).
  tooNew.send(1, 16, 1, { maxWaitMs: 0, minBytes: 1, maxBytes: 1024, isolationLevel: 0, topics: [], rackId: '' })
  await tooNew.closed
  // A truncated body of a valid header closes too.
  const truncated = new RawClient(h.port)
  const header = Buffer.alloc(4 + 10 + 2)
  header.writeInt32BE(12, 0)
  header.writeInt16BE(3, 4)
  header.writeInt16BE(1, 6)
  header.writeInt32BE(5, 8)
  header.writeInt16BE(-1, 12)
  header.writeInt16BE(0x7fff, 14) // topics array length claims far more than the frame holds
  truncated.socket.write(header)
  await truncated.closed

  // Meanwhile a real client is unaffected.
  await run('kcat', ['-b', h.bootstrap, '-P', '-t', 'after-bad'], { input: 'still-ok\n' })
  const back = await run('kcat', ['-b', h.bootstrap, '-C', '-t', 'after-bad', '-o', 'beginning', '-e', '-f', '%s\n'])
  assert.equal(back.stdout.trim(), 'still-ok')
})

test('produce errors per partition: unknown partition, corrupt batch, too large; acks=0 gets no response', async (t) => {
  const h = await startHarness(t)
  await h.broker.createStream('small', { partitions: 1, maxMessageBytes: 100 })
  const { encodeBatch } = await import('../../../src/record/index.ts')
  const good = encodeBatch([{ key: null, value: Buffer.from('ok'), headers: [] }])
  const corrupt = Buffer.from(good)
  corrupt[corrupt.length - 1]! ^= 0xff
  const big = encodeBatch([{ key: null, value: Buffer.alloc(500, 1), headers: [] }])
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  // acks=0 first: no response; the next response on the wire is the acks=1 request's.
  c.send(0, 7, 1, {
    transactionalId: null,
    acks: 0,
    timeoutMs: 1000,
    topicData: [{ name: 'small', partitionData: [{ index: 0, records: good }] }],
  })
  c.send(0, 7, 2, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [
      {
        name: 'small',
        partitionData: [
          { index: 0, records: corrupt },
          { index: 5, records: good },
        ],
      },
      { name: 'nope', partitionData: [{ index: 0, records: good }] },
    ],
  })
  c.send(0, 7, 3, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [{ name: 'small', partitionData: [{ index: 0, records: big }] }],
  })
  const res = await c.response<{
    responses: Array<{ name: string; partitionResponses: Array<{ index: number; errorCode: number }> }>
  }>(0, 7)
  assert.equal(res.correlationId, 2)
  const codes = res.body.responses.flatMap((tp) =>
    tp.partitionResponses.map((p) => `${tp.name}/${p.index}:${p.errorCode}`),
  )
  assert.deepEqual(codes, ['small/0:2', 'small/5:3', 'nope/0:3'])
  const tooLarge = await c.response<{ responses: Array<{ partitionResponses: Array<{ errorCode: number }> }> }>(0, 7)
  assert.equal(tooLarge.correlationId, 3)
  assert.equal(tooLarge.body.responses[0]!.partitionResponses[0]!.errorCode, 10)
  // The acks=0 record was stored.
  assert.equal(h.broker.stream('small').partitionLog(0).highWatermark, 1)
})
