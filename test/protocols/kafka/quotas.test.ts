// Client quotas on the Kafka wire: DescribeClientQuotas / AlterClientQuotas (no installed client sends them —
// kafkajs 2.2.4, confluent-kafka 1.7 and kafka-python 2.0.2 have no quota admin — so they go over a raw socket
// with Wharf's codec), and the throttle a librdkafka producer over its byte-rate quota gets (its throttle_cb
// reports throttle_time_ms) while a client id without a quota is left alone.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import type {
  AlterClientQuotasResponse,
  DescribeClientQuotasResponse,
  ProduceResponse,
} from '../../../src/protocols/kafka/codec/index.ts'
import { ApiKey } from '../../../src/protocols/kafka/codec/index.ts'
import { encodeBatch } from '../../../src/record/index.ts'
import { run, startHarness } from './harness.ts'
import { RawClient } from './raw-client.ts'

const QUOTA = 100 * 1024

async function alter(raw: RawClient, version: number, entries: unknown[], validateOnly = false) {
  raw.send(ApiKey.AlterClientQuotas, version, 1, { entries, validateOnly })
  return (await raw.response<AlterClientQuotasResponse>(ApiKey.AlterClientQuotas, version)).body
}

async function describe(raw: RawClient, version: number, components: unknown[], strict = false) {
  raw.send(ApiKey.DescribeClientQuotas, version, 2, { components, strict })
  return (await raw.response<DescribeClientQuotasResponse>(ApiKey.DescribeClientQuotas, version)).body
}

const user = (name: string | null) => ({ entityType: 'user', entityName: name })
const client = (name: string | null) => ({ entityType: 'client-id', entityName: name })
const set = (key: string, value: number) => ({ key, value, remove: false })

test('AlterClientQuotas sets and removes quotas per entity; DescribeClientQuotas filters them as Kafka does', async (t) => {
  const h = await startHarness(t)
  for (const version of [0, 1]) {
    const raw = new RawClient(h.port)
    t.after(() => raw.socket.destroy())
    const altered = await alter(raw, version, [
      { entity: [user('alice'), client('app')], ops: [set('producer_byte_rate', 1024)] },
      { entity: [user(null)], ops: [set('consumer_byte_rate', 2048), set('request_percentage', 50)] },
      { entity: [client('batch')], ops: [set('producer_byte_rate', 4096)] },
      { entity: [client('x')], ops: [set('no_such_quota', 1)] },
      { entity: [{ entityType: 'ip', entityName: '1.2.3.4' }], ops: [set('producer_byte_rate', 1)] },
      { entity: [client('y')], ops: [set('producer_byte_rate', -5)] },
    ])
    assert.deepEqual(
      altered.entries.map((e) => e.errorCode),
      [0, 0, 0, 42, 42, 42],
    )
    assert.match(altered.entries[3]!.errorMessage ?? '', /no_such_quota/)

    const all = await describe(raw, version, [])
    const view = (r: DescribeClientQuotasResponse) =>
      (r.entries ?? [])
        .map((e) => ({
          entity: e.entity.map((x) => `${x.entityType}=${x.entityName ?? '<default>'}`).join(','),
          values: Object.fromEntries(e.values.map((v) => [v.key, v.value])),
        }))
        .sort((a, b) => a.entity.localeCompare(b.entity))
    assert.deepEqual(view(all), [
      { entity: 'client-id=batch', values: { producer_byte_rate: 4096 } },
      { entity: 'user=<default>', values: { consumer_byte_rate: 2048, request_percentage: 50 } },
      { entity: 'user=alice,client-id=app', values: { producer_byte_rate: 1024 } },
    ])
    // Exact user name; non-strict includes entities with a client id too, strict does not.
    const alice = [{ entityType: 'user', matchType: 0, match: 'alice' }]
    assert.equal(view(await describe(raw, version, alice)).length, 1)
    assert.equal(view(await describe(raw, version, alice, true)).length, 0)
    // Default user; any specified client id.
    assert.deepEqual(
      view(await describe(raw, version, [{ entityType: 'user', matchType: 1, match: null }])).map((e) => e.entity),
      ['user=<default>'],
    )
    assert.deepEqual(
      view(await describe(raw, version, [{ entityType: 'client-id', matchType: 2, match: null }])).map((e) => e.entity),
      ['client-id=batch', 'user=alice,client-id=app'],
    )
    // validateOnly changes nothing; removing the last value deletes the entity.
    const checked = await alter(
      raw,
      version,
      [{ entity: [client('batch')], ops: [set('producer_byte_rate', 1)] }],
      true,
    )
    assert.equal(checked.entries[0]!.errorCode, 0)
    const removed = await alter(raw, version, [
      { entity: [client('batch')], ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] },
      { entity: [user('alice'), client('app')], ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] },
      { entity: [user(null)], ops: [{ key: 'consumer_byte_rate', value: 0, remove: true }] },
    ])
    assert.deepEqual(
      removed.entries.map((e) => e.errorCode),
      [0, 0, 0],
    )
    assert.deepEqual(view(await describe(raw, version, [])), [
      { entity: 'user=<default>', values: { request_percentage: 50 } },
    ])
    await alter(raw, version, [{ entity: [user(null)], ops: [{ key: 'request_percentage', value: 0, remove: true }] }])
    raw.socket.destroy()
  }
})

