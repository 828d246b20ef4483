import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { DirectIndex } from '../../../../src/broker/routing/match/direct-index.ts'
import { TopicIndex } from '../../../../src/broker/routing/match/topic-index.ts'
import { isWharfError } from '../../../../src/util/errors.ts'
import { referenceTopicMatch } from '../topic-reference.ts'

const runs = process.env.WHARF_LONG === '1' ? 3_000 : 300

// RabbitMQ's topic matching test table (rabbit test suite "topic_matching").
const bindings: [string, string][] = [
  ['a.b.c', 't1'],
  ['a.*.c', 't2'],
  ['a.#.b', 't3'],
  ['a.b.b.c', 't4'],
  ['#', 't5'],
  ['#.#', 't6'],
  ['#.b', 't7'],
  ['*.*', 't8'],
  ['a.*', 't9'],
  ['*.b.c', 't10'],
  ['a.#', 't11'],
  ['a.#.#', 't12'],
  ['b.b.c', 't13'],
  ['a.b.b', 't14'],
  ['a.b', 't15'],
  ['b.c', 't16'],
  ['', 't17'],
  ['*.*.*', 't18'],
  ['vodka.martini', 't19'],
  ['a.b.c', 't20'],
  ['*.#', 't21'],
  ['#.*.#', 't22'],
  ['*.#.#', 't23'],
  ['#.#.#', 't24'],
  ['*', 't25'],
  ['#.b.#', 't26'],
]
const expectations: [string, string[]][] = [
  ['a.b.c', ['t1', 't2', 't5', 't6', 't10', 't11', 't12', 't18', 't20', 't21', 't22', 't23', 't24', 't26']],
  ['a.b', ['t3', 't5', 't6', 't7', 't8', 't9', 't11', 't12', 't15', 't21', 't22', 't23', 't24', 't26']],
  ['a.b.b', ['t3', 't5', 't6', 't7', 't11', 't12', 't14', 't18', 't21', 't22', 't23', 't24', 't26']],
  ['', ['t5', 't6', 't17', 't24']],
  ['b.c.c', ['t5', 't6', 't18', 't21', 't22', 't23', 't24', 't26']],
  ['a.a.a.a.a', ['t5', 't6', 't11', 't12', 't21', 't22', 't23', 't24']],
  ['vodka.gin', ['t5', 't6', 't8', 't21', 't22', 't23', 't24']],
  ['vodka.martini', ['t5', 't6', 't8', 't19', 't21', 't22', 't23', 't24']],
  ['b.b.c', ['t5', 't6', 't10', 't13', 't18', 't21', 't22', 't23', 't24', 't26']],
  ['nothing.here.at.all', ['t5', 't6', 't21', 't22', 't23', 't24']],
  ['oneword', ['t5', 't6', 't21', 't22', 't23', 't24', 't25']],
]

test('TopicIndex reproduces the RabbitMQ topic matching table', () => {
  const index = new TopicIndex<string>()
  for (const [pattern, target] of bindings) assert.equal(index.add(pattern, target), true)
  assert.equal(index.size, bindings.length)
  for (const [key, expected] of expectations) {
    assert.deepEqual([...index.match(key)].sort(), [...expected].sort(), `routing key '${key}'`)
    const reference = bindings.filter(([p]) => referenceTopicMatch(p, key)).map(([, t]) => t)
    assert.deepEqual(reference.sort(), [...expected].sort(), `reference for '${key}'`)
  }
  // Unbinding half of the table leaves exactly the rest.
  for (const [pattern, target] of bindings.slice(0, 13)) assert.equal(index.remove(pattern, target), true)
  const left = new Set(bindings.slice(13).map(([, t]) => t))
  for (const [key, expected] of expectations) {
    assert.deepEqual([...index.match(key)].sort(), expected.filter((t) => left.has(t)).sort(), `after unbind '${key}'`)
  }
})

