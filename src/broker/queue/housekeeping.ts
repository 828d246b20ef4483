// A queue's housekeeping, apart from delivery: the periodic tick (lease expiry, delayed messages coming
// due, TTL at the head, x-expires, saving deliveredMax and delivery counts), maxLength / maxLengthBytes
// trimming from the head (dead-lettered with reason maxlen) and purge. Plain functions over QueueState.

import type { StoredMessage } from '../message.js'
import { deliveredMaxKey, type Lease, type QueuePartition } from './partition.js'
import { expired, fill } from './read-ahead.js'
import * as acks from './settle.js'
import { ackFloorOf, bodySize, depthOf, pinLease, type QueueState, unackedInflightCount, wantsRead } from './state.js'

/** Periodic work: lease expiry, delayed messages, TTL at the head, unused-queue expiry. */
export function tick(s: QueueState, now: number): void {
  if (s.deleted) return
  let changed = false
  while (s.leases.size > 0 && s.leases.peek()!.deadline <= now) {
    const { deadline, lease } = s.leases.pop()!
    const p = s.partitions[lease.partition]!
    if (p.inflight.get(lease.offset) !== lease || lease.deadline !== deadline) continue
    acks.endLease(s, p, lease)
    if (!lease.purged) acks.requeueLease(s, p, lease)
    changed = true
  }
  for (const p of s.partitions) {
    while (p.delayed.size > 0 && p.delayed.peek()!.deliverAt <= now) {
      const { offset, deliveryCount } = p.delayed.pop()!
      p.cold.push({ offset, deliveryCount: deliveryCount ?? 0, message: null })
      changed = true
    }
    // TTL at the head even without consumers, as RabbitMQ does.
    while (p.ready.length > 0 && expired(s, p.ready[0]!, now)) {
      acks.deadLetter(s, p, p.takeReady(0), 'expired')
      changed = true
    }
    saveDeliveredMax(s, p)?.catch(() => {})
    saveCounts(s, p)?.catch((error) =>
      s.hooks.warn?.('saving delivery counts failed', { queue: s.name, error: String(error) }),
    )
    if (wantsRead(p)) void fill(s, p)
  }
  if (s.config.expiresMs !== null && s.consumers.length === 0 && now - s.lastUsed > s.config.expiresMs) {
    s.hooks.deleteQueue(s.queue, 'expires')
    return
  }
  if (changed) s.schedule()
}

/**
 * Persists the delivery counts leased since the last save (queues with a delivery limit), so that the limit
 * still applies after a restart. Saved once per maintenance tick, not per delivery: nothing waits for them,
 * and a crash loses at most the last tick's increments (those messages are redelivered with a lower count:
 * at-least-once, as RabbitMQ may after losing the tail of its log). A clean close saves them all
 * (saveDeliveryState). Also forgets stored counts that retention passed (never acked, never read again).
 */
export function saveCounts(s: QueueState, p: QueuePartition): Promise<void> | null {
  const pairs: number[] = []
  const unsaved = p.unsavedCounts
  if (unsaved !== null) {
    // Only durable offsets: one past the high watermark may belong to another record after a crash.
    const durable = p.log.highWatermark
    for (const [offset, count] of unsaved) {
      if (offset >= durable) continue
      unsaved.delete(offset)
      if (!s.cursors.isAcked(p.ackKey, offset)) pairs.push(offset, count)
    }
    if (unsaved.size === 0) p.unsavedCounts = null
  }
  const start = p.log.logStartOffset
  if (start > p.countsPrunedBelow) {
    p.countsPrunedBelow = start
    const stored = s.cursors.getDeliveryCounts(p.ackKey)
    if (stored !== undefined) for (const offset of stored.keys()) if (offset < start) pairs.push(offset, 0)
  }
  return pairs.length === 0 ? null : s.cursors.setDeliveryCounts(p.ackKey, pairs)
}

/** Persists how far deliveries of a partition got, when that moved; null when there is nothing to save. */
function saveDeliveredMax(s: QueueState, p: QueuePartition): Promise<void> | null {
  // Only durable offsets: one past the high watermark may be reused by another record after a crash.
  const durableMax = Math.min(p.deliveredMax, p.log.highWatermark - 1)
  if (durableMax <= p.deliveredMaxSaved) return null
  p.deliveredMaxSaved = durableMax
  return s.cursors.commitOffset(deliveredMaxKey(p.ackKey), durableMax)
}

/**
 * Persists what the tick has not saved yet (the broker calls it on close): how far deliveries got, so that
 * redeliveries after a restart are flagged (best effort), and the delivery counts.
 */
export async function saveDeliveryState(s: QueueState): Promise<void> {
  for (const p of s.partitions) {
    await saveCounts(s, p)
    await saveDeliveredMax(s, p)
  }
}

