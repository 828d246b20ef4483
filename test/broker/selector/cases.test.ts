// The selector cases of cases.ts (ported from Artemis and JORAM as data, plus the JMS rules) against the
// compiled selectors, each on a message whose properties are typed record headers as every adapter stores them.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RecordHeader } from '../../../src/broker/message.ts'
import { type Property, property, propertyHeaders } from '../../../src/broker/properties/properties.ts'
import { compileSelector, type DeliveryFacts, SelectorError } from '../../../src/broker/selector/index.ts'
import { cases, type MessageInput, messages, type PropertyInput } from './cases.ts'

function typed(value: PropertyInput): Property {
  if (Array.isArray(value)) return property(value[0], value[1] as never)
  if (typeof value === 'string') return property('string', value)
  if (typeof value === 'boolean') return property('boolean', value)
  if (typeof value === 'bigint') return property('long', value)
  return property(Number.isInteger(value) ? 'int' : 'double', value as number)
}

export function messageOf(input: MessageInput): {
  message: { headers: RecordHeader[]; timestamp?: number; priority?: number }
  facts: DeliveryFacts | undefined
} {
  const headers = propertyHeaders(Object.entries(input.properties ?? {}).map(([k, v]) => [k, typed(v)] as const))
  for (const [key, value] of Object.entries(input.headers ?? {})) headers.push({ key, value: Buffer.from(value) })
  const facts =
    input.deliveryCount === undefined
      ? undefined
      : { deliveryCount: input.deliveryCount, redelivered: input.deliveryCount > 1 }
  return { message: { headers, timestamp: input.timestamp, priority: input.priority }, facts }
}

test(`selector cases (${cases.length}) evaluate as expected`, () => {
  assert.ok(cases.length >= 150)
  const failures: string[] = []
  for (const c of cases) {
    const options = { convertStringExpressions: c.convert ?? false }
    const label = `${c.selector} on ${c.message}${c.convert ? ' (convert)' : ''}`
    if (c.expected === 'error') {
      try {
        compileSelector(c.selector, options)
        failures.push(`${label}: compiled, expected an error`)
      } catch (error) {
        if (!(error instanceof SelectorError) || error.code !== 'INVALID_ARGUMENT')
          failures.push(`${label}: threw ${String(error)}`)
      }
      continue
    }
    const { message, facts } = messageOf(messages[c.message])
    let value: boolean | null
    let negatedSelects: boolean
    try {
      value = compileSelector(c.selector, options)!.evaluate(message, facts)
      negatedSelects = compileSelector(`NOT (${c.selector}\n)`, options)!.matches(message, facts)
    } catch (error) {
      failures.push(`${label}: threw ${String(error)}`)
      continue
    }
    const want = c.expected === 'unknown' ? null : c.expected
    if (value !== want) failures.push(`${label}: got ${value}, expected ${want}`)
    // Unknown selects neither the message nor the negation; TRUE/FALSE negate.
    if (negatedSelects !== (want === false)) failures.push(`${label}: NOT selects ${negatedSelects}`)
  }
  assert.deepEqual(failures, [])
})

test('an empty or blank selector is no selector', () => {
  assert.equal(compileSelector(''), undefined)
  assert.equal(compileSelector('  \n'), undefined)
})

test('errors carry the position of the problem', () => {
  assert.throws(
    () => compileSelector("a = 1 AND b ~ 'x'"),
    (error: unknown) => error instanceof SelectorError && error.position === 12 && /position 12/.test(error.message),
  )
})

test('limits: length, depth and IN-list size are bounded and configurable', () => {
  const long = `a = '${'x'.repeat(5000)}'`
  assert.throws(() => compileSelector(long), SelectorError)
  assert.ok(compileSelector(long, { limits: { lengthMax: 10_000 } }))
  const deep = `${'('.repeat(300)}a = 1${')'.repeat(300)}`
  assert.throws(() => compileSelector(deep), /nested deeper than 256/)
  assert.ok(compileSelector(deep, { limits: { depthMax: 400 } }))
  const chain = Array.from({ length: 300 }, (_, i) => `a = ${i}`).join(' OR ')
  assert.throws(() => compileSelector(chain), /nested deeper/)
  const nots = `${'NOT '.repeat(300)}a`
  assert.throws(() => compileSelector(nots), /nested deeper/)
  const list = `a IN (${Array.from({ length: 1025 }, (_, i) => `'${i}'`).join(',')})`
  assert.throws(() => compileSelector(list, { limits: { lengthMax: 20_000 } }), /IN list longer than 1024/)
  assert.ok(compileSelector(list, { limits: { lengthMax: 20_000, inListMax: 2000 } }))
})

test('the cache returns the same compiled selector for the same text and options', () => {
  const a = compileSelector('cached = 1')
  assert.equal(compileSelector('cached = 1'), a)
  assert.notEqual(compileSelector('cached = 1', { convertStringExpressions: true }), a)
})