test('TopicIndex edge cases: empty words, literal wildcard characters, duplicates', () => {
  const index = new TopicIndex<number>()
  assert.equal(index.add('a..b', 1), true)
  assert.equal(index.add('a..b', 1), false, 'same binding twice is one binding')
  assert.equal(index.size, 1)
  assert.deepEqual([...index.match('a..b')], [1])
  assert.deepEqual([...index.match('a.b')], [])
  index.add('a.*.b', 2)
  assert.deepEqual([...index.match('a..b')].sort(), [1, 2], "'*' matches an empty word")
  index.add('a*', 3)
  assert.deepEqual([...index.match('a*')], [3], "'a*' is a literal word")
  assert.deepEqual([...index.match('ab')], [])
  index.add('.', 4)
  assert.deepEqual([...index.match('.')], [4])
  assert.deepEqual([...index.match('')], [])
  index.add('a.#', 5)
  assert.deepEqual([...index.match('a')], [5], "'a.#' matches 'a'")
  assert.deepEqual([...index.match('a.')].sort(), [5], "'a.' is a then an empty word")
  assert.equal(index.remove('a.#', 6), false)
  assert.equal(index.remove('x.y', 5), false)
  const out = new Set([99])
  assert.equal(index.match('a', out), out, 'match fills and returns the given set')
  assert.deepEqual([...out].sort(), [5, 99])
})

test('TopicIndex rejects patterns deeper than levelsMax', () => {
  const index = new TopicIndex<number>({ levelsMax: 3 })
  assert.equal(index.add('a.b.c', 1), true)
  assert.throws(
    () => index.add('a.b.c.d', 1),
    (e: unknown) => isWharfError(e, 'LIMIT_EXCEEDED'),
  )
  // A long routing key is fine: recursion depth follows the trie, not the key.
  assert.deepEqual([...index.match(Array(5000).fill('a').join('.'))], [])
})

const word = fc.constantFrom('a', 'b', 'c', '')
const patternWord = fc.constantFrom('a', 'b', '', '*', '#')
const key = fc.array(word, { maxLength: 6 }).map((ws) => ws.join('.'))
const pattern = fc.array(patternWord, { maxLength: 5 }).map((ws) => ws.join('.'))

test('TopicIndex agrees with the reference over random add/remove/match sequences', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), pattern, target: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('remove' as const), pattern, target: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('match' as const), key }),
  )
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const index = new TopicIndex<number>()
      const model = new Map<string, { pattern: string; target: number }>()
      for (const o of ops) {
        if (o.kind === 'match') {
          const expected = new Set<number>()
          for (const b of model.values()) if (referenceTopicMatch(b.pattern, o.key)) expected.add(b.target)
          assert.deepEqual([...index.match(o.key)].sort(), [...expected].sort(), `key '${o.key}'`)
          continue
        }
        const id = `${o.pattern}\u0000${o.target}`
        if (o.kind === 'add') {
          assert.equal(index.add(o.pattern, o.target), !model.has(id))
          model.set(id, { pattern: o.pattern, target: o.target })
        } else {
          assert.equal(index.remove(o.pattern, o.target), model.delete(id))
        }
        assert.equal(index.size, model.size)
      }
    }),
    { numRuns: runs },
  )
})

test('TopicIndex matches every key against a full random binding set like the reference', () => {
  fc.assert(
    fc.property(fc.uniqueArray(pattern, { maxLength: 30 }), fc.array(key, { maxLength: 20 }), (patterns, keys) => {
      const index = new TopicIndex<string>()
      for (const p of patterns) index.add(p, p)
      for (const k of keys) {
        const expected = patterns.filter((p) => referenceTopicMatch(p, k))
        assert.deepEqual([...index.match(k)].sort(), expected.sort(), `key '${k}'`)
      }
    }),
    { numRuns: runs },
  )
})

/** Trie nodes the patterns make: the root plus one per distinct non-empty word prefix. */
function trieNodes(patterns: readonly string[]): number {
  const prefixes = new Set<string>()
  for (const p of patterns) {
    const ws = p === '' ? [] : p.split('.')
    for (let i = 1; i <= ws.length; i++) prefixes.add(ws.slice(0, i).join('\u0000'))
  }
  return prefixes.size + 1
}

function keyWords(key: string): number {
  return key === '' ? 0 : key.split('.').length
}

