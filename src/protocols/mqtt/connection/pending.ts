// QoS 1/2 deliveries of a session that ends with its connection (clean session / Session Expiry 0) waiting
// for a free slot in the client's inflight window. Such a session needs no durable queue — nothing of it
// survives a disconnect — so its messages come straight from the router (as Mosquitto keeps them in memory)
// and wait here, in order, bounded by count and by payload bytes. A message that would exceed either bound
// is dropped (counted) and the waiting ones kept, as Mosquitto's max_queued_messages / max_queued_bytes do:
// a client that does not acknowledge cannot make the broker hold more than the bounds.
import type { StoredMessage } from '../../../broker/message.js'
import type { DeliveryView } from '../wire/message.js'

export interface PendingDelivery {
  message: StoredMessage
  view: DeliveryView
  qos: 1 | 2
  retain: boolean
  ids: number[] | undefined
}

/** What a waiting message counts against the byte bound: its payload, as Mosquitto's max_queued_bytes. */
export function pendingBytes(item: PendingDelivery): number {
  return item.message.value?.length ?? 0
}

export class PendingDeliveries {
  #items: Array<PendingDelivery | undefined> = []
  #head = 0
  #bytes = 0

  constructor(
    readonly max: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.#items.length - this.#head
  }

  /** Payload bytes of the waiting messages. */
  get bytes(): number {
    return this.#bytes
  }

  /** Appends; returns false (and keeps nothing) when the message does not fit the bounds. */
  push(item: PendingDelivery): boolean {
    const bytes = pendingBytes(item)
    if (this.size >= this.max || this.#bytes + bytes > this.maxBytes) return false
    this.#items.push(item)
    this.#bytes += bytes
    return true
  }

  /** The oldest waiting delivery, left in place. */
  peek(): PendingDelivery | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined
  }

  shift(): PendingDelivery | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head++] = undefined
    if (item !== undefined) this.#bytes -= pendingBytes(item)
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
    this.#bytes = 0
  }
}
