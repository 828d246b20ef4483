// The bounded group → consumer map on its own: pins, first-for-consumer, close, release, and LRU eviction that
// spares pins with messages in flight.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { closesGroup, jmsGroupOf, MessageGroups } from '../../src/broker/queue/groups.ts'

const header = (key: string, value: string) => ({ key, value: Buffer.from(value) })

test('pins, first delivery, close and release', () => {
  const groups = new MessageGroups(10)
  const a = {}
  const b = {}
  assert.equal(groups.deliver('g', a, true).first, true)
  assert.equal(groups.deliver('g', a, true).first, false)
  assert.equal(groups.ownerOf('g'), a)
  groups.deliver('h', b, true)
  groups.close('g')
  assert.equal(groups.ownerOf('g'), undefined)
  groups.deliver('k', b, false)
  assert.deepEqual([...groups.counts().values()], [2])
  groups.release(b)
  assert.equal(groups.size, 0)
})

test('beyond the bound the least recently used idle pins go; busy ones stay', () => {
  const groups = new MessageGroups(2)
  const c = {}
  const busy = groups.deliver('busy', c, true).pin // stays in flight
  const idle = groups.deliver('idle', c, true).pin
  groups.settled(idle)
  const recent = groups.deliver('recent', c, true).pin
  groups.settled(recent)
  // Three pins over a bound of two: 'idle' (least recently used with nothing in flight) went, 'busy' stayed.
  assert.equal(groups.ownerOf('busy'), c)
  assert.equal(groups.ownerOf('idle'), undefined)
  assert.equal(groups.ownerOf('recent'), c)
  // Touching 'busy' makes 'recent' the oldest; a fourth evicts it.
  groups.deliver('busy', c, true)
  groups.deliver('fourth', c, false)
  assert.equal(groups.ownerOf('recent'), undefined)
  assert.equal(groups.size, 2)
  assert.equal(busy.inflight, 2)
  // Nothing idle to evict: the map holds the busy pins beyond the bound (credit bounds them).
  groups.deliver('busy2', c, true)
  groups.deliver('busy3', c, true)
  assert.ok(groups.size >= 3)
})

test('header helpers: JMSXGroupID and JMSXGroupSeq -1', () => {
  assert.equal(jmsGroupOf([header('x', '1'), header('JMSXGroupID', 'orders')]), 'orders')
  assert.equal(jmsGroupOf([header('x', '1')]), undefined)
  assert.equal(closesGroup([header('JMSXGroupSeq', '-1')]), true)
  assert.equal(closesGroup([header('JMSXGroupSeq', '3')]), false)
  assert.equal(closesGroup([]), false)
})