test('TopicIndex agrees with the reference on #-dense patterns and longer keys', () => {
  const dense = fc.array(fc.constantFrom('a', 'b', '*', '#', '#', '#'), { maxLength: 8 }).map((ws) => ws.join('.'))
  const longKey = fc.array(fc.constantFrom('a', 'b', ''), { maxLength: 12 }).map((ws) => ws.join('.'))
  fc.assert(
    fc.property(fc.uniqueArray(dense, { maxLength: 12 }), fc.array(longKey, { maxLength: 8 }), (patterns, keys) => {
      const index = new TopicIndex<string>()
      for (const p of patterns) index.add(p, p)
      for (const k of keys) {
        const expected = patterns.filter((p) => referenceTopicMatch(p, k))
        assert.deepEqual([...index.match(k)].sort(), expected.sort(), `key '${k}'`)
      }
    }),
    { numRuns: runs },
  )
})

test('TopicIndex visits each trie node at most once per key word, whatever the # count', () => {
  const dense = fc.array(fc.constantFrom('a', 'b', '*', '#', '#'), { maxLength: 10 }).map((ws) => ws.join('.'))
  const longKey = fc.array(fc.constantFrom('a', 'b', ''), { maxLength: 40 }).map((ws) => ws.join('.'))
  fc.assert(
    fc.property(fc.uniqueArray(dense, { maxLength: 20 }), longKey, (patterns, k) => {
      const index = new TopicIndex<string>()
      for (const p of patterns) index.add(p, p)
      const before = index.steps
      index.match(k)
      assert.ok(index.steps - before <= (keyWords(k) + 1) * trieNodes(patterns), `key '${k}'`)
    }),
    { numRuns: runs },
  )
  // The case: ten '#' over a sixty-word key, which backtracking never finishes.
  const index = new TopicIndex<string>()
  const patterns = [Array(10).fill('#').join('.'), `${Array(9).fill('#').join('.')}.nowhere`]
  for (const p of patterns) index.add(p, p)
  const k = Array.from({ length: 60 }, (_, i) => `w${i}`).join('.')
  assert.deepEqual([...index.match(k)], [patterns[0]])
  assert.ok(index.steps <= 61 * trieNodes(patterns), `${index.steps} steps`)
})

test('TopicIndex prunes: removing everything leaves an index that matches nothing', () => {
  const index = new TopicIndex<number>()
  const patterns = ['a.b', 'a.*', 'a.#', '#', '*.b.#', '']
  for (const [i, p] of patterns.entries()) index.add(p, i)
  for (const [i, p] of patterns.entries()) assert.equal(index.remove(p, i), true)
  assert.equal(index.size, 0)
  for (const k of ['', 'a', 'a.b', 'x.b.c']) assert.deepEqual([...index.match(k)], [])
  // Re-adding after pruning works.
  assert.equal(index.add('a.*', 7), true)
  assert.deepEqual([...index.match('a.z')], [7])
})

test('DirectIndex routes exact keys and agrees with a map model', () => {
  const index = new DirectIndex<string>()
  assert.equal(index.add('orders', 'q1'), true)
  assert.equal(index.add('orders', 'q1'), false)
  assert.equal(index.add('orders', 'q2'), true)
  assert.equal(index.add('', 'q3'), true)
  assert.deepEqual([...index.match('orders')].sort(), ['q1', 'q2'])
  assert.deepEqual([...index.match('')], ['q3'])
  assert.deepEqual([...index.match('orders.eu')], [])
  assert.equal(index.get('orders')?.size, 2)
  assert.equal(index.remove('orders', 'q1'), true)
  assert.equal(index.remove('orders', 'q1'), false)
  assert.equal(index.size, 2)
  assert.equal(index.remove('orders', 'q2'), true)
  assert.equal(index.get('orders'), undefined, 'empty key entries are dropped')

  const op = fc.record({
    add: fc.boolean(),
    key: fc.constantFrom('a', 'b', ''),
    target: fc.integer({ min: 0, max: 3 }),
  })
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const direct = new DirectIndex<number>()
      const model = new Set<string>()
      for (const o of ops) {
        const id = `${o.key}/${o.target}`
        if (o.add) {
          assert.equal(direct.add(o.key, o.target), !model.has(id))
          model.add(id)
        } else assert.equal(direct.remove(o.key, o.target), model.delete(id))
        for (const k of ['a', 'b', '']) {
          const expected = [...model].filter((m) => m.startsWith(`${k}/`)).map((m) => Number(m.slice(k.length + 1)))
          assert.deepEqual([...direct.match(k)].sort(), expected.sort())
        }
        assert.equal(direct.size, model.size)
      }
    }),
    { numRuns: runs },
  )
})
