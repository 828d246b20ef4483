// Settling a queue's deliveries: ack / settle / nack / extend, ending leases (requeue or dead-letter), acks
// coalesced into cursor-store writes, acks of early-delivered records held until the log is durable past
// them, and retracting offered records whose append failed. Plain functions over QueueState (state.ts).
import { assert } from '../../util/assert.js'
import type { QueueConfig } from '../config.js'
import type { DeathReason, StoredMessage } from '../message.js'
import type { HeldAck, Lease, QueuePartition } from './partition.js'
import { bodySize, pinLease, type QueueState } from './state.js'

/** Acks one delivery; resolves when the ack is durable. False if the lease is unknown or stale. */
export function ack(s: QueueState, partition: number, offset: number, leaseId?: number): Promise<boolean> {
  const p = s.partitions[partition]
  const lease = p?.inflight.get(offset)
  if (p === undefined || lease === undefined || (leaseId !== undefined && lease.id !== leaseId)) {
    return Promise.resolve(false)
  }
  endLease(s, p, lease)
  s.stats.acked++
  return storeAck(s, p, offset, bodySize(lease.message)).then(() => true)
}

/**
 * ack() for callers that do not wait for durability (the client was answered already, e.g. an MQTT
 * PUBACK from a subscriber): no promise per call. A failed ack store is harmless here, as for ack():
 * the message is redelivered. False if the lease is unknown or stale.
 */
export function settle(s: QueueState, partition: number, offset: number, leaseId?: number): boolean {
  const p = s.partitions[partition]
  const lease = p?.inflight.get(offset)
  if (p === undefined || lease === undefined || (leaseId !== undefined && lease.id !== leaseId)) return false
  endLease(s, p, lease)
  s.stats.acked++
  storeAckQuietly(s, p, offset, bodySize(lease.message))
  return true
}

/** Returns (requeue) or dead-letters/drops a delivery. False if the lease is unknown or stale. */
export function nack(s: QueueState, partition: number, offset: number, requeue: boolean, leaseId?: number): boolean {
  const p = s.partitions[partition]
  const lease = p?.inflight.get(offset)
  if (p === undefined || lease === undefined || (leaseId !== undefined && lease.id !== leaseId)) return false
  endLease(s, p, lease)
  if (lease.purged) return true
  if (requeue) requeueLease(s, p, lease)
  else deadLetter(s, p, lease.message, 'rejected')
  s.schedule()
  return true
}

/**
 * Returns a delivery as never delivered (AMQP 1.0 `released`): its count goes back to the one before this
 * delivery, so it neither counts toward maxDeliveries nor waits a redelivery delay. False if unknown or stale.
 */
export function release(s: QueueState, partition: number, offset: number, leaseId?: number): boolean {
  const p = s.partitions[partition]
  const lease = p?.inflight.get(offset)
  if (p === undefined || lease === undefined || (leaseId !== undefined && lease.id !== leaseId)) return false
  endLease(s, p, lease)
  if (lease.purged) return true
  const deliveryCount = lease.deliveryCount - 1
  if (s.config.maxDeliveries !== null) {
    p.unsavedCounts ??= new Map()
    p.unsavedCounts.set(offset, deliveryCount)
  }
  p.returned.push({ offset, deliveryCount, message: lease.message })
  s.schedule()
  return true
}

/** Changes a lease's deadline (SQS ChangeMessageVisibility); 0 makes the message available now. */
export function extend(s: QueueState, partition: number, offset: number, leaseMs: number, leaseId?: number): boolean {
  const p = s.partitions[partition]
  const lease = p?.inflight.get(offset)
  if (p === undefined || lease === undefined || (leaseId !== undefined && lease.id !== leaseId)) return false
  if (leaseMs <= 0) return nack(s, partition, offset, true, leaseId)
  lease.deadline = s.hooks.now() + leaseMs
  s.leases.push({ deadline: lease.deadline, lease })
  return true
}

/** Returns every lease held by an owner (redelivered later); how many. */
export function releaseLeases(s: QueueState, owner: string): number {
  let released = 0
  for (const p of s.partitions) {
    for (const lease of [...p.inflight.values()]) {
      if (lease.owner !== owner) continue
      endLease(s, p, lease)
      if (!lease.purged) requeueLease(s, p, lease)
      released++
    }
  }
  return released
}

/**
 * An append whose records were offered before they were durable failed: forget every record from
 * fromOffset on (ready, returned, in flight, held acks). They were never stored; the log reuses the offsets.
 */
export function retract(s: QueueState, partition: number, fromOffset: number): void {
  const p = s.partitions[partition]
  if (p === undefined) return
  s.bytes?.retract(partition, fromOffset)
  p.setReady(p.ready.filter((m) => m.offset < fromOffset))
  p.returned.removeWhere((e) => e.offset >= fromOffset)
  p.cold.removeWhere((e) => e.offset >= fromOffset)
  p.delayed.removeWhere((e) => e.offset >= fromOffset)
  // Never stored: the log hands these offsets to other records, which must not inherit their counts.
  if (p.unsavedCounts !== null)
    for (const offset of p.unsavedCounts.keys()) if (offset >= fromOffset) p.unsavedCounts.delete(offset)
  for (const lease of [...p.inflight.values()]) if (lease.offset >= fromOffset) endLease(s, p, lease)
  releaseHeld(s, p, (offset) => offset < fromOffset, false)
  if (p.readOffset > fromOffset) p.readOffset = fromOffset
  s.schedule()
}

