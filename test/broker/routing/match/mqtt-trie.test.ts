import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  amqpPatternToMqttFilter,
  amqpRoutingKeyToMqttTopic,
  mqttFilterToAmqpPattern,
  mqttTopicToAmqpRoutingKey,
  parseSharedSubscription,
  validateTopicFilter,
  validateTopicName,
} from '../../../../src/broker/routing/match/mqtt-topic.ts'
import { MqttTrie } from '../../../../src/broker/routing/match/mqtt-trie.ts'
import { TopicIndex } from '../../../../src/broker/routing/match/topic-index.ts'
import { isWharfError } from '../../../../src/util/errors.ts'

const runs = process.env.WHARF_LONG === '1' ? 3_000 : 300

/** Independent reference matcher over split levels, with the '$' rule [MQTT-4.7.2-1]. */
function referenceMatch(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

function matches(trie: MqttTrie<string>, topic: string): string[] {
  return [...trie.matchSet(topic)].sort()
}

test('MqttTrie follows the MQTT specification examples (§4.7)', () => {
  const cases: [string, string, boolean][] = [
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/#', 'sport', true],
    ['#', 'sport/tennis', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['#', '$SYS/monitor/Clients', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/monitor/Clients', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
    ['$SYS/#', '$SYS', true],
    ['ACCOUNTS', 'Accounts', false],
    ['a//b', 'a//b', true],
    ['a/+/b', 'a//b', true],
    ['+/$x', 'a/$x', true],
  ]
  for (const [filter, topic, expected] of cases) {
    const trie = new MqttTrie<string>()
    trie.add(filter, 's')
    assert.deepEqual(matches(trie, topic), expected ? ['s'] : [], `${filter} vs ${topic}`)
    assert.equal(referenceMatch(filter, topic), expected, `reference ${filter} vs ${topic}`)
  }
})

test('MqttTrie reports each (target, filter) pair and dedupes in matchSet', () => {
  const trie = new MqttTrie<string>()
  trie.add('a/+', 'c1')
  trie.add('a/#', 'c1')
  trie.add('a/b', 'c2')
  assert.equal(trie.add('a/b', 'c2'), false)
  assert.equal(trie.size, 3)
  const seen: string[] = []
  trie.match('a/b', (target, filter) => seen.push(`${target} ${filter}`))
  assert.deepEqual(seen.sort(), ['c1 a/#', 'c1 a/+', 'c2 a/b'])
  assert.deepEqual(matches(trie, 'a/b'), ['c1', 'c2'])
  assert.equal(trie.remove('a/+', 'c1'), true)
  assert.equal(trie.remove('a/+', 'c1'), false)
  seen.length = 0
  trie.match('a/b', (target, filter) => seen.push(`${target} ${filter}`))
  assert.deepEqual(seen.sort(), ['c1 a/#', 'c2 a/b'])
})

test('MqttTrie.add rejects invalid filters and overly deep ones', () => {
  const trie = new MqttTrie<number>({ levelsMax: 4 })
  for (const bad of ['', 'a/#/b', 'a#', 'a/b+', '+a', 'a\u0000b']) {
    assert.throws(
      () => trie.add(bad, 1),
      (e: unknown) => isWharfError(e, 'INVALID_ARGUMENT'),
      bad,
    )
  }
  assert.throws(
    () => trie.add('a/b/c/d/e', 1),
    (e: unknown) => isWharfError(e, 'LIMIT_EXCEEDED'),
  )
  assert.equal(trie.size, 0)
})

test('validateTopicName and validateTopicFilter', () => {
  assert.equal(validateTopicName('sport/tennis'), null)
  assert.equal(validateTopicName('/'), null)
  assert.equal(validateTopicName('$SYS/x'), null)
  assert.match(validateTopicName('') ?? '', /empty/)
  assert.match(validateTopicName('a/+') ?? '', /wildcard/)
  assert.match(validateTopicName('a/#') ?? '', /wildcard/)
  assert.match(validateTopicName('a\u0000') ?? '', /U\+0000/)
  assert.match(validateTopicName('a\ud800b') ?? '', /surrogate/)
  assert.equal(validateTopicName('a\ud83d\ude00'), null, 'a surrogate pair is fine')
  assert.equal(validateTopicName('x'.repeat(65535)), null)
  assert.match(validateTopicName('x'.repeat(65536)) ?? '', /65535/)
  assert.match(validateTopicName('é'.repeat(32768)) ?? '', /65535/, 'limit counts UTF-8 bytes')
  assert.equal(validateTopicName('é'.repeat(32767)), null)

  for (const good of [
    '#',
    '+',
    'sport/#',
    'sport/tennis/#',
    '+/tennis/#',
    'sport/+/player1',
    '+/+',
    '/+',
    'a//b',
    '$SYS/#',
  ]) {
    assert.equal(validateTopicFilter(good), null, good)
  }
  for (const bad of ['', 'sport/tennis#', 'sport/tennis/#/ranking', 'sport+', '#/', '##', '++', 'a/+b', 'a\u0000']) {
    assert.notEqual(validateTopicFilter(bad), null, bad)
  }
})

test('validateTopicFilter agrees with a level-wise reference over random strings', () => {
  const reference = (filter: string): boolean => {
    if (filter === '') return false
    const levels = filter.split('/')
    return levels.every((level, i) =>
      level === '#' ? i === levels.length - 1 : level === '+' || (!level.includes('+') && !level.includes('#')),
    )
  }
  fc.assert(
    fc.property(fc.array(fc.constantFrom('a', '/', '+', '#', '$'), { maxLength: 8 }), (chars) => {
      const filter = chars.join('')
      assert.equal(validateTopicFilter(filter) === null, reference(filter), filter)
      assert.equal(validateTopicName(filter) === null, filter !== '' && !filter.includes('+') && !filter.includes('#'))
    }),
    { numRuns: runs },
  )
})

test('parseSharedSubscription', () => {
  assert.deepEqual(parseSharedSubscription('$share/g1/sport/#'), { group: 'g1', filter: 'sport/#' })
  assert.deepEqual(parseSharedSubscription('$share/g/+'), { group: 'g', filter: '+' })
  assert.deepEqual(parseSharedSubscription('$share/g//a'), { group: 'g', filter: '/a' })
  assert.equal(parseSharedSubscription('sport/#'), null)
  assert.equal(parseSharedSubscription('$SHARE/g/a'), null, 'the prefix is case-sensitive')
  assert.equal(parseSharedSubscription('$share'), null)
  for (const bad of ['$share/g', '$share//a', '$share/g+/a', '$share/#/a', '$share/g/', '$share/g/a#']) {
    assert.throws(
      () => parseSharedSubscription(bad),
      (e: unknown) => isWharfError(e, 'INVALID_ARGUMENT'),
      bad,
    )
  }
})

test('MQTT ↔ AMQP topic mapping follows the RabbitMQ MQTT plugin', () => {
  assert.equal(mqttTopicToAmqpRoutingKey('a/b/c'), 'a.b.c')
  assert.equal(amqpRoutingKeyToMqttTopic('a.b.c'), 'a/b/c')
  assert.equal(mqttTopicToAmqpRoutingKey('/a//b/'), '.a..b.')
  assert.equal(mqttFilterToAmqpPattern('+/b/#'), '*.b.#')
  assert.equal(amqpPatternToMqttFilter('*.b.#'), '+/b/#')
  // A routed topic matches the mapped filter on both sides: bind through AMQP, publish through MQTT.
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('a', 'b', '', '+'), { maxLength: 4 }),
      fc.boolean(),
      fc.array(fc.constantFrom('a', 'b', ''), { minLength: 1, maxLength: 5 }),
      (levels, hash, topicLevels) => {
        const filter = [...levels, ...(hash ? ['#'] : [])].join('/')
        const topic = topicLevels.join('/')
        if (filter === '' || topic === '') return
        const trie = new MqttTrie<number>()
        trie.add(filter, 1)
        const index = new TopicIndex<number>()
        index.add(mqttFilterToAmqpPattern(filter), 1)
        // Same verdict on both sides (topics here contain no '.' and no leading '$', where the mapping is exact).
        assert.equal(
          index.match(mqttTopicToAmqpRoutingKey(topic)).size === 1,
          trie.matchSet(topic).size === 1,
          `${filter} ${topic}`,
        )
      },
    ),
    { numRuns: runs },
  )
})

