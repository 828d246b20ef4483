// The five-field cron parser and its next-time search, in UTC so that the cases do not depend on the machine's
// zone: fields, lists, ranges, steps, names, weekday 7, the day-of-month / day-of-week OR rule, refusals.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { nextCronTime, parseCron } from '../../../src/broker/schedule/cron.ts'
import { isWharfError } from '../../../src/util/errors.ts'

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
const next = (expr: string, from: string) => iso(nextCronTime(parseCron(expr), at(from), 'utc'))
/** The first n times after `from`. */
function times(expr: string, from: string, n: number): string[] {
  const cron = parseCron(expr)
  const out: string[] = []
  let t = at(from)
  for (let i = 0; i < n; i++) {
    t = nextCronTime(cron, t, 'utc')!
    out.push(new Date(t).toISOString().slice(0, 16))
  }
  return out
}

test('every minute: the next whole minute, strictly after', () => {
  assert.equal(next('* * * * *', '2026-03-01T10:15:30Z'), '2026-03-01T10:16:00.000Z')
  assert.equal(next('* * * * *', '2026-03-01T10:15:00Z'), '2026-03-01T10:16:00.000Z')
})

test('fixed times, lists, ranges and steps', () => {
  assert.equal(next('30 9 * * *', '2026-03-01T10:00:00Z'), '2026-03-02T09:30:00.000Z')
  assert.deepEqual(times('0,15,45 * * * *', '2026-03-01T10:00:00Z', 4), [
    '2026-03-01T10:15',
    '2026-03-01T10:45',
    '2026-03-01T11:00',
    '2026-03-01T11:15',
  ])
  assert.deepEqual(times('*/20 8-9 * * *', '2026-03-01T07:59:00Z', 7), [
    '2026-03-01T08:00',
    '2026-03-01T08:20',
    '2026-03-01T08:40',
    '2026-03-01T09:00',
    '2026-03-01T09:20',
    '2026-03-01T09:40',
    '2026-03-02T08:00',
  ])
  assert.deepEqual(times('10-30/10 0 * * *', '2026-03-01T00:00:00Z', 3), [
    '2026-03-01T00:10',
    '2026-03-01T00:20',
    '2026-03-01T00:30',
  ])
  // a/n: from a to the end of the field.
  assert.deepEqual(times('50/5 0 * * *', '2026-03-01T00:00:00Z', 3), [
    '2026-03-01T00:50',
    '2026-03-01T00:55',
    '2026-03-02T00:50',
  ])
})

test('months and weekdays by name; 7 is Sunday', () => {
  // 2026-03-01 is a Sunday.
  assert.equal(next('0 12 * * MON', '2026-03-01T00:00:00Z'), '2026-03-02T12:00:00.000Z')
  assert.equal(next('0 12 * * 7', '2026-03-02T00:00:00Z'), '2026-03-08T12:00:00.000Z')
  assert.equal(next('0 12 * * 0', '2026-03-02T00:00:00Z'), '2026-03-08T12:00:00.000Z')
  assert.equal(next('0 0 1 jan *', '2026-03-01T00:00:00Z'), '2027-01-01T00:00:00.000Z')
  assert.deepEqual(times('0 0 * * mon-fri', '2026-03-06T12:00:00Z', 2), ['2026-03-09T00:00', '2026-03-10T00:00'])
})

test('day of month and day of week: either matches when both are restricted', () => {
  // The 13th, or any Friday: from Sunday 2026-03-01, Friday the 6th comes first, then the 13th (a Friday too), the 20th.
  assert.deepEqual(times('0 0 13 * 5', '2026-03-01T00:00:00Z', 3), [
    '2026-03-06T00:00',
    '2026-03-13T00:00',
    '2026-03-20T00:00',
  ])
  // Only the day of month when the weekday is *.
  assert.deepEqual(times('0 0 31 * *', '2026-03-01T00:00:00Z', 2), ['2026-03-31T00:00', '2026-05-31T00:00'])
  // Leap day.
  assert.equal(next('0 0 29 2 *', '2026-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z')
})

test('a day that never comes gives null', () => {
  assert.equal(next('0 0 30 2 *', '2026-03-01T00:00:00Z'), null)
})

test('bad expressions are refused with INVALID_ARGUMENT', () => {
  for (const bad of [
    '',
    '* * * *',
    '* * * * * *',
    '60 * * * *',
    '* 24 * * *',
    '* * 0 * *',
    '* * * 13 *',
    '* * * * 8',
    '5-1 * * * *',
    '*/0 * * * *',
    '1,,2 * * * *',
    'a * * * *',
    '1-2-3 * * * *',
    '*/5/2 * * * *',
    'x'.repeat(300),
  ]) {
    assert.throws(
      () => parseCron(bad),
      (e: unknown) => isWharfError(e, 'INVALID_ARGUMENT'),
      bad,
    )
  }
})
