// What a resource alarm (disk, memory) means for Kafka producers: a Produce is not appended while one is
// active. It waits for the alarm to clear (then it is appended and answered as usual) for a bounded time, and
// is then answered REQUEST_TIMED_OUT, which every client retries, with throttle_time_ms saying how long it
// was held, as Kafka answers a quota violation. Fetches and every other API are not affected.
import type { AlarmSource } from '../common/listener.js'
import { followAlarms } from '../common/publisher-alarms.js'

export class AlarmThrottle {
  /** The active alarms' messages, or null when none is active. */
  #reason: string | null = null
  /** Bumped each time an alarm is raised: a connection blocked under this one counts as a blocked producer. */
  #epoch = 0
  readonly #waiters = new Set<(cleared: boolean) => void>()
  readonly #unsubscribe: () => void

  constructor(
    source: AlarmSource | undefined,
    private readonly onChange: (reason: string | null) => void = () => {},
  ) {
    this.#unsubscribe = followAlarms(source, (reason) => this.#set(reason))
  }

  /** Called only with a changed reason. */
  #set(next: string | null): void {
    if (this.#reason === null) this.#epoch++
    this.#reason = next
    this.onChange(next)
    if (next !== null) return
    // In the order they started waiting: the held produces of one connection append in wire order.
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const wake of waiters) wake(true)
  }

  get reason(): string | null {
    return this.#reason
  }

  get epoch(): number {
    return this.#epoch
  }

  /** Resolves true once no alarm is active, false after `ms` or when `signal` aborts. */
  whenClear(ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.#reason === null) return Promise.resolve(true)
    if (signal.aborted) return Promise.resolve(false)
    return new Promise((resolve) => {
      const done = (cleared: boolean) => {
        clearTimeout(timer)
        this.#waiters.delete(wake)
        signal.removeEventListener('abort', onAbort)
        resolve(cleared)
      }
      const wake = (cleared: boolean) => done(cleared)
      const onAbort = () => done(false)
      const timer = setTimeout(() => done(false), ms)
      this.#waiters.add(wake)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  close(): void {
    this.#unsubscribe()
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const wake of waiters) wake(false)
  }
}

/** One connection's produces held by an alarm: reading pauses while any is held. */
export class ProducerHold {
  #held = 0
  /** The alarm epoch a produce was last held under. */
  #epoch = -1

  constructor(
    private readonly throttle: AlarmThrottle,
    private readonly gate: { hold(reason: 'alarm'): void; release(reason: 'alarm'): void },
  ) {}

  hold(): void {
    this.#epoch = this.throttle.epoch
    if (this.#held++ === 0) this.gate.hold('alarm')
  }

  release(): void {
    if (--this.#held === 0) this.gate.release('alarm')
  }

  /** Held back by the current alarm because it produces (what the admin API counts as a blocked publisher). */
  get blocked(): boolean {
    return this.#held > 0 || (this.throttle.reason !== null && this.#epoch === this.throttle.epoch)
  }
}