const filterArb = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '', '$x', '+'), { minLength: 0, maxLength: 4 }), fc.boolean())
  .map(([levels, hash]) => [...levels, ...(hash ? ['#'] : [])].join('/'))
  .filter((f) => f !== '')
const topicArb = fc.array(fc.constantFrom('a', 'b', '', '$x'), { minLength: 1, maxLength: 5 }).map((ls) => ls.join('/'))

test('MqttTrie agrees with the reference over random subscribe/unsubscribe/publish sequences', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), filter: filterArb, target: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant('remove' as const), filter: filterArb, target: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant('match' as const), topic: topicArb }),
  )
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const trie = new MqttTrie<number>()
      const model = new Map<string, { filter: string; target: number }>()
      for (const o of ops) {
        if (o.kind === 'match') {
          const expected: string[] = []
          for (const s of model.values())
            if (referenceMatch(s.filter, o.topic)) expected.push(`${s.target} ${s.filter}`)
          const seen: string[] = []
          trie.match(o.topic, (target, filter) => seen.push(`${target} ${filter}`))
          assert.deepEqual(seen.sort(), expected.sort(), `topic '${o.topic}'`)
          continue
        }
        const id = `${o.filter}\u0000${o.target}`
        if (o.kind === 'add') {
          assert.equal(trie.add(o.filter, o.target), !model.has(id))
          model.set(id, { filter: o.filter, target: o.target })
        } else assert.equal(trie.remove(o.filter, o.target), model.delete(id))
        assert.equal(trie.size, model.size)
      }
    }),
    { numRuns: runs },
  )
})
