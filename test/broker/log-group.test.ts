// Broker-assigned log groups: partitions shared among members, pushed from committed offsets with a
// prefetch bound, rebalanced on join/leave, acks commit offsets that a later member resumes from.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { StoredMessage } from '../../src/broker/message.ts'
import { openBroker, sleep, until } from './helpers.ts'

test('members split partitions (range), resume from committed offsets and rebalance on leave', async (t) => {
  const broker = await openBroker(t)
  await broker.createStream('ev', { partitions: 4 })
  for (let p = 0; p < 4; p++) await broker.produce('ev', [{ value: `p${p}-a` }, { value: `p${p}-b` }], { partition: p })
  const a: StoredMessage[] = []
  const b: StoredMessage[] = []
  const assigned: Record<string, number[]> = {}
  const ma = broker.subscribeLog('ev', 'g', {
    onMessages: (ms) => a.push(...ms),
    onAssign: (ps) => {
      assigned.a = ps
    },
  })
  const mb = broker.subscribeLog('ev', 'g', {
    onMessages: (ms) => b.push(...ms),
    onAssign: (ps) => {
      assigned.b = ps
    },
  })
  await until(() => a.length + b.length >= 8, 2000, 'all 8 delivered')
  assert.deepEqual(
    [assigned.a, assigned.b],
    [
      [0, 1],
      [2, 3],
    ],
  )
  assert.ok(a.every((m) => m.partition < 2) && b.every((m) => m.partition >= 2))
  // a acks everything; b acks only the first message of each of its partitions, then leaves.
  await Promise.all(a.map((m) => ma.ack(m)))
  await Promise.all(b.filter((m) => m.value!.toString().endsWith('-a')).map((m) => mb.ack(m)))
  a.length = 0
  mb.leave()
  await until(() => a.length === 2, 2000, 'a takes over partitions 2 and 3 from their committed offsets')
  assert.deepEqual(a.map((m) => m.value!.toString()).sort(), ['p2-b', 'p3-b'])
  // New appends are pushed without polling.
  await broker.produce('ev', [{ value: 'late' }], { partition: 1 })
  await until(() => a.some((m) => m.value!.toString() === 'late'), 2000, 'tail delivery')
  ma.leave()
})

test('prefetch bounds undelivered credit per member', async (t) => {
  const broker = await openBroker(t)
  await broker.createStream('big')
  await broker.produce(
    'big',
    Array.from({ length: 50 }, (_, i) => ({ value: `m${i}` })),
  )
  const got: StoredMessage[] = []
  const m = broker.subscribeLog('big', 'g', { prefetch: 10, onMessages: (ms) => got.push(...ms) })
  await sleep(50)
  assert.equal(got.length, 10)
  await m.ack(got[0]!)
  await until(() => got.length === 11, 1000, 'one more after one ack')
  assert.equal(broker.committedOffset('g', 'big', 0)?.offset, 1)
  m.leave()
})
