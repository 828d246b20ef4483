// Selector parser and LIKE matcher under random input (fast-check): random text and damaged selectors only
// ever get a SelectorError, never another exception; a random well-formed tree printed to text parses back to
// the same tree; LIKE agrees with a reference matcher and its work (a step counter, not the clock) stays
// within (value length + 1) × (pattern length + 1). WHARF_LONG=1 runs 200,000 inputs per property instead
// of 500 (WHARF_FUZZ_RUNS overrides both).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { Node } from '../../src/broker/selector/ast.ts'
import { compileSelector, likeSteps, parseSelector, print, SelectorError } from '../../src/broker/selector/index.ts'
import { compileLike } from '../../src/broker/selector/like.ts'

const runs = Number(process.env.WHARF_FUZZ_RUNS) || (process.env.WHARF_LONG === '1' ? 200_000 : 500)

const LONG_MIN = -(2n ** 63n)
const LONG_MAX = 2n ** 63n - 1n

const message = {
  headers: [
    { key: 'a', value: Buffer.from('1') },
    { key: 'b', value: Buffer.from('text') },
    { key: 'wharf.types', value: Buffer.from('{"a":"int"}') },
  ],
  timestamp: 1,
}

const words = [
  'a',
  'b',
  'x',
  'NOT',
  'AND',
  'OR',
  'LIKE',
  'IN',
  'BETWEEN',
  'IS',
  'NULL',
  'TRUE',
  'ESCAPE',
  'JMSPriority',
]
const symbols = ['(', ')', ',', '=', '<>', '<', '<=', '>', '>=', '+', '-', '*', '/', "'", '"', '--', '/*', '*/', '%']
const tokens = fc.oneof(
  fc.constantFrom(...words, ...symbols),
  fc.integer().map(String),
  fc.double({ noNaN: true }).map(String),
  fc.string({ maxLength: 6 }),
)
const tokenText = fc.array(tokens, { maxLength: 30 }).map((t) => t.join(' '))

function onlySelectorErrors(text: string): void {
  try {
    const selector = compileSelector(text, { convertStringExpressions: text.length % 2 === 0 })
    selector?.evaluate(message, { deliveryCount: 1, redelivered: false })
  } catch (error) {
    if (!(error instanceof SelectorError)) throw error
  }
}

test('random text gets a selector or a SelectorError, nothing else', () => {
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200 }), tokenText), onlySelectorErrors), { numRuns: runs })
})

// Well-formed trees: conditions, numeric and string expressions, as the parser's checks allow them.
const identName = fc.oneof(
  fc.constantFrom('a', 'b', 'prio', 'JMSPriority', 'JMSType', '_x$1', 'in', 'Not', 'content-type', 'é'),
  fc.string({ minLength: 1, maxLength: 8 }),
)
const ident = identName.map((name): Node => ({ kind: 'ident', name }))
const exact = fc.bigInt(LONG_MIN, LONG_MAX).map((value): Node => ({ kind: 'literal', value }))
const approx = fc
  .double({ noNaN: true, noDefaultInfinity: true })
  .filter((v) => !Object.is(v, -0))
  .map((value): Node => ({ kind: 'literal', value }))
const stringLiteral = fc.string({ maxLength: 10 }).map((value): Node => ({ kind: 'literal', value }))

const { cond } = fc.letrec<{ cond: Node; num: Node; str: Node }>((tie) => ({
  cond: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.boolean().map((value): Node => ({ kind: 'literal', value })),
    ident,
    fc
      .tuple(fc.constantFrom('and', 'or'), tie('cond'), tie('cond'))
      .map(([kind, left, right]) => ({ kind, left, right }) as Node),
    tie('cond').map((operand): Node => ({ kind: 'not', operand })),
    fc
      .tuple(fc.constantFrom('=', '<>', '<', '<=', '>', '>='), tie('num'), tie('num'))
      .map(([op, left, right]): Node => ({ kind: 'compare', op, left, right })),
    fc
      .tuple(fc.constantFrom('=', '<>'), fc.oneof(tie('str'), tie('cond')), fc.oneof(tie('str'), tie('cond')))
      .map(([op, left, right]): Node => ({ kind: 'compare', op, left, right })),
    fc
      .tuple(
        fc.boolean(),
        tie('str'),
        fc.string({ maxLength: 8 }),
        fc.option(fc.constantFrom('!', '\\', '%', '_', '🐎')),
      )
      .map(([negated, operand, pattern, esc]): Node => ({ kind: 'like', negated, operand, pattern, escape: esc })),
    fc
      .tuple(fc.boolean(), tie('str'), fc.array(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 4 }))
      .map(([negated, operand, values]): Node => ({ kind: 'in', negated, operand, values })),
    fc
      .tuple(fc.boolean(), tie('num'), tie('num'), tie('num'))
      .map(([negated, operand, low, high]): Node => ({ kind: 'between', negated, operand, low, high })),
    fc.tuple(fc.boolean(), fc.oneof(tie('num'), tie('str'))).map(
      ([negated, operand]): Node => ({
        kind: 'isNull',
        negated,
        operand,
      }),
    ),
  ),
  num: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    exact,
    approx,
    ident,
    fc
      .tuple(fc.constantFrom('+', '-', '*', '/'), tie('num'), tie('num'))
      .map(([op, left, right]): Node => ({ kind: 'arith', op, left, right })),
    fc.tuple(fc.constantFrom('neg', 'pos'), tie('num')).map(([kind, operand]) => ({ kind, operand }) as Node),
  ),
  str: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    stringLiteral,
    ident,
    fc.tuple(tie('str'), tie('str')).map(([left, right]): Node => ({ kind: 'arith', op: '+', left, right })),
  ),
}))

