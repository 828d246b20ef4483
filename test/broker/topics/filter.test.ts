import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { compileFilterPolicy, type MessageAttributes } from '../../../src/broker/topics/filter.ts'
import { parseIpv4, parseIpv4Cidr } from '../../../src/broker/topics/ipv4.ts'
import { isWharfError } from '../../../src/util/errors.ts'

const runs = process.env.WHARF_LONG === '1' ? 3_000 : 300

// The message from the AWS SNS "message filtering" documentation examples.
const attributes: MessageAttributes = {
  customer_interests: { DataType: 'String.Array', StringValue: '["soccer", "rugby", "hockey"]' },
  store: { DataType: 'String', StringValue: 'example_corp' },
  event: { DataType: 'String', StringValue: 'order_placed' },
  price_usd: { DataType: 'Number', StringValue: '210.75' },
  source_ip: { DataType: 'String', StringValue: '10.0.0.255' },
  blob: { DataType: 'Binary', BinaryValue: Buffer.from('x') },
}

function attributesMatch(policy: object): boolean {
  return compileFilterPolicy(JSON.stringify(policy), 'MessageAttributes').matches(attributes)
}

test('MessageAttributes: AWS documentation examples', () => {
  const cases: [object, boolean][] = [
    [
      {
        store: ['example_corp'],
        event: [{ 'anything-but': 'order_cancelled' }],
        customer_interests: ['rugby', 'football', 'baseball'],
        price_usd: [{ numeric: ['>=', 100] }],
      },
      true,
    ],
    [{ customer_interests: ['rugby'] }, true],
    [{ customer_interests: [{ prefix: 'bas' }] }, false],
    [{ customer_interests: [{ prefix: 'hock' }] }, true],
    [{ price_usd: [{ numeric: ['>', 0, '<=', 150] }] }, false],
    [{ price_usd: [{ numeric: ['>', 200, '<', 300] }] }, true],
    [{ price_usd: [{ numeric: ['=', 210.75] }] }, true],
    [{ price_usd: [210.75] }, true],
    [{ price_usd: ['210.75'] }, false],
    [{ store: [{ exists: true }] }, true],
    [{ encrypted: [{ exists: false }] }, true],
    [{ store: [{ exists: false }] }, false],
    [{ encrypted: [{ exists: true }] }, false],
    [{ event: [{ 'anything-but': ['order_cancelled', 'order_failed'] }] }, true],
    [{ event: [{ 'anything-but': ['order_placed'] }] }, false],
    [{ event: [{ 'anything-but': { prefix: 'order-' } }] }, true],
    [{ event: [{ 'anything-but': { prefix: 'order_' } }] }, false],
    [{ encrypted: [{ 'anything-but': 'x' }] }, false],
    [{ store: [{ 'equals-ignore-case': 'EXAMPLE_CORP' }] }, true],
    [{ event: [{ suffix: '_placed' }] }, true],
    [{ event: [{ suffix: '_failed' }] }, false],
    [{ source_ip: [{ cidr: '10.0.0.0/24' }] }, true],
    [{ source_ip: [{ cidr: '10.0.1.0/24' }] }, false],
    [{ store: ['other', 'example_corp'] }, true],
    [{ store: ['example_corp'], event: ['order_cancelled'] }, false],
    [{ blob: [{ exists: true }] }, true],
    [{ blob: ['x'] }, false],
    [
      { store: ['example_corp'], $or: [{ event: ['order_cancelled'] }, { price_usd: [{ numeric: ['>', 200] }] }] },
      true,
    ],
    [
      { store: ['example_corp'], $or: [{ event: ['order_cancelled'] }, { price_usd: [{ numeric: ['<', 200] }] }] },
      false,
    ],
    [{}, true],
  ]
  for (const [policy, expected] of cases) assert.equal(attributesMatch(policy), expected, JSON.stringify(policy))
  assert.equal(compileFilterPolicy({ a: [{ exists: false }] }, 'MessageAttributes').matches(undefined), true)
  assert.equal(compileFilterPolicy({ a: ['x'] }, 'MessageAttributes').matches(undefined), false)
})