// Produces 1 KiB records as fast as librdkafka lets it for a few seconds; prints bytes acknowledged, the
// seconds it took and the throttle times its throttle_cb reported.
const pythonProducer = `
import json, sys, time
from confluent_kafka import Producer
port, client_id, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
throttles = []
acked = [0]
def on_throttle(event):
    throttles.append(event.throttle_time)
def on_delivery(err, msg):
    if err is None:
        acked[0] += len(msg.value())
p = Producer({'bootstrap.servers': '127.0.0.1:' + port, 'client.id': client_id, 'throttle_cb': on_throttle,
              'linger.ms': 5, 'batch.size': 16384, 'queue.buffering.max.kbytes': 128})
payload = b'x' * 1024
start = time.time()
while time.time() - start < seconds:
    try:
        p.produce('quota-topic', payload, on_delivery=on_delivery)
    except BufferError:
        p.poll(0.05)
    p.poll(0)
p.flush(60)
elapsed = time.time() - start
print(json.dumps({'bytes': acked[0], 'seconds': elapsed, 'throttles': throttles}))
`

test('a librdkafka producer over its byte-rate quota is throttled near the quota; another client id is not', async (t) => {
  // A short window (3 samples of 1 s) so the burst a new client may send before the rate catches up is small.
  const h = await startHarness(t, {}, { quotaWindow: { samples: 3, sampleMs: 1000 } })
  await h.broker.createStream('quota-topic', { partitions: 1 })
  const raw = new RawClient(h.port)
  t.after(() => raw.socket.destroy())
  const altered = await alter(raw, 1, [{ entity: [client('limited')], ops: [set('producer_byte_rate', QUOTA)] }])
  assert.equal(altered.entries[0]!.errorCode, 0)

  const limited = JSON.parse(
    (await run('/usr/bin/python3', ['-c', pythonProducer, String(h.port), 'limited', '8'], { timeoutMs: 120_000 }))
      .stdout,
  ) as { bytes: number; seconds: number; throttles: number[] }
  assert.ok(
    limited.throttles.some((ms) => ms > 0),
    `throttle_time_ms reported: ${JSON.stringify(limited.throttles)}`,
  )
  const rate = limited.bytes / limited.seconds
  assert.ok(limited.bytes > 0, 'the limited producer still gets records through')
  assert.ok(rate < 3 * QUOTA, `achieved ${Math.round(rate)} B/s against a quota of ${QUOTA} B/s`)

  // Same topic, same broker, a client id with no quota: no throttle, and more than the quota could carry.
  const free = JSON.parse(
    (await run('/usr/bin/python3', ['-c', pythonProducer, String(h.port), 'free', '3'], { timeoutMs: 120_000 })).stdout,
  ) as { bytes: number; seconds: number; throttles: number[] }
  assert.deepEqual(
    free.throttles.filter((ms) => ms > 0),
    [],
  )
  // More than the quota would have let through in that time, its first-window burst included.
  assert.ok(free.bytes > QUOTA * (free.seconds + 2), `the unlimited producer sent ${free.bytes} B in ${free.seconds} s`)
})

