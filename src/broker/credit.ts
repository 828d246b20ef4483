// A credit window: how many deliveries a set of consumers may hold unsettled (AMQP basic.qos global, the
// MQTT inflight window, a log-group member's prefetch). The counters are private so that every change goes
// through take/release/resize, and whoever waits for room (a queue's drain, a log cursor) hears of it.
//
// A group may sit under a parent (an AMQP connection over its channels' groups): it has credit only while the
// parent has, so holding the parent stops every consumer below it at once (credit flow to a socket that is not
// read). Takes and releases count in the group itself; the parent is a gate with its own limit and hold.

export class CreditGroup {
  #limit: number
  #used = 0
  /** Held: no credit whatever the counters say, until resume(). */
  #held = false
  readonly #parent: CreditGroup | undefined
  readonly #listeners = new Set<() => void>()

  /** limit 0 = unlimited. */
  constructor(limit: number, parent?: CreditGroup) {
    this.#limit = limit
    this.#parent = parent
  }

  get limit(): number {
    return this.#limit
  }

  get used(): number {
    return this.#used
  }

  get held(): boolean {
    return this.#held
  }

  get available(): boolean {
    if (this.#held || (this.#limit !== 0 && this.#used >= this.#limit)) return false
    return this.#parent?.available ?? true
  }

  /** Deliveries that still fit (Infinity when unlimited; never negative; 0 while this group or a parent is held). */
  get room(): number {
    if (this.#held) return 0
    const own = this.#limit === 0 ? Number.POSITIVE_INFINITY : Math.max(0, this.#limit - this.#used)
    return this.#parent === undefined ? own : Math.min(own, this.#parent.room)
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

  /** No credit for this group and every group below it until resume() (their counters stay as they are). */
  hold(): void {
    this.#held = true
  }

  /** Ends a hold; the listeners (this group's and those of the groups below) hear there may be room. */
  resume(): void {
    if (!this.#held) return
    this.#held = false
    this.#notify()
  }

  /** Called when room may have appeared here or in a parent; returns the unsubscribe function. */
  onRelease(listener: () => void): () => void {
    this.#listeners.add(listener)
    const offParent = this.#parent?.onRelease(listener)
    return () => {
      this.#listeners.delete(listener)
      offParent?.()
    }
  }

  #notify(): void {
    for (const listener of this.#listeners) listener()
  }
}