test('MessageAttributes: custom types keep their base type', () => {
  const policy = compileFilterPolicy({ n: [{ numeric: ['>', 1] }], s: ['v'] }, 'MessageAttributes')
  assert.equal(
    policy.matches({
      n: { DataType: 'Number.float', StringValue: '1.5' },
      s: { DataType: 'String.custom', StringValue: 'v' },
    }),
    true,
  )
  assert.equal(
    policy.matches({ n: { DataType: 'Number', StringValue: '' }, s: { DataType: 'String', StringValue: 'v' } }),
    false,
  )
  assert.equal(
    policy.matches({ n: { DataType: 'Number', StringValue: '1e3' }, s: { DataType: 'String', StringValue: 'v' } }),
    true,
  )
  const array = compileFilterPolicy({ tags: [5, 'x', true] }, 'MessageAttributes')
  assert.equal(array.matches({ tags: { DataType: 'String.Array', StringValue: '[1, 5]' } }), true)
  assert.equal(array.matches({ tags: { DataType: 'String.Array', StringValue: '[false, "y"]' } }), false)
  assert.equal(array.matches({ tags: { DataType: 'String.Array', StringValue: '[true]' } }), true)
  assert.equal(array.matches({ tags: { DataType: 'String.Array', StringValue: 'not json' } }), false)
})

const body = {
  customer_interests: ['soccer', 'rugby'],
  store: 'example_corp',
  event: { type: 'order_placed', price: 210.75, flags: { gift: true } },
  items: [
    { sku: 'a', qty: 1 },
    { sku: 'b', qty: 5 },
  ],
  nothing: null,
  empty: [],
}

test('MessageBody: nested properties, arrays and leaf rules', () => {
  const cases: [object, boolean][] = [
    [{ event: { type: ['order_placed'] } }, true],
    [{ event: { price: [{ numeric: ['>', 200] }], type: [{ prefix: 'order' }] } }, true],
    [{ event: { flags: { gift: [true] } } }, true],
    [{ event: { flags: { gift: [false] } } }, false],
    [{ items: { qty: [{ numeric: ['>=', 5] }] } }, true],
    [{ items: { sku: ['c'] } }, false],
    [{ customer_interests: ['rugby'] }, true],
    [{ event: [{ exists: true }] }, false],
    [{ event: { type: [{ exists: true }] } }, true],
    [{ missing: { x: [{ exists: false }] } }, true],
    [{ event: { type: [{ exists: false }] } }, false],
    [{ nothing: [null] }, true],
    [{ nothing: [{ exists: true }] }, true],
    [{ store: [null] }, false],
    [{ empty: [{ exists: false }] }, true],
    [{ store: ['example_corp'], $or: [{ event: { type: ['x'] } }, { items: { sku: ['b'] } }] }, true],
    [{ event: { $or: [{ type: ['x'] }, { price: [210.75] }] } }, true],
    [{ event: { $or: [{ type: ['x'] }, { price: [1] }] } }, false],
  ]
  for (const [policy, expected] of cases) {
    const compiled = compileFilterPolicy(JSON.stringify(policy), 'MessageBody')
    assert.equal(compiled.matches(body), expected, JSON.stringify(policy))
    assert.equal(compiled.matches(JSON.stringify(body)), expected, `text body ${JSON.stringify(policy)}`)
  }
  const any = compileFilterPolicy({ store: [{ exists: false }] }, 'MessageBody')
  assert.equal(any.matches('not json'), false, 'a non-JSON body matches no body policy')
  assert.equal(any.matches('[1]'), false)
})

function rejects(policy: unknown, scope: 'MessageAttributes' | 'MessageBody', reason: RegExp): void {
  assert.throws(
    () => compileFilterPolicy(typeof policy === 'string' ? policy : JSON.stringify(policy), scope),
    (e: unknown) => isWharfError(e, 'INVALID_ARGUMENT') && reason.test(e.message),
    JSON.stringify(policy),
  )
}

