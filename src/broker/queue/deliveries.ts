// Settling deliveries by reference, for adapters: a Delivery (or a DeliveryRef decoded from an SQS receipt
// handle) is the handle, so no adapter keeps its own (queue, partition, offset, lease) tuple or key format.
// Lease ids are unique per broker, so a reference to a deleted queue's delivery never settles a lease of a
// queue re-created under the same name.
import type { Queue } from './queue.js'
import type { DeliveryRef, MessageRef } from './types.js'

/**
 * A delivered message's one stable string form: queue, partition and offset, not the lease, so it stays the
 * same across redeliveries and restarts (MQTT's durable packet ids, SQS first-receive times).
 */
export function deliveryKey(ref: MessageRef): string {
  return `${ref.queue}\u0000${ref.partition}\u0000${ref.offset}`
}

export class Deliveries {
  readonly #queue: (name: string) => Queue | undefined

  constructor(queue: (name: string) => Queue | undefined) {
    this.#queue = queue
  }

  /** Acks a delivery; resolves when the ack is durable. False if the lease is unknown or stale. */
  ack(ref: DeliveryRef): Promise<boolean> {
    const queue = this.#queue(ref.queue)
    return queue === undefined ? Promise.resolve(false) : queue.ack(ref.partition, ref.offset, ref.leaseId)
  }

  /**
   * ack() for callers that do not wait for durability (the client was answered already): no promise per
   * call. A failed ack store is harmless here too: the message is redelivered. False if unknown or stale.
   */
  settle(ref: DeliveryRef): boolean {
    return this.#queue(ref.queue)?.settle(ref.partition, ref.offset, ref.leaseId) ?? false
  }

  /** Returns (requeue) or dead-letters/drops a delivery. False if the lease is unknown or stale. */
  nack(ref: DeliveryRef, requeue: boolean): boolean {
    return this.#queue(ref.queue)?.nack(ref.partition, ref.offset, requeue, ref.leaseId) ?? false
  }

  /**
   * Returns a delivery as not delivered (AMQP 1.0 released): its delivery count is not raised, so neither the
   * delivery limit nor the redelivery delay applies. False if the lease is unknown or stale.
   */
  release(ref: DeliveryRef): boolean {
    return this.#queue(ref.queue)?.release(ref.partition, ref.offset, ref.leaseId) ?? false
  }

  /** Moves a lease's deadline to leaseMs from now (SQS ChangeMessageVisibility); 0 makes it available now. */
  extend(ref: DeliveryRef, leaseMs: number): boolean {
    return this.#queue(ref.queue)?.extend(ref.partition, ref.offset, leaseMs, ref.leaseId) ?? false
  }
}
