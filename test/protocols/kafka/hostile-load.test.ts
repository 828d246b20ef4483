// The Kafka listener under hostile clients, over a raw socket: pipelined Fetches on a socket that is never read
// hold bounded response bytes (and all arrive, in order, once the client reads), an idle connection is closed
// after connectionsMaxIdleMs (one with a request under way is not), and before authentication a frame above the
// small pre-SASL cap closes the connection instead of being buffered.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import type { ApiVersionsResponse, FetchResponse } from '../../../src/protocols/kafka/codec/index.ts'
import { silentKafkaLogs, startHarness } from './harness.ts'
import { RawClient } from './raw-client.ts'

const MiB = 1024 * 1024
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function closedWithin(c: RawClient, ms: number, what: string): Promise<void> {
  return Promise.race([
    c.closed,
    new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`${what}: not closed`)), ms)),
  ])
}

function fetchRequest(topic: string, maxBytes: number, maxWaitMs = 0) {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: maxBytes }] }],
    forgottenTopicsData: [],
    rackId: '',
  }
}

const recordBytes = (r: Buffer | Buffer[] | null | undefined) =>
  Array.isArray(r) ? Buffer.concat(r) : (r ?? Buffer.alloc(0))

test('pipelined Fetches on a socket that is never read hold bounded response bytes; all arrive once it reads', {
  timeout: 60_000,
}, async (t) => {
  const limit = 1 * MiB
  const h = await startHarness(t, { responseBytesInFlightMax: limit })
  await h.broker.createStream('big', { partitions: 1 })
  // 1 MiB of data in 16 batches: each Fetch below answers with all of it.
  for (let i = 0; i < 16; i++) await h.broker.produce('big', [{ value: Buffer.alloc(64 * 1024, i) }])
  const stored = h.broker.stream('big').partitionLog(0)
  const storedBytes = (await stored.read(0, 8 * MiB)).bytes
  assert.ok(storedBytes >= MiB)

  const requests = Number(process.env.WHARF_LONG ? 600 : 150)
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  c.socket.pause()
  const before = process.memoryUsage().arrayBuffers
  for (let i = 1; i <= requests; i++) c.send(1, 11, i, fetchRequest('big', 8 * MiB))

  // What the broker holds for this connection: its socket's unwritten bytes (and, with the bound, the
  // finished responses counted by the connection), sampled while the client does not read.
  const connection = () => [...h.listener.connections][0]
  let maxWritable = 0
  let maxInFlight = 0
  let maxArrayBuffers = 0
  for (let i = 0; i < 60; i++) {
    await sleep(25)
    const conn = connection()
    if (conn === undefined) continue
    maxWritable = Math.max(maxWritable, conn.socket.writableLength)
    const details = h.listener.connections.list()[0]?.details as { responseBytesInFlight?: number } | undefined
    maxInFlight = Math.max(maxInFlight, details?.responseBytesInFlight ?? 0)
    maxArrayBuffers = Math.max(maxArrayBuffers, process.memoryUsage().arrayBuffers - before)
  }
  // The limit plus one response (the oldest request may always build one) plus one encoded frame's slack.
  const bound = limit + 2 * storedBytes
  assert.ok(maxWritable <= bound, `socket holds ${maxWritable} unwritten bytes (bound ${bound})`)
  assert.ok(maxInFlight > 0 && maxInFlight <= bound, `response bytes in flight ${maxInFlight} (bound ${bound})`)
  // Unbounded, every Fetch's response (1 MiB each) would be built and held: a large margin still tells them apart.
  assert.ok(maxArrayBuffers < 48 * MiB, `buffers grew by ${maxArrayBuffers} bytes`)

  // The client reads: every response arrives, in order, with all the data.
  c.socket.resume()
  for (let i = 1; i <= requests; i++) {
    const res = await c.response<FetchResponse>(1, 11)
    assert.equal(res.correlationId, i)
    const partition = res.body.responses[0]!.partitions[0]!
    assert.equal(partition.errorCode, 0)
    assert.equal(recordBytes(partition.records).length, storedBytes)
  }
})

