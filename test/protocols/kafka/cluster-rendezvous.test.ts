// The coordinator choice of cluster.ts (rendezvous hashing) as pure logic: the same answer whatever the order
// of the member list, an even spread, and only the keys of a member that leaves move.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rendezvous } from '../../../src/protocols/kafka/cluster.ts'

const keys = Array.from({ length: 3000 }, (_, i) => `group-${i}`)

test('rendezvous: order-independent, spread evenly, and a departure moves only the departed member keys', () => {
  assert.equal(rendezvous('g', []), undefined)
  const before = new Map(keys.map((k) => [k, rendezvous(k, [1, 2, 3])!]))
  for (const k of keys.slice(0, 200)) assert.equal(rendezvous(k, [3, 1, 2]), before.get(k))
  const counts = [1, 2, 3].map((id) => [...before.values()].filter((v) => v === id).length)
  for (const n of counts) assert.ok(n > 800 && n < 1200, `spread ${counts}`)
  for (const k of keys) {
    const after = rendezvous(k, [1, 3])!
    if (before.get(k) === 2) assert.notEqual(after, 2)
    else assert.equal(after, before.get(k), `${k} stayed where it was`)
  }
})
