// The scheduler's bounds and the longest delivery delay (imported by config.ts, so nothing here imports back).
import type { CronZone } from './cron.js'

/** Longest delivery delay (queue default, per message, a job's delay or period) by default: a year. */
export const DELIVERY_DELAY_MAX_MS = 365 * 24 * 3600 * 1000

export interface ScheduleLimits {
  /** Jobs at once. */
  jobsMax: number
  /** Message bytes (key, body, headers) of all jobs together; they are held in memory. */
  bytesMax: number
  /** Longest delay or period. */
  delayMaxMs: number
  /** Deliveries of one job per run of the timer. */
  burstMax: number
  /** Cron expressions are read in this zone; ActiveMQ uses the JVM's (local). */
  cronZone: CronZone
}

export const defaultScheduleLimits: ScheduleLimits = {
  jobsMax: 10_000,
  bytesMax: 64 * 1024 * 1024,
  delayMaxMs: DELIVERY_DELAY_MAX_MS,
  burstMax: 100,
  cronZone: 'local',
}
