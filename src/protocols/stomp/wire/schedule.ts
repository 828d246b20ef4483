// ActiveMQ's scheduling headers on SEND. `AMQ_SCHEDULED_DELAY` (ms before delivery) and Artemis's
// `AMQ_SCHEDULED_TIME` (absolute ms since the epoch) become the message's own delay (durable in the queue's
// stream); `AMQ_SCHEDULED_PERIOD` (ms between repeats), `AMQ_SCHEDULED_REPEAT` (deliveries after the first)
// and `AMQ_SCHEDULED_CRON` (five-field Unix cron; delay, period and repeat then apply per cron time) make a job
// of the broker's scheduler instead. None of them is stored with the message: the copies arrive without them,
// as ActiveMQ delivers them.
import { StompFrameError } from './frame.js'

export const ScheduleHeader = {
  delay: 'AMQ_SCHEDULED_DELAY',
  time: 'AMQ_SCHEDULED_TIME',
  period: 'AMQ_SCHEDULED_PERIOD',
  repeat: 'AMQ_SCHEDULED_REPEAT',
  cron: 'AMQ_SCHEDULED_CRON',
} as const

const names = new Set<string>(Object.values(ScheduleHeader))

export function isScheduleHeader(name: string): boolean {
  return names.has(name)
}

/** A scheduler job's terms (the delay, when there is one, is on the message). */
export interface ScheduleJob {
  periodMs: number
  repeat: number
  cron: string | null
}

function wholeNumber(headers: ReadonlyMap<string, string>, name: string): number | undefined {
  const text = headers.get(name)
  if (text === undefined) return undefined
  const n = Number(text)
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new StompFrameError(`invalid ${name} '${text}'`)
  return n
}

/** The delay the headers ask for (DELAY, else TIME − now; never negative), or undefined. */
export function scheduledDelay(headers: ReadonlyMap<string, string>, now: number): number | undefined {
  const delay = wholeNumber(headers, ScheduleHeader.delay)
  if (delay !== undefined) return delay
  const time = wholeNumber(headers, ScheduleHeader.time)
  return time === undefined ? undefined : Math.max(0, time - now)
}

/** The job the headers ask for (a period with repeats, or a cron expression), or null for none. */
export function scheduleJob(headers: ReadonlyMap<string, string>): ScheduleJob | null {
  const periodMs = wholeNumber(headers, ScheduleHeader.period) ?? 0
  const repeat = wholeNumber(headers, ScheduleHeader.repeat) ?? 0
  const cron = headers.get(ScheduleHeader.cron)
  if (cron === undefined && repeat === 0) return null
  return { periodMs, repeat, cron: cron ?? null }
}
