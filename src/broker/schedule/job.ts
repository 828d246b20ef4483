// A scheduled job: a message, where to publish it, and when (ActiveMQ's scheduler semantics). Without a cron
// expression: first after delayMs, then `repeat` more times every periodMs. With one: at each cron time, a cycle
// of the same (first after delayMs, then `repeat` more every periodMs), cron times that pass during a cycle
// being skipped. Plain data (the catalog record) and pure functions; scheduler.ts runs and stores them.
import type { PublishMessage, RecordHeader } from '../message.js'
import { type CronZone, nextCronTime, parseCron } from './cron.js'

export interface ScheduleSpec {
  /** Before the first delivery (of each cron cycle). */
  delayMs: number
  /** Between repeats. */
  periodMs: number
  /** Deliveries after the first (of each cron cycle). */
  repeat: number
  /** Five-field Unix cron expression; null = one cycle only. */
  cron: string | null
}

/** The message of a job as the catalog stores it (bytes as base64). */
export interface StoredJobMessage {
  key: string | null
  value: string | null
  headers: Array<[string, string | null]>
  priority?: number
  ttlMs?: number
}

/** A job as the catalog stores it. */
export interface JobRecord extends JobState {
  message: StoredJobMessage
}

/** A job's schedule and progress (what the scheduler keeps in memory beside the catalog). */
export interface JobState extends ScheduleSpec {
  id: string
  /** Where each copy is published (the default exchange '' with a queue's name reaches that queue). */
  exchange: string
  routingKey: string
  /** Bytes the job counts against the scheduler's bound (key, value and headers). */
  bytes: number
  /** The cron time that started the current cycle (cron jobs), else null. */
  cycleAt: number | null
  /** Deliveries left in the current cycle, the next one included. */
  left: number
  /** When the next delivery is due (ms since the epoch). */
  next: number
  createdAt: number
}

const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'))
const unb64 = (s: string | null): Buffer | null => (s === null ? null : Buffer.from(s, 'base64'))
const bytesOf = (v: Buffer | string | null | undefined): Buffer | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? Buffer.from(v) : v

export function storeMessage(message: PublishMessage): { stored: StoredJobMessage; bytes: number } {
  const key = bytesOf(message.key)
  const value = bytesOf(message.value)
  let bytes = (key?.length ?? 0) + (value?.length ?? 0)
  const headers: Array<[string, string | null]> = []
  for (const h of message.headers ?? []) {
    headers.push([h.key, b64(h.value)])
    bytes += h.key.length + (h.value?.length ?? 0)
  }
  const stored: StoredJobMessage = { key: b64(key), value: b64(value), headers }
  if (message.priority !== undefined) stored.priority = message.priority
  if (message.ttlMs !== undefined) stored.ttlMs = message.ttlMs
  return { stored, bytes }
}

/** A fresh copy to publish (its own timestamp; no delay, the job already waited). */
export function copyOf(stored: StoredJobMessage, now: number): PublishMessage {
  const headers: RecordHeader[] = stored.headers.map(([key, value]) => ({ key, value: unb64(value) }))
  const message: PublishMessage = { key: unb64(stored.key), value: unb64(stored.value), headers, timestamp: now }
  if (stored.priority !== undefined) message.priority = stored.priority
  if (stored.ttlMs !== undefined) message.ttlMs = stored.ttlMs
  return message
}

/** The first cycle of a job created at `now`: its start and first due time, or null when cron never fires. */
export function firstCycle(
  spec: ScheduleSpec,
  now: number,
  zone: CronZone,
): { cycleAt: number | null; next: number } | null {
  if (spec.cron === null) return { cycleAt: null, next: now + spec.delayMs }
  const cycleAt = nextCronTime(parseCron(spec.cron), now, zone)
  return cycleAt === null ? null : { cycleAt, next: cycleAt + spec.delayMs }
}

/**
 * Moves a job past the delivery it just made, at `now`. With `skipPast` (the first run after a restart: late
 * deliveries were made once, the missed ones are not made up) every delivery already due is skipped too.
 * Returns false when the job is over.
 */
export function advance(job: JobState, now: number, zone: CronZone, skipPast: boolean): boolean {
  job.left--
  if (job.left > 0) {
    job.next += job.periodMs
    if (!skipPast || job.next > now) return true
    // The rest of the cycle missed at once, without looping over each missed delivery.
    const missed = job.periodMs === 0 ? job.left : Math.min(job.left, Math.floor((now - job.next) / job.periodMs) + 1)
    job.left -= missed
    job.next += missed * job.periodMs
    if (job.left > 0) return true
  }
  if (job.cron === null) return false
  // The next cron time after this cycle's start, or after the one that would be due now if the cycle ran past
  // it: a cycle's first delivery is then never in the past, and cycles never overlap.
  const from = Math.max(job.cycleAt ?? now, now - job.delayMs)
  const cycleAt = nextCronTime(parseCron(job.cron), from, zone)
  if (cycleAt === null) return false
  job.cycleAt = cycleAt
  job.left = job.repeat + 1
  job.next = cycleAt + job.delayMs
  return true
}