test('invalid policies throw INVALID_ARGUMENT with a reason', () => {
  rejects('{', 'MessageAttributes', /JSON/)
  rejects([], 'MessageAttributes', /object/)
  rejects({ a: [1], b: [1], c: [1], d: [1], e: [1], f: [1] }, 'MessageAttributes', /5 keys/)
  rejects({ a: { b: ['x'] } }, 'MessageAttributes', /nested/)
  rejects({ a: [] }, 'MessageBody', /empty arrays/)
  rejects({ a: 'x' }, 'MessageBody', /object or an array/)
  rejects({ a: [{ prefix: 'x', suffix: 'y' }] }, 'MessageBody', /one key/)
  rejects({ a: [{ wildcard: 'x*' }] }, 'MessageBody', /unrecognized match type/)
  rejects({ a: [{ prefix: 1 }] }, 'MessageBody', /must be a string/)
  rejects({ a: [{ exists: 'yes' }] }, 'MessageBody', /true or false/)
  rejects({ a: [{ numeric: [] }] }, 'MessageBody', /numeric/)
  rejects({ a: [{ numeric: ['>>', 1] }] }, 'MessageBody', /operator/)
  rejects({ a: [{ numeric: ['>', 'x'] }] }, 'MessageBody', /numeric/)
  rejects({ a: [{ numeric: ['<', 1, '>', 0] }] }, 'MessageBody', /starts with/)
  rejects({ a: [{ numeric: ['>', 5, '<', 1] }] }, 'MessageBody', /bottom/)
  rejects({ a: [{ numeric: ['=', 5, '<', 9] }] }, 'MessageBody', /one value/)
  rejects({ a: [{ cidr: '10.0.0.0' }] }, 'MessageBody', /CIDR/)
  rejects({ a: [{ cidr: '2001:db8::/32' }] }, 'MessageBody', /IPv4 only/)
  rejects({ a: [{ 'anything-but': { suffix: 1 } }] }, 'MessageBody', /string/)
  rejects({ a: [{ 'anything-but': { wildcard: 'x' } }] }, 'MessageBody', /anything-but/)
  rejects({ a: [[1]] }, 'MessageBody', /match value/)
  rejects({ $or: [] }, 'MessageBody', /\$or/)
  rejects({ $or: [1, 2] }, 'MessageBody', /\$or/)
  rejects(`{"a":["${'x'.repeat(256 * 1024)}"]}`, 'MessageBody', /bytes/)
})

test('the value-combination limit counts as AWS documents it', () => {
  // AWS example: 4 values three levels deep and 3 values two levels deep = 3 x 4 x 2 x 3 = 72.
  const nested = { key_a: { key_b: { key_c: ['1', '2', '3', '4'] } }, key_d: { key_e: ['1', '2', '3'] } }
  assert.equal(compileFilterPolicy(nested, 'MessageBody').scope, 'MessageBody')
  const values = (n: number): string[] => Array.from({ length: n }, (_, i) => `v${i}`)
  compileFilterPolicy({ a: values(6), b: values(5), c: values(5) }, 'MessageAttributes') // 150
  rejects({ a: values(6), b: values(5), c: values(6) }, 'MessageAttributes', /too complex/) // 180
  rejects({ a: { b: values(76) } }, 'MessageBody', /too complex/) // 76 x 2 = 152
})

test('cidr parsing by char code', () => {
  assert.equal(parseIpv4('10.0.0.255'), 0x0a0000ff)
  assert.equal(parseIpv4('255.255.255.255'), 0xffffffff)
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '1234.1.1.1']) {
    assert.equal(parseIpv4(bad), null, bad)
  }
  assert.deepEqual(parseIpv4Cidr('10.1.2.3/8'), { network: 0x0a000000, mask: 0xff000000 })
  assert.deepEqual(parseIpv4Cidr('0.0.0.0/0'), { network: 0, mask: 0 })
  assert.equal(parseIpv4Cidr('10.0.0.0/33'), null)
  assert.equal(parseIpv4Cidr('10.0.0.0/'), null)
  const policy = compileFilterPolicy({ ip: [{ cidr: '192.168.0.0/16' }] }, 'MessageBody')
  fc.assert(
    fc.property(fc.ipV4(), (ip) => {
      assert.equal(policy.matches({ ip }), ip.startsWith('192.168.'))
    }),
    { numRuns: runs },
  )
})

