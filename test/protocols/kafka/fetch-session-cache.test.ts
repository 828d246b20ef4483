// The fetch session cache (KIP-227) as pure logic: Kafka's (session id, epoch) rules, what an incremental
// response includes, forgotten partitions, and the bounded cache's eviction. The wire behaviour with real
// requests is in fetch-sessions.test.ts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type FetchPartitionRequest, FetchSessionCache } from '../../../src/protocols/kafka/fetch-session.ts'

const part = (topic: string, partition: number, fetchOffset = 0): FetchPartitionRequest => ({
  topic,
  partition,
  fetchOffset,
  partitionMaxBytes: 1024,
})
const quiet = { errorCode: 0, bytes: 0, highWatermark: 10, lastStableOffset: 10, logStartOffset: 0 }

function open(cache: FetchSessionCache, partitions: FetchPartitionRequest[]) {
  const plan = cache.begin({ sessionId: 0, sessionEpoch: 0, usesTopicIds: false, partitions, forgotten: [] })
  assert.equal(plan.kind, 'full')
  assert.ok(plan.sessionId > 0)
  for (const p of partitions) plan.session!.changed(p, quiet)
  return plan
}

test('epoch 0 creates a session; the next epochs are incremental and read every session partition', () => {
  const cache = new FetchSessionCache()
  const { sessionId } = open(cache, [part('a', 0), part('a', 1), part('b', 0)])
  const next = cache.begin({ sessionId, sessionEpoch: 1, usesTopicIds: false, partitions: [], forgotten: [] })
  assert.equal(next.kind, 'incremental')
  assert.equal(next.sessionId, sessionId)
  assert.deepEqual(
    next.partitions.map((p) => `${p.topic}-${p.partition}`),
    ['a-0', 'a-1', 'b-0'],
  )
  // Only what moved is answered: a partition with records, one whose high watermark moved, one with an error.
  const session = next.session!
  assert.equal(session.changed(part('a', 0), quiet), false)
  assert.equal(session.changed(part('a', 1), { ...quiet, highWatermark: 11 }), true)
  assert.equal(session.changed(part('a', 1), { ...quiet, highWatermark: 11 }), false, 'reported once')
  assert.equal(session.changed(part('b', 0), { ...quiet, errorCode: 3 }), true)
  assert.equal(session.changed(part('a', 0), { ...quiet, bytes: 100 }), true)
  // A partition that returned records moves to the end of the fetch order.
  assert.deepEqual(
    [...session.partitions.values()].map((p) => `${p.topic}-${p.partition}`),
    ['a-1', 'b-0', 'a-0'],
  )
  assert.equal(cache.stats.incrementalFetches, 1)
  assert.equal(cache.stats.partitionsOmitted, 3)
})

test('an incremental fetch updates offsets, adds partitions and forgets others', () => {
  const cache = new FetchSessionCache()
  const { sessionId } = open(cache, [part('a', 0), part('a', 1)])
  const plan = cache.begin({
    sessionId,
    sessionEpoch: 1,
    usesTopicIds: false,
    partitions: [part('a', 0, 42), part('c', 0, 7)],
    forgotten: [{ topic: 'a', partition: 1 }],
  })
  if (plan.kind === 'error') throw new Error(`error ${plan.errorCode}`)
  assert.deepEqual(
    plan.partitions.map((p) => [p.topic, p.partition, p.fetchOffset]),
    [
      ['a', 0, 42],
      ['c', 0, 7],
    ],
  )
})

test("Kafka's session errors: unknown id, wrong epoch, a version switch between names and ids", () => {
  const cache = new FetchSessionCache()
  const { sessionId } = open(cache, [part('a', 0)])
  const unknown = cache.begin({
    sessionId: sessionId + 1,
    sessionEpoch: 1,
    usesTopicIds: false,
    partitions: [],
    forgotten: [],
  })
  assert.deepEqual(unknown, { kind: 'error', errorCode: 70 })
  const stale = cache.begin({ sessionId, sessionEpoch: 5, usesTopicIds: false, partitions: [], forgotten: [] })
  assert.deepEqual(stale, { kind: 'error', errorCode: 71 })
  // The right epoch still works after a wrong one (the session is kept).
  assert.equal(
    cache.begin({ sessionId, sessionEpoch: 1, usesTopicIds: false, partitions: [], forgotten: [] }).kind,
    'incremental',
  )
  const switched = cache.begin({ sessionId, sessionEpoch: 2, usesTopicIds: true, partitions: [], forgotten: [] })
  assert.deepEqual(switched, { kind: 'error', errorCode: 106 })
  assert.equal(cache.size, 0)
})

