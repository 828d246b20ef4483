// What stands between a publish and a queue besides routing: the reservations that keep pipelined publishes
// from all passing the same length check, and the messages a queue drops while nobody consumes it.
import type { PublishMessage } from '../message.js'

export class PublishGate {
  /**
   * Publishes that passed the reject-publish length check but are not in the log yet: counted against the
   * limits, so a burst of pipelined publishes cannot all pass the same check (released when their append settles).
   */
  readonly reserved = { count: 0, bytes: 0 }
  readonly #consumers: () => number
  #idleDrop: ((message: PublishMessage) => boolean) | null = null

  constructor(consumers: () => number) {
    this.#consumers = consumers
  }

  /** Counts a checked publish against the limits until `settled` settles. */
  reserve(count: number, bytes: number, settled: Promise<unknown>): void {
    this.reserved.count += count
    this.reserved.bytes += bytes
    const release = () => {
      this.reserved.count -= count
      this.reserved.bytes -= bytes
    }
    settled.then(release, release)
  }

  /**
   * While the queue has no consumer, publishes `drop` selects are not stored in it (routed there all the same,
   * as far as the publisher knows): messages only worth delivering to a consumer that is there. Not durable:
   * the owner sets it again after a restart; null removes it.
   */
  dropWhileIdle(drop: ((message: PublishMessage) => boolean) | null): void {
    this.#idleDrop = drop
  }

  /** Whether a publish is not stored in the queue now (dropWhileIdle). */
  dropsIdle(message: PublishMessage): boolean {
    return this.#idleDrop !== null && this.#consumers() === 0 && this.#idleDrop(message)
  }
}
