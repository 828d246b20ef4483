// Fetch sessions (KIP-227) on the wire. None of the installed clients opens one: kafkajs 2.2.4
// (src/protocol/requests/fetch, sessionId 0 / epoch -1 always), librdkafka 2.0.2 (rdkafka_fetcher.c writes
// SessionId 0, Epoch -1) and kafka-python 2.0.2 (Fetch v4 at most) all send sessionless full fetches. So the
// session is driven here the way Kafka's Java consumer (FetchSessionHandler) drives it, over a raw socket with
// Wharf's codec, while kafkajs produces; kafkajs and confluent-kafka consumers then show that sessionless
// fetching is unchanged and opens no session.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { ApiKey, type FetchResponse } from '../../../src/protocols/kafka/codec/index.ts'
import { decodeBatch, splitBatches } from '../../../src/record/index.ts'
import { run, silentKafkaLogs, startHarness } from './harness.ts'
import { RawClient } from './raw-client.ts'

const TOPIC = 'sessions'
const PARTITIONS = 4

function kafkaClient(bootstrap: string) {
  return new Kafka({
    clientId: 'fetch-sessions',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    logCreator: silentKafkaLogs,
    retry: { retries: 3, initialRetryTime: 100 },
  })
}

function fetchBody(sessionId: number, sessionEpoch: number, positions: Map<number, number>, maxWaitMs = 0) {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1024 * 1024,
    isolationLevel: 0,
    sessionId,
    sessionEpoch,
    topics:
      positions.size === 0
        ? []
        : [
            {
              topic: TOPIC,
              partitions: [...positions].map(([partition, fetchOffset]) => ({
                partition,
                currentLeaderEpoch: -1,
                fetchOffset,
                lastFetchedEpoch: -1,
                logStartOffset: -1,
                partitionMaxBytes: 1024 * 1024,
              })),
            },
          ],
    forgottenTopicsData: [],
    rackId: '',
  }
}

/** Values of the records at or after each partition's position; advances the positions. */
function consume(body: FetchResponse, positions: Map<number, number>, seen: string[]): number[] {
  const answered: number[] = []
  for (const topic of body.responses) {
    for (const p of topic.partitions) {
      assert.equal(p.errorCode, 0)
      answered.push(p.partitionIndex)
      const bytes = p.records as Buffer | null
      if (bytes === null || bytes.length === 0) continue
      for (const batch of splitBatches(bytes)) {
        for (const r of decodeBatch(batch).records) {
          if (r.offset < positions.get(p.partitionIndex)!) continue
          seen.push(r.value!.toString())
          positions.set(p.partitionIndex, r.offset + 1)
        }
      }
    }
  }
  return answered
}