test('epoch -1 closes the session and answers sessionless; epoch 0 with an id replaces it', () => {
  const cache = new FetchSessionCache()
  const first = open(cache, [part('a', 0)])
  const replaced = cache.begin({
    sessionId: first.sessionId,
    sessionEpoch: 0,
    usesTopicIds: false,
    partitions: [part('b', 0)],
    forgotten: [],
  })
  if (replaced.kind === 'error') throw new Error('unreachable')
  assert.notEqual(replaced.sessionId, first.sessionId)
  assert.equal(cache.get(first.sessionId), undefined)
  const closed = cache.begin({
    sessionId: replaced.sessionId,
    sessionEpoch: -1,
    usesTopicIds: false,
    partitions: [part('b', 0)],
    forgotten: [],
  })
  assert.equal(closed.kind, 'full')
  assert.equal(closed.sessionId, 0)
  assert.equal(cache.size, 0)
  assert.equal(cache.stats.closed, 2)
})

test('the cache is bounded: a full cache evicts a stale or smaller session, else declines', () => {
  let now = 0
  const cache = new FetchSessionCache({ slots: 2, evictionMs: 1000, partitionsMax: 3 }, () => now)
  const a = open(cache, [part('a', 0), part('a', 1)])
  now = 10
  const b = open(cache, [part('b', 0), part('b', 1)])
  // Full of young sessions as large as the newcomer: declined (session id 0, a sessionless answer).
  const declined = cache.begin({
    sessionId: 0,
    sessionEpoch: 0,
    usesTopicIds: false,
    partitions: [part('c', 0)],
    forgotten: [],
  })
  if (declined.kind === 'error') throw new Error('unreachable')
  assert.equal(declined.sessionId, 0)
  assert.equal(cache.stats.declined, 1)
  // A larger newcomer evicts the least recently used session.
  const big = open(cache, [part('d', 0), part('d', 1), part('d', 2)])
  assert.equal(cache.get(a.sessionId), undefined)
  assert.ok(cache.get(b.sessionId))
  // Once the least recently used one is stale, any newcomer may take its slot.
  now = 2000
  const small = open(cache, [part('e', 0)])
  assert.equal(cache.get(b.sessionId), undefined)
  assert.ok(cache.get(big.sessionId) && cache.get(small.sessionId))
  assert.equal(cache.stats.evicted, 2)
  // More partitions than a session may hold: no session for a full fetch, and an incremental one that grows
  // past the bound loses its session (the client starts over).
  const tooMany = cache.begin({
    sessionId: 0,
    sessionEpoch: 0,
    usesTopicIds: false,
    partitions: [part('f', 0), part('f', 1), part('f', 2), part('f', 3)],
    forgotten: [],
  })
  assert.equal(tooMany.kind === 'full' && tooMany.sessionId, 0)
  const grown = cache.begin({
    sessionId: small.sessionId,
    sessionEpoch: 1,
    usesTopicIds: false,
    partitions: [part('g', 0), part('g', 1), part('g', 2)],
    forgotten: [],
  })
  assert.deepEqual(grown, { kind: 'error', errorCode: 70 })
})

test('sessions by topic id key partitions by id', () => {
  const cache = new FetchSessionCache()
  const id = Buffer.alloc(16, 7)
  const plan = cache.begin({
    sessionId: 0,
    sessionEpoch: 0,
    usesTopicIds: true,
    partitions: [{ topicId: id, partition: 0, fetchOffset: 0, partitionMaxBytes: 1 }],
    forgotten: [],
  })
  if (plan.kind === 'error') throw new Error('unreachable')
  const next = cache.begin({
    sessionId: plan.sessionId,
    sessionEpoch: 1,
    usesTopicIds: true,
    partitions: [],
    forgotten: [{ topicId: Buffer.from(id), partition: 0 }],
  })
  if (next.kind === 'error') throw new Error('unreachable')
  assert.equal(next.partitions.length, 0)
})
