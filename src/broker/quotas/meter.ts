// Rates over a sampled window, as Kafka's Rate/SampledStat measure them, and Kafka's throttle time for a rate
// over its bound: (rate − limit) / limit × window, so that a client silent for that long brings the rate
// measured over the window back to the limit.
import type { QuotaWindow } from './types.js'

interface Sample {
  start: number
  value: number
}

export class RateMeter {
  readonly #samples: Sample[] = []
  lastRecordAt = 0

  constructor(private readonly window: QuotaWindow) {}

  /** Adds `value` at `now`; returns the rate per second over the window, and that window's length (ms). */
  record(value: number, now: number): { rate: number; windowMs: number } {
    const { samples, sampleMs } = this.window
    this.lastRecordAt = now
    // Samples entirely older than the window no longer count.
    while (this.#samples.length > 0 && this.#samples[0]!.start + samples * sampleMs <= now) this.#samples.shift()
    const current = this.#samples.at(-1)
    if (current === undefined || now - current.start >= sampleMs) {
      this.#samples.push({ start: now, value })
      if (this.#samples.length > samples) this.#samples.shift()
    } else current.value += value
    let total = 0
    for (const sample of this.#samples) total += sample.value
    // Kafka's rule: the window counts as at least samples − 1 whole samples, so a client's first burst is
    // measured over the full window instead of the few milliseconds it took.
    let windowMs = now - this.#samples[0]!.start
    const whole = Math.floor(windowMs / sampleMs)
    if (whole < samples - 1) windowMs += (samples - 1 - whole) * sampleMs
    return { rate: (total * 1000) / windowMs, windowMs }
  }
}

/** How long a client over its limit must stay silent; 0 within it. Bounded by the window's length. */
export function throttleMs(rate: number, limit: number, windowMs: number, window: QuotaWindow): number {
  if (rate <= limit) return 0
  const ms = ((rate - limit) / limit) * windowMs
  return Math.min(Math.round(ms), window.samples * window.sampleMs)
}
