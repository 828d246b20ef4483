// Five-field Unix cron expressions (minute hour day-of-month month day-of-week), as ActiveMQ's
// AMQ_SCHEDULED_CRON takes them: `*`, numbers, ranges `a-b`, steps `*/n` `a-b/n` `a/n`, lists `x,y,z`, month
// and weekday names (JAN-DEC, SUN-SAT), weekday 7 = Sunday. As in Vixie cron, when both day fields are
// restricted a day matches either; when one is `*` only the other counts. Times are on whole minutes, in the
// process's local time zone (as ActiveMQ does) or in UTC.
import { WharfError } from '../../util/errors.js'

export interface Cron {
  readonly text: string
  readonly minutes: readonly boolean[]
  readonly hours: readonly boolean[]
  readonly days: readonly boolean[]
  readonly months: readonly boolean[]
  /** 0-6, Sunday = 0. */
  readonly weekdays: readonly boolean[]
  /** Whether the day-of-month / day-of-week field was `*` (or `*` with a step of 1). */
  readonly anyDay: boolean
  readonly anyWeekday: boolean
}

export type CronZone = 'local' | 'utc'

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']
/** Longer than any cron expression needs. */
const TEXT_MAX = 256
/** How far ahead a next time is looked for (an expression like "0 0 30 2 *" never matches). */
const SEARCH_YEARS = 8

function invalid(text: string, why: string): never {
  throw new WharfError('INVALID_ARGUMENT', `invalid cron expression '${text}': ${why}`)
}

interface FieldSpec {
  name: string
  min: number
  max: number
  names?: readonly string[]
  /** First value the names stand for (1 for months, 0 for weekdays). */
  namesFrom?: number
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: 'day of week', min: 0, max: 7, names: WEEKDAYS, namesFrom: 0 },
]

function value(text: string, spec: FieldSpec, token: string): number {
  const upper = token.toUpperCase()
  const named = spec.names?.indexOf(upper) ?? -1
  if (named >= 0) return named + spec.namesFrom!
  if (!/^\d{1,2}$/.test(token)) invalid(text, `'${token}' is not a ${spec.name}`)
  const n = Number(token)
  if (n < spec.min || n > spec.max) invalid(text, `${spec.name} ${n} is outside ${spec.min}-${spec.max}`)
  return n
}

/** One field as a membership table over [0, max]; `star` when it is `*` (any step 1). */
function field(text: string, source: string, spec: FieldSpec): { set: boolean[]; star: boolean } {
  const set = new Array<boolean>(spec.max + 1).fill(false)
  let star = false
  for (const part of source.split(',')) {
    if (part === '') invalid(text, `empty list item in the ${spec.name} field`)
    const [range, stepText, extra] = part.split('/')
    if (extra !== undefined) invalid(text, `'${part}' has two steps`)
    let step = 1
    if (stepText !== undefined) {
      if (!/^\d{1,2}$/.test(stepText) || Number(stepText) === 0) invalid(text, `bad step '${stepText}'`)
      step = Number(stepText)
    }
    let from: number
    let to: number
    if (range === '*') {
      from = spec.min
      to = spec.max === 7 ? 6 : spec.max
      if (step === 1) star = true
    } else if (range!.includes('-')) {
      const [a, b, more] = range!.split('-')
      if (more !== undefined || a === '' || b === '') invalid(text, `bad range '${range}'`)
      from = value(text, spec, a!)
      to = value(text, spec, b!)
      if (from > to) invalid(text, `range '${range}' runs backwards`)
    } else {
      from = value(text, spec, range!)
      // "a/n" is a to the end of the field, every n.
      to = stepText === undefined ? from : spec.max
    }
    for (let v = from; v <= to; v += step) set[v] = true
  }
  return { set, star }
}

export function parseCron(text: string): Cron {
  if (typeof text !== 'string' || text.length > TEXT_MAX) invalid(String(text).slice(0, 40), 'too long')
  const parts = text.trim().split(/\s+/)
  if (parts.length !== 5) invalid(text, `expected 5 fields (minute hour day month weekday), got ${parts.length}`)
  const [minute, hour, day, month, weekday] = parts.map((p, i) => field(text, p, FIELDS[i]!))
  const weekdays = weekday!.set.slice(0, 7)
  if (weekday!.set[7]) weekdays[0] = true // 7 is Sunday too
  return {
    text,
    minutes: minute!.set,
    hours: hour!.set,
    days: day!.set,
    months: month!.set,
    weekdays,
    anyDay: day!.star,
    anyWeekday: weekday!.star,
  }
}

/** Calendar access in one zone. */
interface Clock {
  get(d: Date): { year: number; month: number; day: number; weekday: number; hour: number; minute: number }
  at(year: number, month: number, day: number, hour: number, minute: number): number
}

const clocks: Record<CronZone, Clock> = {
  local: {
    get: (d) => ({
      year: d.getFullYear(),
      month: d.getMonth() + 1,
      day: d.getDate(),
      weekday: d.getDay(),
      hour: d.getHours(),
      minute: d.getMinutes(),
    }),
    at: (year, month, day, hour, minute) => new Date(year, month - 1, day, hour, minute).getTime(),
  },
  utc: {
    get: (d) => ({
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      weekday: d.getUTCDay(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
    }),
    at: (year, month, day, hour, minute) => Date.UTC(year, month - 1, day, hour, minute),
  },
}

function dayMatches(cron: Cron, day: number, weekday: number): boolean {
  if (cron.anyDay) return cron.weekdays[weekday]!
  if (cron.anyWeekday) return cron.days[day]!
  return cron.days[day]! || cron.weekdays[weekday]!
}

/** The first matching minute strictly after `after` (ms since the epoch), or null when none within years. */
export function nextCronTime(cron: Cron, after: number, zone: CronZone = 'local'): number | null {
  const clock = clocks[zone]
  const limit = after + SEARCH_YEARS * 366 * 24 * 3600 * 1000
  // Start at the next whole minute.
  let t = Math.floor(after / 60_000) * 60_000 + 60_000
  while (t <= limit) {
    const c = clock.get(new Date(t))
    if (!cron.months[c.month]) {
      t = clock.at(c.month === 12 ? c.year + 1 : c.year, c.month === 12 ? 1 : c.month + 1, 1, 0, 0)
      continue
    }
    if (!dayMatches(cron, c.day, c.weekday)) {
      t = clock.at(c.year, c.month, c.day + 1, 0, 0)
      continue
    }
    if (!cron.hours[c.hour]) {
      const next = clock.at(c.year, c.month, c.day, c.hour + 1, 0)
      // A local clock going back (end of daylight saving time) must not loop.
      t = next > t ? next : t + 3600_000
      continue
    }
    if (!cron.minutes[c.minute]) {
      t += 60_000
      continue
    }
    return t
  }
  return null
}