test('behind a long poll, pipelined Fetches stop at the bound; the long poll is still answered, then all of them', {
  timeout: 60_000,
}, async (t) => {
  const limit = 256 * 1024
  const h = await startHarness(t, { responseBytesInFlightMax: limit })
  await h.broker.createStream('empty', { partitions: 1 })
  await h.broker.createStream('data', { partitions: 1 })
  for (let i = 0; i < 4; i++) await h.broker.produce('data', [{ value: Buffer.alloc(64 * 1024, i) }])
  const storedBytes = (
    await h.broker
      .stream('data')
      .partitionLog(0)
      .read(0, 8 * MiB)
  ).bytes
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  // The oldest request waits for data; those behind it finish and are held until they reach the bound.
  c.send(1, 11, 1, fetchRequest('empty', MiB, 1500))
  for (let i = 2; i <= 40; i++) c.send(1, 11, i, fetchRequest('data', MiB))
  await sleep(500)
  const details = h.listener.connections.list()[0]?.details as { responseBytesInFlight: number; pausedFor: string[] }
  assert.ok(details.responseBytesInFlight >= limit, `held ${details.responseBytesInFlight}`)
  assert.ok(details.responseBytesInFlight <= limit + 2 * storedBytes, `held ${details.responseBytesInFlight}`)
  assert.deepEqual(details.pausedFor, ['backlog'])
  // Data for the long poll: it is answered first, then every held and waiting Fetch, in order.
  await h.broker.produce('empty', [{ value: 'wake' }])
  const first = await c.response<FetchResponse>(1, 11)
  assert.equal(first.correlationId, 1)
  assert.ok(recordBytes(first.body.responses[0]!.partitions[0]!.records).includes(Buffer.from('wake')))
  for (let i = 2; i <= 40; i++) {
    const res = await c.response<FetchResponse>(1, 11)
    assert.equal(res.correlationId, i)
    assert.equal(recordBytes(res.body.responses[0]!.partitions[0]!.records).length, storedBytes)
  }
})

test('a connection without requests for connectionsMaxIdleMs is closed; a busy or long-polling one is not', {
  timeout: 30_000,
}, async (t) => {
  const h = await startHarness(t, { connectionsMaxIdleMs: 300 })
  await h.broker.createStream('idle-poll', { partitions: 1 })
  const idle = new RawClient(h.port)
  t.after(() => idle.socket.destroy())
  idle.send(18, 3, 1, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' })
  assert.equal((await idle.response<ApiVersionsResponse>(18, 3)).body.errorCode, 0)

  const busy = new RawClient(h.port)
  t.after(() => busy.socket.destroy())
  let busyClosed = false
  void busy.closed.then(() => {
    busyClosed = true
  })
  // A long poll longer than the idle time is under way, not idle: it is answered.
  busy.send(1, 11, 1, fetchRequest('idle-poll', MiB, 1000))
  assert.equal((await busy.response<FetchResponse>(1, 11)).correlationId, 1)
  await closedWithin(idle, 5000, 'idle connection')
  for (let i = 2; i < 12; i++) {
    busy.send(18, 3, i, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' })
    assert.equal((await busy.response<ApiVersionsResponse>(18, 3)).correlationId, i)
    await sleep(100)
  }
  assert.equal(busyClosed, false, 'a connection sending requests stays open')
  await closedWithin(busy, 5000, 'connection idle after its requests')

  // DescribeConfigs on the broker says so in Kafka's names.
  const kafka = new Kafka({ brokers: [h.bootstrap], logLevel: logLevel.NOTHING, logCreator: silentKafkaLogs })
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 4, name: '0' }] })
  const entries = new Map(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]))
  assert.equal(entries.get('connections.max.idle.ms'), '300')
  assert.equal(entries.get('sasl.server.max.receive.size'), String(512 * 1024))
})

test('before authentication (anonymous off) a frame above saslFrameBytesMax closes the connection unbuffered', {
  timeout: 30_000,
}, async (t) => {
  const users = [{ name: 'alice', password: 'alice-pw' }]
  const h = await startHarness(t, {}, { users, anonymous: false })
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  const size = Buffer.alloc(4)
  size.writeInt32BE(50 * MiB, 0)
  c.socket.write(size)
  // The size alone closes it: nothing of the 50 MiB had to arrive (or be buffered) first.
  await closedWithin(c, 5000, 'a 50 MiB frame before SASL')
  assert.equal(h.listener.connectionCount, 0)

  // Once authenticated, frames up to frameBytesMax are accepted: a message above the pre-SASL cap goes through.
  const kafka = new Kafka({
    clientId: 'after-sasl',
    brokers: [h.bootstrap],
    sasl: { mechanism: 'plain', username: 'alice', password: 'alice-pw' },
    logLevel: logLevel.NOTHING,
    logCreator: silentKafkaLogs,
    retry: { retries: 2 },
  })
  const producer = kafka.producer()
  await producer.connect()
  h.defer(() => producer.disconnect())
  await producer.send({ topic: 'after-sasl', messages: [{ value: Buffer.alloc(700 * 1024, 7) }] })
  assert.equal(h.broker.stream('after-sasl').partitionLog(0).highWatermark, 1)
})
