// The linear-time pattern engine of JSON Schema validation: ECMAScript patterns rewritten for RE2 must
// accept exactly the strings the native engine accepts (on patterns both can run), and the patterns that
// backtrack exponentially natively answer at once.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { linearRegExp, toRe2 } from '../../../src/broker/schema/regexp.ts'

const runs = process.env.WHARF_LONG === '1' ? 20_000 : 1_000

const atom = fc.constantFrom(
  'a',
  'b',
  '.',
  '\\s',
  '\\S',
  '\\d',
  '\\w',
  '\\W',
  '[ab]',
  '[^a]',
  '[\\s1]',
  '\\u0061',
  '\\u{62}',
  '\\x20',
  '\\cJ',
  '[^]',
  '\\.',
  '\\-',
)
const quantifier = fc.constantFrom('', '', '*', '+', '?', '{1,2}', '{2}', '*?')
const piece = fc.tuple(atom, quantifier).map(([a, q]) => a + q)
const sequence = fc.array(piece, { minLength: 1, maxLength: 4 }).map((ps) => ps.join(''))
const group = fc
  .tuple(fc.constantFrom('(', '(?:'), fc.array(sequence, { minLength: 1, maxLength: 3 }), quantifier)
  .map(([open, alts, q]) => `${open}${alts.join('|')})${q}`)
const pattern = fc
  .tuple(
    fc.constantFrom('', '^'),
    fc.array(fc.oneof(piece, group), { minLength: 1, maxLength: 4 }),
    fc.constantFrom('', '$'),
  )
  .map(([start, parts, end]) => start + parts.join('') + end)
const input = fc
  .array(fc.constantFrom('a', 'b', ' ', '\n', '\r', '\u00a0', '\u2028', '1', '_', '.', '-', '\t', 'é'), {
    maxLength: 8,
  })
  .map((cs) => cs.join(''))

test('RE2 through toRe2 agrees with the native engine on random ECMAScript patterns', () => {
  fc.assert(
    fc.property(pattern, fc.array(input, { maxLength: 6 }), (p, inputs) => {
      let native: RegExp
      try {
        native = new RegExp(p, 'u')
      } catch {
        return // not a pattern ajv would accept either (e.g. \- outside a class under the u flag)
      }
      const linear = linearRegExp(p, 'u')
      for (const s of inputs)
        assert.equal(linear.test(s), native.test(s), `pattern ${p} (RE2 ${toRe2(p)}) on ${JSON.stringify(s)}`)
    }),
    { numRuns: runs },
  )
})

test('exponentially backtracking patterns answer at once; lookaround and backreferences are refused', () => {
  const evil = `${'a'.repeat(5000)}!`
  for (const p of ['^(a+)+$', '^(a|a)*$', '^(a|aa)+$', '(\\w+\\s?)+$', '^(a*)*b$'])
    assert.equal(linearRegExp(p, 'u').test(evil), false, p)
  assert.equal(linearRegExp('^(a+)+$', 'u').test('aaaa'), true)
  for (const p of ['(?=a)', '(?!a)b', '(?<=a)b', '(a)\\1', '(?<x>a)\\k<x>'])
    assert.throws(() => linearRegExp(p, 'u'), p)
})
