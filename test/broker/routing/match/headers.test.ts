import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { amqpValueEquals, headersMatchMode, matchHeaders } from '../../../../src/broker/routing/match/headers.ts'

const runs = process.env.WHARF_LONG === '1' ? 5_000 : 500

test('x-match all (default) needs every non-x- argument, by value', () => {
  const binding = { format: 'pdf', type: 'report' }
  assert.equal(matchHeaders(binding, { format: 'pdf', type: 'report', extra: 1 }), true)
  assert.equal(matchHeaders(binding, { format: 'pdf' }), false)
  assert.equal(matchHeaders(binding, { format: 'pdf', type: 'log' }), false)
  assert.equal(matchHeaders(binding, undefined), false)
  assert.equal(matchHeaders({ ...binding, 'x-match': 'all' }, { format: 'pdf', type: 'report' }), true)
  assert.equal(matchHeaders({ 'x-match': 'all' }, undefined), true, 'empty all-binding matches everything')
  assert.equal(matchHeaders({}, { a: 1 }), true)
})

test('x-match any needs one matching argument', () => {
  const binding = { 'x-match': 'any', format: 'pdf', type: 'report' }
  assert.equal(matchHeaders(binding, { format: 'pdf' }), true)
  assert.equal(matchHeaders(binding, { type: 'report', format: 'zip' }), true)
  assert.equal(matchHeaders(binding, { format: 'zip' }), false)
  assert.equal(matchHeaders(binding, undefined), false)
  assert.equal(matchHeaders({ 'x-match': 'any' }, { a: 1 }), false, 'empty any-binding matches nothing')
})

test('x- arguments are ignored unless the mode is -with-x', () => {
  assert.equal(matchHeaders({ 'x-tenant': 'a', kind: 1 }, { kind: 1 }), true)
  assert.equal(matchHeaders({ 'x-match': 'all-with-x', 'x-tenant': 'a', kind: 1 }, { kind: 1 }), false)
  assert.equal(matchHeaders({ 'x-match': 'all-with-x', 'x-tenant': 'a', kind: 1 }, { kind: 1, 'x-tenant': 'a' }), true)
  assert.equal(matchHeaders({ 'x-match': 'any', 'x-tenant': 'a' }, { 'x-tenant': 'a' }), false)
  assert.equal(matchHeaders({ 'x-match': 'any-with-x', 'x-tenant': 'a' }, { 'x-tenant': 'a' }), true)
  // x-match is never a pattern entry, even with -with-x.
  assert.equal(matchHeaders({ 'x-match': 'all-with-x' }, {}), true)
})

test('void binding values test presence only', () => {
  assert.equal(matchHeaders({ trace: null }, { trace: 'anything' }), true)
  assert.equal(matchHeaders({ trace: undefined }, { trace: 0 }), true)
  assert.equal(matchHeaders({ trace: null }, { other: 1 }), false)
  assert.equal(matchHeaders({ trace: null }, { trace: null }), true, 'a void header is present')
  assert.equal(matchHeaders({ trace: 1 }, { trace: null }), false)
})

test('values compare by value across AMQP integer widths and types', () => {
  assert.equal(matchHeaders({ n: 1 }, { n: 1n }), true)
  assert.equal(matchHeaders({ n: 2n ** 60n }, { n: 2n ** 60n }), true)
  assert.equal(matchHeaders({ n: 1 }, { n: '1' }), false)
  assert.equal(matchHeaders({ b: Buffer.from('ab') }, { b: Buffer.from('ab') }), true)
  assert.equal(matchHeaders({ b: Buffer.from('ab') }, { b: 'ab' }), false)
  assert.equal(matchHeaders({ l: [1, 'a'] }, { l: [1n, 'a'] }), true)
  assert.equal(matchHeaders({ t: { a: 1 } }, { t: { a: 1 } }), true)
  assert.equal(matchHeaders({ t: { a: 1 } }, { t: { a: 1, b: 2 } }), false)
  assert.equal(matchHeaders({ d: new Date(5) }, { d: new Date(5) }), true)
  assert.equal(amqpValueEquals(true, 1), false)
  assert.equal(amqpValueEquals(Number.NaN, Number.NaN), false, 'NaN is never equal, as in Erlang floats')
})

test('headersMatchMode accepts bytes and falls back to all', () => {
  assert.equal(headersMatchMode({ 'x-match': Buffer.from('any') }), 'any')
  assert.equal(headersMatchMode({ 'x-match': 'bogus' }), 'all')
  assert.equal(headersMatchMode({}), 'all')
})

test('matchHeaders agrees with a set-based reference', () => {
  const key = fc.constantFrom('a', 'b', 'c', 'x-a', 'x-b')
  const value = fc.constantFrom<unknown>(1, 2, 1n, 'v', null)
  const mode = fc.constantFrom(undefined, 'all', 'any', 'all-with-x', 'any-with-x')
  fc.assert(
    fc.property(
      mode,
      fc.dictionary(key, value),
      fc.option(fc.dictionary(key, value), { nil: undefined }),
      (m, args, headers) => {
        const binding = m === undefined ? { ...args } : { ...args, 'x-match': m }
        const withX = m === 'all-with-x' || m === 'any-with-x'
        const entries = Object.entries(args).filter(([k]) => withX || !k.startsWith('x-'))
        const equal = (v: unknown, h: unknown): boolean => {
          if (v === null) return true // void: presence only
          if (h === null || typeof v === 'string' || typeof h === 'string') return v === h
          return Number(v) === Number(h) // 1, 2, 1n: by numeric value
        }
        const ok = entries.map(([k, v]) => headers !== undefined && k in headers && equal(v, headers[k]))
        const expected = m === 'any' || m === 'any-with-x' ? ok.some(Boolean) : ok.every(Boolean)
        assert.equal(matchHeaders(binding, headers), expected)
      },
    ),
    { numRuns: runs },
  )
})
