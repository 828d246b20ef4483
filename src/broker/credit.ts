// A credit window: how many deliveries a set of consumers may hold unsettled (AMQP basic.qos global, the
// MQTT inflight window, a log-group member's prefetch). The counters are private so that every change goes
// through take/release/resize, and whoever waits for room (a queue's drain, a log cursor) hears of it.

export class CreditGroup {
  #limit: number
  #used = 0
  readonly #listeners = new Set<() => void>()

  /** limit 0 = unlimited. */
  constructor(limit: number) {
    this.#limit = limit
  }

  get limit(): number {
    return this.#limit
  }

  get used(): number {
    return this.#used
  }

  get available(): boolean {
    return this.#limit === 0 || this.#used < this.#limit
  }

  /** Deliveries that still fit (Infinity when unlimited; never negative). */
  get room(): number {
    return this.#limit === 0 ? Number.POSITIVE_INFINITY : Math.max(0, this.#limit - this.#used)
  }

  /** Counts deliveries handed out. */
  take(count = 1): void {
    this.#used += count
  }

  /** Counts deliveries settled and tells the listeners there may be room. */
  release(count = 1): void {
    this.#used -= count
    this.#notify()
  }

  /** A new limit (AMQP basic.qos, MQTT Receive Maximum); a larger one may make room at once. */
  resize(limit: number): void {
    this.#limit = limit
    this.#notify()
  }

  onRelease(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #notify(): void {
    for (const listener of this.#listeners) listener()
  }
}
