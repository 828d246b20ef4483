import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { WordTable } from '../../../../src/broker/routing/match/word-table.ts'

const runs = process.env.WHARF_LONG === '1' ? 2_000 : 200

test('WordTable looks words up by range without slicing', () => {
  const table = new WordTable<number>()
  table.set('b', 1)
  table.set('', 2)
  table.set('ab', 3)
  assert.equal(table.lookup('a.b.c', 2, 3), 1)
  assert.equal(table.lookup('a..c', 2, 2), 2)
  assert.equal(table.lookup('xab.', 1, 3), 3)
  assert.equal(table.lookup('abc', 0, 3), undefined)
  assert.equal(table.get('ab'), 3)
  assert.equal(table.size, 3)
})

test('WordTable behaves like a Map under random set/delete (growth and backward-shift deletion)', () => {
  // A small alphabet of short words forces collisions and long clusters.
  const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 3 })
  const op = fc.tuple(fc.boolean(), word, fc.integer())
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      const table = new WordTable<number>()
      const model = new Map<string, number>()
      for (const [set, w, value] of ops) {
        if (set) {
          table.set(w, value)
          model.set(w, value)
        } else assert.equal(table.delete(w), model.delete(w))
        assert.equal(table.size, model.size)
      }
      for (const [w, value] of model) assert.equal(table.lookup(`.${w}.`, 1, 1 + w.length), value)
      assert.deepEqual([...table.values()].sort(), [...model.values()].sort())
      for (const w of ['a', 'b', 'c', 'ab', 'abc', 'cba', '']) assert.equal(table.get(w), model.get(w))
    }),
    { numRuns: runs },
  )
})