test('a kafkajs consumer over its fetch byte-rate quota is throttled (empty throttled fetches) and still reads everything once', async (t) => {
  const h = await startHarness(t, {}, { quotaWindow: { samples: 3, sampleMs: 1000 } })
  await h.broker.createStream('fetch-quota', { partitions: 1 })
  const raw = new RawClient(h.port)
  t.after(() => raw.socket.destroy())
  const altered = await alter(raw, 1, [{ entity: [client('reader')], ops: [set('consumer_byte_rate', QUOTA)] }])
  assert.equal(altered.entries[0]!.errorCode, 0)
  const throttled: string[] = []
  const kafka = (clientId: string) =>
    new Kafka({
      clientId,
      brokers: [h.bootstrap],
      logLevel: logLevel.DEBUG,
      logCreator: () => (entry) => {
        if (/throttling in effect/i.test(entry.log.message)) throttled.push(entry.log.message)
      },
    })
  const producer = kafka('writer').producer()
  await producer.connect()
  h.defer(() => producer.disconnect())
  // 600 KiB in 1 KiB records, 30 batches of 20.
  const total = 600
  for (let b = 0; b < total / 20; b++) {
    await producer.send({
      topic: 'fetch-quota',
      messages: Array.from({ length: 20 }, (_, i) => ({ value: `${b * 20 + i}`.padEnd(1024, '.') })),
    })
  }
  assert.deepEqual(throttled, [], 'the producer has no quota')
  const consumer = kafka('reader').consumer({ groupId: 'quota-readers', maxBytes: 1 << 20 })
  await consumer.connect()
  h.defer(() => consumer.disconnect())
  await consumer.subscribe({ topic: 'fetch-quota', fromBeginning: true })
  const seen = new Set<number>()
  let duplicates = 0
  const started = Date.now()
  let done!: () => void
  const all = new Promise<void>((resolve) => {
    done = resolve
  })
  await consumer.run({
    eachMessage: async ({ message }) => {
      const n = Number.parseInt(message.value!.toString(), 10)
      if (seen.has(n)) duplicates++
      seen.add(n)
      if (seen.size === total) done()
    },
  })
  await all
  const seconds = (Date.now() - started) / 1000
  assert.equal(duplicates, 0)
  assert.ok(throttled.length > 0, 'kafkajs was told to throttle itself')
  // 600 KiB at 100 KiB/s, less the 200 KiB a fresh client may take at once: it cannot be done in under ~4 s.
  assert.ok(seconds > 2, `read ${total} KiB in ${seconds} s under a ${QUOTA / 1024} KiB/s quota`)
})