/** Releases held acks matching test: stored (store) or dropped (their records were retracted). */
export function releaseHeld(s: QueueState, p: QueuePartition, test: (offset: number) => boolean, store = true): void {
  const kept: HeldAck[] = []
  for (const held of p.heldAcks) {
    if (store !== test(held.offset)) kept.push(held)
    else if (store) {
      const stored = queueAck(s, p, held.offset, held.size)
      held.done?.(stored)
    } else held.done?.(undefined)
  }
  p.heldAcks = kept
}

export function endLease(s: QueueState, p: QueuePartition, lease: Lease): void {
  const removed = p.inflight.delete(lease.offset)
  assert(removed, 'ending a lease that is not in flight')
  if (lease.groupId !== undefined) {
    const n = (s.busyGroups.get(lease.groupId) ?? 1) - 1
    if (n <= 0) s.busyGroups.delete(lease.groupId)
    else s.busyGroups.set(lease.groupId, n)
  }
  if (lease.group !== undefined) s.groups.settled(lease.group)
  if (lease.consumer !== null) {
    lease.consumer.unacked--
    lease.consumer.creditGroup?.release()
  }
  s.schedule()
}

/** Returns an ended lease's message for redelivery, or dead-letters it past maxDeliveries. */
export function requeueLease(s: QueueState, p: QueuePartition, lease: Lease): void {
  const limit = s.config.maxDeliveries
  if (limit !== null && lease.deliveryCount >= limit) {
    deadLetter(s, p, lease.message, 'delivery_limit')
    return
  }
  const delay = redeliveryDelay(s.config, lease.deliveryCount)
  if (delay > 0) {
    // Waits among the delayed offsets (the message is re-read when due), keeping its delivery count.
    p.delayed.push({ deliverAt: s.hooks.now() + delay, offset: lease.offset, deliveryCount: lease.deliveryCount })
    return
  }
  p.returned.push({ offset: lease.offset, deliveryCount: lease.deliveryCount, message: lease.message })
}

/** How long a message delivered `deliveries` times waits before its next delivery (queue's redelivery policy). */
export function redeliveryDelay(config: QueueConfig, deliveries: number): number {
  const initial = config.redeliveryDelayMs
  if (initial <= 0) return 0
  const delay = initial * config.redeliveryBackoff ** Math.max(0, deliveries - 1)
  return Math.min(Math.round(delay), config.redeliveryDelayMaxMs)
}

/** Dead-letters (or drops) a message, then acks it; the offset is pinned meanwhile so it is not redelivered. */
export function deadLetter(s: QueueState, p: QueuePartition, message: StoredMessage, reason: DeathReason): void {
  s.stats.deadLettered++
  const pin = pinLease(s, p, message)
  p.inflight.set(message.offset, pin)
  const target = s.config.deadLetter === null ? Promise.resolve() : s.hooks.deadLetter(s.queue, message, reason)
  target
    .then(() => storeAck(s, p, message.offset, bodySize(message)))
    .then(
      () => {
        if (p.inflight.get(message.offset) === pin) p.inflight.delete(message.offset)
      },
      () => {
        // Dead-lettering failed: keep the message (returned), never lose it.
        if (p.inflight.get(message.offset) === pin) p.inflight.delete(message.offset)
        p.returned.push({ offset: message.offset, deliveryCount: 0, message })
        s.schedule()
      },
    )
}

/** Acks are coalesced per partition per tick into one cursor-store write. size: the body bytes. */
export function storeAck(s: QueueState, p: QueuePartition, offset: number, size: number): Promise<void> {
  if (offset >= p.log.highWatermark) {
    // Delivered before durable: storing the ack now could, after a crash, ack whatever record reuses the
    // offset. Held until the log is durable past it.
    const held = new Promise<void>((resolve) => {
      p.heldAcks.push({ offset, size, done: (stored) => resolve(stored) })
    })
    held.catch(() => {})
    return held
  }
  return queueAck(s, p, offset, size)
}

/** storeAck() for callers that do not wait: no promise for a held ack. */
export function storeAckQuietly(s: QueueState, p: QueuePartition, offset: number, size: number): void {
  if (offset >= p.log.highWatermark) p.heldAcks.push({ offset, size, done: null })
  else queueAck(s, p, offset, size)
}

/** Joins this tick's cursor-store write of the partition's acks. */
function queueAck(s: QueueState, p: QueuePartition, offset: number, size: number): Promise<void> {
  let pending = s.pendingAcks.get(p)
  if (pending === undefined) {
    const offsets: number[] = []
    const sizes: number[] = []
    const promise = Promise.resolve().then(() => {
      s.pendingAcks.delete(p)
      s.bytes?.acking(p.index, offsets, sizes)
      return s.cursors.ack(p.ackKey, offsets)
    })
    // settle() callers do not wait: a failure must not become an unhandled rejection (ack() callers
    // still see it through their own then).
    promise.catch(() => {})
    pending = { offsets, sizes, promise }
    s.pendingAcks.set(p, pending)
  }
  pending.offsets.push(offset)
  pending.sizes.push(size)
  return pending.promise
}
