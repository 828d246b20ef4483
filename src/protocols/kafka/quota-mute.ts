// A connection over a quota is not read for its throttle time, as Kafka mutes the channel (quota-throttle.ts
// decides when and for how long).

/** Reading of one connection paused for throttle times; overlapping throttles end at the latest one. */
export class QuotaMute {
  #until = 0
  #timer: NodeJS.Timeout | undefined

  constructor(private readonly gate: { hold(reason: 'quota'): void; release(reason: 'quota'): void }) {}

  mute(ms: number): void {
    const until = Date.now() + ms
    if (until <= this.#until) return
    this.#until = until
    clearTimeout(this.#timer)
    this.gate.hold('quota')
    // Unref'd: releasing the gate of a closed connection does nothing, and must not keep the process up.
    this.#timer = setTimeout(() => this.gate.release('quota'), ms).unref()
  }
}