test('a printed tree parses back to the same tree', () => {
  fc.assert(
    fc.property(cond, (tree) => {
      const text = print(tree)
      assert.deepStrictEqual(parseSelector(text, { lengthMax: 1_000_000, depthMax: 1000, inListMax: 100 }), tree)
      // And it evaluates without throwing.
      compileSelector(text, { limits: { lengthMax: 1_000_000, depthMax: 1000 } })!.evaluate(message)
    }),
    { numRuns: runs },
  )
})

test('damaged selectors get a SelectorError, nothing else', () => {
  fc.assert(
    fc.property(cond, fc.nat(), fc.nat(), fc.string({ maxLength: 3 }), (tree, at, length, insert) => {
      const text = print(tree)
      const i = at % (text.length + 1)
      onlySelectorErrors(text.slice(0, i) + insert + text.slice(i + (length % 5)))
    }),
    { numRuns: runs },
  )
})

/** Reference LIKE: dynamic programming over (value, pattern items), quadratic and obviously right. */
function referenceLike(value: string, pattern: string, escapeChar: string | null): boolean {
  const items: Array<{ any: boolean; char: string | null }> = []
  const p = [...pattern]
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!
    const next = p[i + 1]
    if (c === escapeChar && next !== undefined && (next === '%' || next === '_' || next === escapeChar)) {
      items.push({ any: false, char: next })
      i++
    } else if (c === '%') items.push({ any: true, char: null })
    else items.push({ any: false, char: c === '_' ? null : c })
  }
  const v = [...value]
  let row = new Array<boolean>(v.length + 1).fill(false)
  row[0] = true
  for (const item of items) {
    const next = new Array<boolean>(v.length + 1).fill(false)
    for (let j = 0; j <= v.length; j++) {
      if (item.any) next[j] = row[j]! || (j > 0 && next[j - 1]!)
      else next[j] = j > 0 && row[j - 1]! && (item.char === null || item.char === v[j - 1])
    }
    row = next
  }
  return row[v.length]!
}

const likeChars = fc.constantFrom('a', 'b', '%', '_', '!', '🐎')
const likeText = (max: number) => fc.array(likeChars, { maxLength: max }).map((c) => c.join(''))

test('LIKE agrees with a reference matcher and stays within (n + 1) × (m + 1) steps', () => {
  fc.assert(
    fc.property(likeText(40), likeText(12), fc.option(fc.constantFrom('!', '%', '_')), (value, pattern, escapeChar) => {
      const matcher = compileLike(pattern, escapeChar)
      likeSteps.count = 0
      const got = matcher(value)
      const bound = ([...value].length + 1) * ([...pattern].length + 1)
      assert.ok(likeSteps.count <= bound, `${likeSteps.count} steps > ${bound}`)
      assert.equal(got, referenceLike(value, pattern, escapeChar), `'${value}' LIKE '${pattern}' ESCAPE ${escapeChar}`)
    }),
    { numRuns: runs },
  )
})

test('hostile LIKE patterns cost at most (n + 1) × (m + 1) steps', () => {
  const cases: Array<[string, string]> = [
    ['a'.repeat(20_000), `%${'a%'.repeat(30)}b`],
    ['a'.repeat(20_000), `${'%a_'.repeat(40)}%b`],
    ['a'.repeat(20_000), `${'_'.repeat(500)}%b`],
    [`${'ab'.repeat(5000)}c`, `%${'ab'.repeat(100)}c%`],
  ]
  for (const [value, pattern] of cases) {
    likeSteps.count = 0
    const matched = compileSelector(`v LIKE '${pattern}'`, { limits: { lengthMax: 10_000 } })!.matches({
      headers: [{ key: 'v', value: Buffer.from(value) }],
    })
    assert.equal(matched, referenceLike(value, pattern, null))
    assert.ok(likeSteps.count <= (value.length + 1) * (pattern.length + 1), `${likeSteps.count} steps`)
  }
})