/** Removes every message that is not in flight. Returns how many were purged. */
export async function purge(s: QueueState): Promise<number> {
  const purged = depthOf(s) - unackedInflightCount(s)
  for (const p of s.partitions) {
    p.setReady([])
    p.returned.clear()
    p.cold.clear()
    p.delayed.clear()
    for (const lease of p.inflight.values()) lease.purged = true
    p.readOffset = p.log.highWatermark
    s.bytes?.purged(p.index)
    await s.cursors.advanceFloor(p.ackKey, p.log.highWatermark)
  }
  return Math.max(0, purged)
}

/**
 * One enforceMaxLength run (Queue serializes them): drops or dead-letters from the head until
 * within the limits; returns the pending acks of what it dropped.
 */
export async function trim(s: QueueState): Promise<Array<Promise<void>>> {
  await s.bytes?.settled()
  const { maxLength, maxLengthBytes, deadLetter } = s.config
  const bytes = s.bytes
  let excess = maxLength === null ? 0 : depthOf(s) - maxLength
  let excessBytes = bytes === null || maxLengthBytes === null ? 0 : bytes.total() - maxLengthBytes
  const stored: Array<Promise<void>> = []
  for (const p of s.partitions) {
    let offset = ackFloorOf(s, p.index)
    while ((excess > 0 || excessBytes > 0) && offset < p.log.highWatermark && !s.deleted) {
      const o = offset++
      if (p.inflight.has(o) || s.cursors.isAcked(p.ackKey, o)) continue
      // Pinned as in flight while it is read, dead-lettered and acked: no consumer gets it meanwhile.
      const { pin, held } = pinForDrop(s, p, o)
      let message = held
      try {
        if (message === null && (bytes !== null || deadLetter !== null)) message = await p.readOne(o, s.config.stream)
        if (message !== null && deadLetter !== null) {
          await s.hooks.deadLetter(s.queue, message, 'maxlen')
          s.stats.deadLettered++
        }
      } catch (error) {
        // Kept (redelivered later), never lost; the publish that triggered the trim sees the error.
        unpinToCold(p, pin)
        s.schedule()
        throw error
      }
      const size = message === null ? 0 : bodySize(message)
      excess--
      excessBytes -= size
      const ack = acks.storeAck(s, p, o, size).then(
        () => {
          if (p.inflight.get(o) === pin) p.inflight.delete(o)
        },
        (error) => {
          unpinToCold(p, pin)
          s.schedule()
          throw error
        },
      )
      ack.catch(() => {}) // awaited by the caller, unless a later drop throws first
      stored.push(ack)
    }
  }
  return stored
}

/** Pins an offset picked for dropping and takes it out of ready/returned/delayed; its message if held. */
function pinForDrop(s: QueueState, p: QueuePartition, offset: number): { pin: Lease; held: StoredMessage | null } {
  let held: StoredMessage | null = null
  let at = readyIndex(p.ready, offset)
  // The read-ahead is offset-ordered; should that ever not hold, a stale entry must still not survive.
  if (at < 0 && p.ready.length > 0 && offset >= p.ready[0]!.offset && offset <= p.ready.at(-1)!.offset)
    at = p.ready.findIndex((m) => m.offset === offset)
  if (at >= 0) held = p.takeReady(at)
  for (const entry of p.returned) {
    if (entry.offset !== offset) continue
    held ??= entry.message
    p.returned.removeWhere((r) => r.offset === offset)
    break
  }
  for (const entry of p.delayed) {
    if (entry.offset !== offset) continue
    p.delayed.removeWhere((d) => d.offset === offset)
    break
  }
  const pin = pinLease(
    s,
    p,
    held ?? { stream: s.config.stream, partition: p.index, offset, timestamp: 0, key: null, value: null, headers: [] },
  )
  p.inflight.set(offset, pin)
  return { pin, held }
}

/** Ends a drop pin that did not complete: the message goes back to be re-read and delivered. */
function unpinToCold(p: QueuePartition, pin: Lease): void {
  if (p.inflight.get(pin.offset) !== pin) return
  p.inflight.delete(pin.offset)
  p.cold.push({ offset: pin.offset, deliveryCount: 0, message: null })
}

/** Index of offset in the (offset-ordered) read-ahead, or -1. */
function readyIndex(ready: StoredMessage[], offset: number): number {
  let lo = 0
  let hi = ready.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const at = ready[mid]!.offset
    if (at === offset) return mid
    if (at < offset) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

/**
 * What a broker that stops serving a queue still owes: its acks in flight and its delivery state, durable,
 * before the next server reads them back (serveFrom in queue.ts).
 */
export function handOff(s: QueueState): Promise<void> {
  const pending = [...s.pendingAcks.values()].map((a) => a.promise)
  return Promise.allSettled([...pending, saveDeliveryState(s)]).then(() => s.cursors.flush())
}
