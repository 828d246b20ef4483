// QoS 1/2 deliveries of a session that ends with its connection (clean session / Session Expiry 0) waiting
// for a free slot in the client's inflight window. Such a session needs no durable queue — nothing of it
// survives a disconnect — so its messages come straight from the router (as Mosquitto keeps them in memory)
// and wait here, in order, bounded: beyond `max` the oldest is dropped (counted), as a full session queue
// drops its head.
import type { StoredMessage } from '../../../broker/message.js'
import type { DeliveryView } from '../wire/message.js'

export interface PendingDelivery {
  message: StoredMessage
  view: DeliveryView
  qos: 1 | 2
  retain: boolean
  ids: number[] | undefined
}

export class PendingDeliveries {
  #items: Array<PendingDelivery | undefined> = []
  #head = 0

  constructor(public max: number) {}

  get size(): number {
    return this.#items.length - this.#head
  }

  /** Appends; returns false when the oldest had to be dropped to make room. */
  push(item: PendingDelivery): boolean {
    this.#items.push(item)
    if (this.size <= this.max) return true
    this.shift()
    return false
  }

  shift(): PendingDelivery | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head++] = undefined
    // Compact once the consumed prefix dominates: amortised O(1).
    if (this.#head > 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  clear(): void {
    this.#items = []
    this.#head = 0
  }
}
