// Property test: route() against a reachability model. The model ignores visiting order: the exchanges
// a publish reaches are the closure of the start under "matched exchange bindings, or the alternate
// exchange when nothing matched", and the result is the set of leaf bindings matched by those.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { type BindingDef, type ExchangeType, Router } from '../../../src/broker/routing/router.ts'
import { referenceTopicMatch } from './topic-reference.ts'

const runs = process.env.WHARF_LONG === '1' ? 2_000 : 150

const exchangeNames = ['e0', 'e1', 'e2', 'e3', 'e4']
const word = fc.constantFrom('a', 'b')
const keyArb = fc.array(word, { maxLength: 3 }).map((w) => w.join('.'))
const patternArb = fc.array(fc.constantFrom('a', 'b', '*', '#'), { maxLength: 3 }).map((w) => w.join('.'))

interface Model {
  types: Map<string, ExchangeType>
  alternates: Map<string, string>
  bindings: BindingDef[]
}

function modelRoute(model: Model, start: string, key: string): string[] {
  const reached = new Set([start])
  const pending = [start]
  const leaves = new Set<string>()
  for (let x = pending.pop(); x !== undefined; x = pending.pop()) {
    const type = model.types.get(x)
    let matchedAny = false
    for (const b of model.bindings) {
      if (b.source !== x) continue
      const hit = type === 'fanout' || (type === 'direct' ? b.key === key : referenceTopicMatch(b.key, key))
      if (!hit) continue
      matchedAny = true
      const d = b.destination
      if (d.kind === 'exchange') {
        if (!reached.has(d.name)) {
          reached.add(d.name)
          pending.push(d.name)
        }
      } else if (d.kind !== 'sink') leaves.add(d.name)
    }
    const alternate = model.alternates.get(x)
    if (!matchedAny && alternate !== undefined && !reached.has(alternate)) {
      reached.add(alternate)
      pending.push(alternate)
    }
  }
  return [...leaves].sort()
}

const scenario = fc.record({
  types: fc.array(fc.constantFrom<ExchangeType>('direct', 'fanout', 'topic'), {
    minLength: exchangeNames.length,
    maxLength: exchangeNames.length,
  }),
  alternates: fc.array(fc.option(fc.constantFrom(...exchangeNames), { nil: undefined }), {
    minLength: exchangeNames.length,
    maxLength: exchangeNames.length,
  }),
  bindings: fc.array(
    fc.record({
      source: fc.constantFrom(...exchangeNames),
      toExchange: fc.boolean(),
      target: fc.integer({ min: 0, max: exchangeNames.length - 1 }),
      pattern: patternArb,
    }),
    { maxLength: 14 },
  ),
  removals: fc.array(fc.nat(), { maxLength: 5 }),
  keys: fc.array(keyArb, { minLength: 1, maxLength: 4 }),
})

test('route() equals the reachability model under bind/unbind churn', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const router = new Router()
      const model: Model = { types: new Map(), alternates: new Map(), bindings: [] }
      for (let i = 0; i < exchangeNames.length; i++) {
        const name = exchangeNames[i]!
        const type = s.types[i]!
        const alternate = s.alternates[i]
        await router.declareExchange({ name, type, alternateExchange: alternate })
        model.types.set(name, type)
        if (alternate !== undefined) model.alternates.set(name, alternate)
      }
      for (const b of s.bindings) {
        const type = model.types.get(b.source)
        const key = type === 'topic' ? b.pattern : b.pattern.replaceAll('*', 'a').replaceAll('#', 'b')
        const destination = b.toExchange
          ? { kind: 'exchange' as const, name: exchangeNames[b.target]! }
          : { kind: 'queue' as const, name: `q${b.target}` }
        const def: BindingDef = { source: b.source, destination, key, arguments: {} }
        await router.bind(def)
        const duplicate = model.bindings.some(
          (m) =>
            m.source === def.source &&
            m.key === def.key &&
            m.destination.kind === destination.kind &&
            (m.destination as { name: string }).name === destination.name,
        )
        if (!duplicate) model.bindings.push(def)
      }
      for (const r of s.removals) {
        if (model.bindings.length === 0) break
        const [removed] = model.bindings.splice(r % model.bindings.length, 1)
        assert.equal(await router.unbind(removed!), true)
      }
      assert.equal(router.listBindings().length, model.bindings.length)
      for (const start of exchangeNames) {
        for (const key of s.keys) {
          const result = router.route(start, key)
          const got = result.destinations.map((d) => (d as { name: string }).name)
          assert.equal(new Set(got).size, got.length, 'deduplicated')
          const expected = modelRoute(model, start, key)
          assert.deepEqual([...got].sort(), expected, `${start} ${JSON.stringify(key)}`)
          assert.equal(result.unroutable, expected.length === 0)
        }
      }
    }),
    { numRuns: runs },
  )
})
