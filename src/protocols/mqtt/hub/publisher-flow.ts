// Publisher flow control across connections: subscribers whose socket write backlog is over half the limit
// are "congested", and publishers that find any are parked until every congested socket drains, or for one
// episode of flowStallMs at most. A subscriber still congested when an episode ends is marked stalled and
// stops holding publishers back until it drains (output.ts keeps it out of the set meanwhile).

/** A subscriber connection as flow control sees it. */
export interface FlowMember {
  /** The hub gave up waiting for it (flowStallMs): it stops pausing publishers until it catches up. */
  markStalled(): void
}

/** Longest a publisher is paused for congested subscribers, per episode. */
const flowStallMs = 500

export class PublisherFlow {
  /** Connections whose socket write backlog is over half the limit (they drop QoS 0 at the limit). */
  readonly congested = new Set<FlowMember>()
  /** Publishers paused until the congested set empties (or flowStallMs passes). */
  #waiters: Array<() => void> = []
  #timer: NodeJS.Timeout | null = null

  /**
   * Parks a publisher that found subscribers congested. It resumes when every congested socket has drained,
   * or after flowStallMs at the latest: one subscriber that stopped reading must not stop all publishing
   * (its QoS 0 messages are dropped at its write limit instead).
   */
  wait(resume: () => void): void {
    this.#waiters.push(resume)
    if (this.#timer === null) {
      this.#timer = setTimeout(() => this.#stalled(), flowStallMs)
      this.#timer.unref()
    }
  }

  decongested(connection: FlowMember): void {
    if (this.congested.delete(connection) && this.congested.size === 0) this.release()
  }

  /**
   * Subscribers still congested after a whole episode are not keeping up at all: stop holding publishers
   * back for them (their QoS 0 messages are dropped, QoS ≥ 1 ones wait up to their bound) until they drain.
   */
  #stalled(): void {
    for (const connection of this.congested) connection.markStalled()
    this.congested.clear()
    this.release()
  }

  /** Resumes every parked publisher and ends the episode. */
  release(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    const waiters = this.#waiters
    this.#waiters = []
    for (const resume of waiters) resume()
  }
}