// Metamorphic properties over random flat policies and messages.
const names = ['a', 'b', 'c'] as const
const textValue = fc.constantFrom('red', 'green', 'Red', 'reddish', '')
const rule = fc.oneof(
  textValue,
  fc.integer({ min: 0, max: 4 }),
  textValue.map((prefix) => ({ prefix })),
  textValue.map((suffix) => ({ suffix })),
  textValue.map((v) => ({ 'equals-ignore-case': v })),
  fc.array(textValue, { minLength: 1, maxLength: 2 }).map((v) => ({ 'anything-but': v })),
  fc.integer({ min: 0, max: 4 }).map((n) => ({ numeric: ['>', n] })),
  fc.boolean().map((exists) => ({ exists })),
)
const flatPolicy = fc.dictionary(fc.constantFrom(...names), fc.array(rule, { minLength: 1, maxLength: 2 }), {
  maxKeys: 3,
})
const message = fc.dictionary(fc.constantFrom(...names), fc.oneof(textValue, fc.integer({ min: 0, max: 4 })), {
  maxKeys: 3,
})

function toAttributes(values: Record<string, string | number>): MessageAttributes {
  const out: MessageAttributes = {}
  for (const [k, v] of Object.entries(values)) {
    out[k] =
      typeof v === 'number' ? { DataType: 'Number', StringValue: String(v) } : { DataType: 'String', StringValue: v }
  }
  return out
}

/** Naive reference: the documented rule semantics, evaluated straight off the policy JSON. */
function referenceRule(rule: unknown, present: boolean, value: unknown): boolean {
  if (typeof rule !== 'object' || rule === null) return present && rule === value
  const r = rule as Record<string, unknown>
  if ('exists' in r) return r.exists === present
  if (!present) return false
  if ('prefix' in r) return typeof value === 'string' && value.startsWith(r.prefix as string)
  if ('suffix' in r) return typeof value === 'string' && value.endsWith(r.suffix as string)
  if ('equals-ignore-case' in r) {
    return typeof value === 'string' && value.toLowerCase() === (r['equals-ignore-case'] as string).toLowerCase()
  }
  if ('anything-but' in r) return !(r['anything-but'] as unknown[]).includes(value)
  const [, bound] = r.numeric as [string, number]
  return typeof value === 'number' && value > bound
}
function referenceMatch(policy: Record<string, unknown[]>, values: Record<string, unknown>): boolean {
  return Object.entries(policy).every(([k, rules]) => rules.some((rule) => referenceRule(rule, k in values, values[k])))
}

test('flat policies match like the reference, on attributes and on the equivalent JSON body', () => {
  fc.assert(
    fc.property(flatPolicy, message, (policy, values) => {
      const expected = referenceMatch(policy, values)
      const viaAttributes = compileFilterPolicy(policy, 'MessageAttributes').matches(toAttributes(values))
      const viaBody = compileFilterPolicy(policy, 'MessageBody').matches(values)
      assert.equal(viaAttributes, expected)
      assert.equal(viaBody, expected)
    }),
    { numRuns: runs },
  )
})

test('a one-element String.Array matches like the String attribute, and $or is a disjunction', () => {
  fc.assert(
    fc.property(flatPolicy, flatPolicy, flatPolicy, message, (base, left, right, values) => {
      const attributes = toAttributes(values)
      const asArrays: MessageAttributes = {}
      for (const [k, v] of Object.entries(values))
        asArrays[k] = { DataType: 'String.Array', StringValue: JSON.stringify([v]) }
      const compiled = compileFilterPolicy(base, 'MessageAttributes')
      assert.equal(compiled.matches(asArrays), compiled.matches(attributes))

      const withOr = compileFilterPolicy({ ...base, $or: [left, right] }, 'MessageAttributes').matches(attributes)
      const separately =
        compileFilterPolicy({ $or: [base, base] }, 'MessageAttributes').matches(attributes) &&
        (compileFilterPolicy(left, 'MessageAttributes').matches(attributes) ||
          compileFilterPolicy(right, 'MessageAttributes').matches(attributes))
      assert.equal(withOr, separately)
      // AND across keys: a policy matches iff each single-key sub-policy matches.
      const perKey = Object.entries(base).every(([k, rules]) =>
        compileFilterPolicy({ [k]: rules }, 'MessageAttributes').matches(attributes),
      )
      assert.equal(compiled.matches(attributes), perKey)
    }),
    { numRuns: runs },
  )
})