test('a fetch session: one full fetch, then incremental fetches that name only moved partitions and answer only partitions with news', async (t) => {
  const h = await startHarness(t)
  const kafka = kafkaClient(h.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] })
  const producer = kafka.producer()
  await producer.connect()
  h.defer(() => producer.disconnect())

  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  const positions = new Map<number, number>()
  for (let p = 0; p < PARTITIONS; p++) positions.set(p, 0)
  const seen: string[] = []
  const sent: string[] = []

  // Full fetch with epoch 0: a session id and every partition answered.
  c.send(ApiKey.Fetch, 12, 1, fetchBody(0, 0, positions))
  const full = (await c.response<FetchResponse>(ApiKey.Fetch, 12)).body
  assert.equal(full.errorCode, 0)
  assert.ok(full.sessionId! > 0, 'the broker opened a session')
  assert.deepEqual(consume(full, positions, seen).sort(), [0, 1, 2, 3])
  assert.equal(h.listener.fetchSessions.stats.created, 1)

  // Many polls: each round produces to one partition, then an incremental fetch names only the partitions whose
  // position moved since the last request; the answer holds only the partition with new records.
  // What the session holds for each partition: an incremental request names a partition only when it moved.
  const named = new Map(positions)
  const moved = () => {
    const changed = new Map([...positions].filter(([p, offset]) => named.get(p) !== offset))
    for (const [p, offset] of changed) named.set(p, offset)
    return changed
  }
  let epoch = 1
  for (let round = 0; round < 20; round++) {
    const partition = round % PARTITIONS
    const values = [0, 1, 2].map((i) => `r${round}-${i}`)
    sent.push(...values)
    await producer.send({ topic: TOPIC, messages: values.map((value) => ({ value, partition })) })
    c.send(ApiKey.Fetch, 12, 100 + round, fetchBody(full.sessionId!, epoch++, moved(), 5000))
    const body = (await c.response<FetchResponse>(ApiKey.Fetch, 12)).body
    assert.equal(body.errorCode, 0)
    assert.equal(body.sessionId, full.sessionId)
    assert.deepEqual(consume(body, positions, seen), [partition], `round ${round}: only the partition with news`)
  }
  assert.deepEqual(seen.sort(), sent.sort(), 'every record exactly once')
  const stats = h.listener.fetchSessions.stats
  assert.equal(stats.incrementalFetches, 20)
  // Every incremental request named at most one partition of the four the session holds.
  assert.ok(stats.partitionsOmitted >= 20 * (PARTITIONS - 1), `omitted ${stats.partitionsOmitted}`)

  // An incremental fetch with nothing new waits out maxWaitMs and answers no partitions.
  c.send(ApiKey.Fetch, 12, 500, fetchBody(full.sessionId!, epoch++, moved(), 200))
  const idle = (await c.response<FetchResponse>(ApiKey.Fetch, 12)).body
  assert.equal(idle.errorCode, 0)
  assert.deepEqual(idle.responses, [])

  // Kafka's errors: a stale epoch, an unknown session id.
  c.send(ApiKey.Fetch, 12, 501, fetchBody(full.sessionId!, epoch - 1, new Map()))
  const stale = (await c.response<FetchResponse>(ApiKey.Fetch, 12)).body
  assert.equal(stale.errorCode, 71, 'INVALID_FETCH_SESSION_EPOCH')
  assert.equal(stale.sessionId, 0)
  c.send(ApiKey.Fetch, 12, 502, fetchBody(full.sessionId! ^ 1, 1, new Map()))
  assert.equal((await c.response<FetchResponse>(ApiKey.Fetch, 12)).body.errorCode, 70, 'FETCH_SESSION_ID_NOT_FOUND')

  // Forgetting partitions: the session stops reading them; news there is no longer answered.
  c.send(ApiKey.Fetch, 12, 503, {
    ...fetchBody(full.sessionId!, epoch++, new Map()),
    forgottenTopicsData: [{ topic: TOPIC, partitions: [1, 2, 3] }],
  })
  assert.equal((await c.response<FetchResponse>(ApiKey.Fetch, 12)).body.errorCode, 0)
  await producer.send({ topic: TOPIC, messages: [{ value: 'forgotten', partition: 3 }] })
  await producer.send({ topic: TOPIC, messages: [{ value: 'kept', partition: 0 }] })
  c.send(ApiKey.Fetch, 12, 504, fetchBody(full.sessionId!, epoch++, moved(), 5000))
  const after = (await c.response<FetchResponse>(ApiKey.Fetch, 12)).body
  const more: string[] = []
  assert.deepEqual(consume(after, positions, more), [0])
  assert.deepEqual(more, ['kept'])

  // Epoch -1 closes the session: the answer is sessionless, and the id is gone.
  c.send(ApiKey.Fetch, 12, 505, fetchBody(full.sessionId!, -1, new Map([[0, positions.get(0)!]])))
  const closed = (await c.response<FetchResponse>(ApiKey.Fetch, 12)).body
  assert.equal(closed.sessionId, 0)
  assert.equal(h.listener.fetchSessions.size, 0)
})

test('kafkajs and confluent-kafka consumers fetch sessionless over many polls: every record once, no session opened', async (t) => {
  const h = await startHarness(t)
  const kafka = kafkaClient(h.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] })
  const producer = kafka.producer()
  await producer.connect()
  h.defer(() => producer.disconnect())
  const sent: string[] = []
  for (let batch = 0; batch < 10; batch++) {
    const values = Array.from({ length: 20 }, (_, i) => `v${batch}-${i}`)
    sent.push(...values)
    await producer.send({ topic: TOPIC, messages: values.map((value) => ({ value })) })
  }

  const consumer = kafka.consumer({ groupId: 'sessionless-js', maxWaitTimeInMs: 100 })
  await consumer.connect()
  h.defer(() => consumer.disconnect())
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
  const got: string[] = []
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kafkajs got ${got.length}/${sent.length}`)), 60_000)
    consumer
      .run({
        eachMessage: async ({ message }) => {
          got.push(message.value!.toString())
          if (got.length === sent.length) {
            clearTimeout(timer)
            resolve()
          }
        },
      })
      .catch(reject)
  })
  assert.deepEqual([...got].sort(), [...sent].sort())

  const script = `
import sys
from confluent_kafka import Consumer
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'sessionless-py', 'auto.offset.reset': 'earliest',
              'fetch.wait.max.ms': 50, 'message.max.bytes': 1000, 'fetch.max.bytes': 2048,
              'max.partition.fetch.bytes': 512})
c.subscribe([sys.argv[2]])
got = []
idle = 0
while len(got) < int(sys.argv[3]) and idle < 300:
    m = c.poll(0.2)
    if m is None or m.error():
        idle += 1
        continue
    got.append(m.value().decode())
c.close()
print('\\n'.join(got))
`
  const { stdout } = await run('/usr/bin/python3', ['-c', script, h.bootstrap, TOPIC, String(sent.length)], {
    timeoutMs: 120_000,
  })
  assert.deepEqual(stdout.trim().split('\n').sort(), [...sent].sort())
  const stats = h.listener.fetchSessions.stats
  assert.equal(stats.created, 0, 'sessionless clients open no session')
  assert.equal(h.listener.fetchSessions.size, 0)
})