test('request-time quota: a client over request_percentage gets throttle_time_ms on every API; ApiVersions is exempt', async (t) => {
  const h = await startHarness(t, {}, { quotaWindow: { samples: 2, sampleMs: 1000 } })
  const admin = new RawClient(h.port)
  t.after(() => admin.socket.destroy())
  // The raw client's requests carry client id "raw"; one ten-thousandth of a thread is
  // 0.1 ms per second, measured over a 1 s window.
  const altered = await alter(admin, 1, [{ entity: [client('raw')], ops: [set('request_percentage', 0.01)] }])
  assert.equal(altered.entries[0]!.errorCode, 0)
  admin.socket.destroy()
  const raw = new RawClient(h.port)
  t.after(() => raw.socket.destroy())
  let throttled = 0
  for (let i = 0; i < 40 && throttled === 0; i++) {
    raw.send(ApiKey.Metadata, 9, i, {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    })
    const { body } = await raw.response<{ throttleTimeMs: number }>(ApiKey.Metadata, 9)
    if (body.throttleTimeMs > 0) throttled = body.throttleTimeMs
  }
  assert.ok(throttled > 0, 'Metadata answered with throttle_time_ms')
  raw.send(ApiKey.ApiVersions, 3, 100, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' })
  const versions = await raw.response<{ throttleTimeMs: number; errorCode: number }>(ApiKey.ApiVersions, 3)
  assert.equal(versions.body.errorCode, 0)
  assert.equal(versions.body.throttleTimeMs, 0)
})

test('a Produce v5 over its byte-rate quota (before KIP-219) is answered only after the throttle time', async (t) => {
  const h = await startHarness(t, {}, { quotaWindow: { samples: 2, sampleMs: 1000 } })
  await h.broker.createStream('old-produce', { partitions: 1 })
  const raw = new RawClient(h.port)
  t.after(() => raw.socket.destroy())
  const altered = await alter(raw, 1, [{ entity: [client('raw')], ops: [set('producer_byte_rate', 10_000)] }])
  assert.equal(altered.entries[0]!.errorCode, 0)
  // 40 KB against 10 KB/s over a 1 s floor window: 3 s of throttle (capped at the 2 s window).
  const records = encodeBatch(
    Array.from({ length: 40 }, () => ({ key: null, value: Buffer.alloc(1000, 120), headers: [] })),
  )
  const started = Date.now()
  raw.send(ApiKey.Produce, 5, 7, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 30_000,
    topicData: [{ name: 'old-produce', partitionData: [{ index: 0, records }] }],
  })
  const { body } = await raw.response<ProduceResponse>(ApiKey.Produce, 5)
  const waited = Date.now() - started
  assert.equal(body.responses[0]!.partitionResponses[0]!.errorCode, 0)
  assert.equal(body.throttleTimeMs, 2000)
  assert.ok(waited >= 1900, `answered after ${waited} ms`)
})

test('a user quota applies to the SASL user it names, whatever its client id; another user is unaffected', async (t) => {
  const users = [
    { name: 'alice', password: 'alice-pw' },
    { name: 'bob', password: 'bob-pw' },
  ]
  const h = await startHarness(t, {}, { users, anonymous: true, quotaWindow: { samples: 2, sampleMs: 1000 } })
  await h.broker.createStream('user-quota', { partitions: 1 })
  const raw = new RawClient(h.port)
  t.after(() => raw.socket.destroy())
  const altered = await alter(raw, 1, [{ entity: [user('alice')], ops: [set('producer_byte_rate', 20_000)] }])
  assert.equal(altered.entries[0]!.errorCode, 0)
  const throttledBy = new Map<string, number>()
  const produce = async (name: string) => {
    const kafka = new Kafka({
      clientId: `${name}-${Math.random()}`,
      brokers: [h.bootstrap],
      sasl: { mechanism: 'plain', username: name, password: `${name}-pw` },
      logLevel: logLevel.DEBUG,
      logCreator: () => (entry) => {
        if (/throttling in effect/i.test(entry.log.message)) throttledBy.set(name, (throttledBy.get(name) ?? 0) + 1)
      },
    })
    const producer = kafka.producer()
    await producer.connect()
    h.defer(() => producer.disconnect())
    for (let i = 0; i < 8; i++) {
      await producer.send({ topic: 'user-quota', messages: [{ value: Buffer.alloc(10_000, 97) }] })
    }
    await producer.disconnect()
  }
  await produce('bob')
  await produce('alice')
  assert.equal(throttledBy.get('bob'), undefined, 'bob has no quota')
  assert.ok((throttledBy.get('alice') ?? 0) > 0, 'alice was throttled')
})
