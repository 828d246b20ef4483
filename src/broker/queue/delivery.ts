// Who gets which message next: the drain loop pushing to consumers (priority groups, round robin within
// one, single active consumer, credit) and long-poll pulls, the choice of the next deliverable message
// (priority partitions first, FIFO groups kept in order, expired ones dead-lettered) and the lease it is
// delivered under. Plain functions over QueueState (state.ts); Queue schedules drain() at most
// once per tick.

import { headerText, Reserved, type StoredMessage } from '../message.js'
import type { QueueConsumer } from './consumer.js'
import type { Lease, QueuePartition } from './partition.js'
import { expired, fill } from './read-ahead.js'
import { deadLetter, storeAckQuietly } from './settle.js'
import { bodySize, type QueueState, type Waiter, wantsRead } from './state.js'
import type { Delivery, GetOptions, Taker } from './types.js'

const GET_MAX = 10_000

/** Pull: takes up to `max` messages, waiting up to waitMs for the first one. */
export async function pull(s: QueueState, options: GetOptions): Promise<Delivery[]> {
  const max = Math.min(Math.max(options.max ?? 1, 1), GET_MAX)
  s.lastUsed = s.hooks.now()
  await Promise.all(s.partitions.map((p) => fill(s, p)))
  const taker: Taker = { owner: options.owner, leaseMs: options.leaseMs, noAck: options.noAck ?? false, consumer: null }
  const waiter: Waiter = { taker, max, taken: [], resolve: () => {}, timer: null }
  const taken = takeFor(s, waiter)
  if (taken.length > 0 || !options.waitMs || options.signal?.aborted) return taken
  return new Promise<Delivery[]>((resolve) => {
    waiter.resolve = (deliveries) => {
      if (waiter.timer) clearTimeout(waiter.timer)
      options.signal?.removeEventListener('abort', onAbort)
      const at = s.waiters.indexOf(waiter)
      if (at >= 0) s.waiters.splice(at, 1)
      resolve(deliveries)
    }
    const onAbort = () => waiter.resolve([])
    waiter.timer = setTimeout(() => waiter.resolve([]), options.waitMs)
    options.signal?.addEventListener('abort', onAbort, { once: true })
    s.waiters.push(waiter)
  })
}

export function drain(s: QueueState): void {
  if (s.deleted) return
  const touched: QueueConsumer[] = []
  // Long-poll waiters first: they are requests with a deadline.
  for (const waiter of [...s.waiters]) {
    const taken = takeFor(s, waiter)
    if (taken.length > 0) waiter.resolve(taken)
  }
  const consumers = s.consumers
  const n = s.config.singleActiveConsumer ? Math.min(consumers.length, 1) : consumers.length
  if (s.singleActives > 0) {
    // A JMS exclusive consumer: the first one (highest priority, then earliest) gets everything.
    const active = consumers.findIndex((c) => c.singleActive)
    serve(s, active, active + 1, touched)
  } else if (n > 0) {
    // Consumers are sorted by priority (addConsumer): equal ends mean one group, the common case.
    if (consumers[0]!.priority === consumers[n - 1]!.priority) serve(s, 0, n, touched)
    else servePriorities(s, n, touched)
  }
  for (const consumer of touched) {
    const batch = consumer.batch
    consumer.batch = []
    consumer.onDeliver(batch)
  }
  for (const p of s.partitions) if (wantsRead(p)) void fill(s, p)
}

/**
 * Round robin over consumers[start, end) from the one after s.rr (s.rr is left at the last one tried). True
 * when it stopped because every one of them is out of credit, false when the queue ran out of messages.
 */
function serve(s: QueueState, start: number, end: number, touched: QueueConsumer[]): boolean {
  const consumers = s.consumers
  const size = end - start
  let at = s.rr
  let idle = 0
  while (idle < size) {
    const before = at
    at = at < start || at + 1 >= end ? start : at + 1
    s.rr = at // next() rotates partitions by it too
    const consumer = consumers[at]!
    if (!consumer.hasCredit) {
      idle++
      continue
    }
    const delivery = next(s, consumer.taker)
    if (delivery === null) {
      // This consumer got nothing: its turn comes first next time (else, with two consumers and one
      // message per drain, the same one would get every message).
      s.rr = before
      return false
    }
    idle = 0
    if (consumer.batch.length === 0) touched.push(consumer)
    consumer.batch.push(delivery)
  }
  return true
}

/**
 * Mixed priorities: serves the highest group, and the next one down only once every consumer above is out
 * of credit. Each group keeps its own round-robin position, so falling through does not restart the rotation.
 */
function servePriorities(s: QueueState, n: number, touched: QueueConsumer[]): void {
  const consumers = s.consumers
  const turns = s.groupTurns
  if (turns.size > n) turns.clear() // priorities of consumers long gone
  for (let start = 0; start < n; ) {
    const priority = consumers[start]!.priority
    let end = start + 1
    while (end < n && consumers[end]!.priority === priority) end++
    s.rr = start + (turns.get(priority) ?? -1)
    const blocked = serve(s, start, end, touched)
    turns.set(priority, s.rr - start)
    if (!blocked) return
    start = end
  }
}

function takeFor(s: QueueState, waiter: Waiter): Delivery[] {
  const taken: Delivery[] = []
  while (taken.length < waiter.max) {
    const d = next(s, waiter.taker)
    if (d === null) break
    taken.push(d)
  }
  return taken
}

/** Chooses the next deliverable message (highest priority partition first) and leases it to the taker. */
function next(s: QueueState, taker: Taker): Delivery | null {
  const now = s.hooks.now()
  const parts = s.partitions
  const priority = s.config.maxPriority > 0
  for (let k = 0; k < parts.length; k++) {
    const p = priority ? parts[parts.length - 1 - k]! : parts[(s.rr + k) % parts.length]!
    const picked = pick(s, p, now)
    if (picked === null) continue
    return leaseMessage(s, p, picked, taker, now)
  }
  return null
}

/** A message chosen for delivery and how often it was delivered before. */
interface Picked {
  message: StoredMessage
  deliveryCount: number
}

function pick(s: QueueState, p: QueuePartition, now: number): Picked | null {
  while (p.returned.size > 0) {
    const entry = p.returned.peek()!
    if (s.config.fifo && groupBusy(s, entry.message!)) break
    p.returned.pop()
    if (s.cursors.isAcked(p.ackKey, entry.offset) || p.inflight.has(entry.offset)) continue
    if (expired(s, entry.message!, now)) {
      deadLetter(s, p, entry.message!, 'expired')
      continue
    }
    return { message: entry.message!, deliveryCount: entry.deliveryCount }
  }
  for (let i = 0; i < p.ready.length; i++) {
    const message = p.ready[i]!
    if (expired(s, message, now)) {
      p.takeReady(i--)
      deadLetter(s, p, message, 'expired')
      continue
    }
    if (s.config.fifo && (groupBusy(s, message) || groupReturned(p, message))) continue
    p.takeReady(i)
    return { message, deliveryCount: 0 }
  }
  return null
}

function groupBusy(s: QueueState, message: StoredMessage): boolean {
  const group = headerText(message.headers, Reserved.groupId)
  return group !== undefined && (s.busyGroups.get(group) ?? 0) > 0
}

function groupReturned(p: QueuePartition, message: StoredMessage): boolean {
  if (p.returned.size === 0 && p.cold.size === 0) return false
  const group = headerText(message.headers, Reserved.groupId)
  if (group === undefined) return false
  for (const entry of p.returned)
    if (entry.message && headerText(entry.message.headers, Reserved.groupId) === group) return true
  return p.cold.size > 0 // unknown groups of cold entries: be conservative, wait for them to load
}

function leaseMessage(s: QueueState, p: QueuePartition, picked: Picked, taker: Taker, now: number): Delivery {
  const { message, deliveryCount: previousCount } = picked
  // Read back from the log after a restart: the count stored then (queues with a delivery limit) goes on.
  const before =
    previousCount === 0 && p.recoveredCounts !== null ? p.takeRecoveredCount(message.offset) : previousCount
  const deliveryCount = before + 1
  const redelivered = deliveryCount > 1 || message.offset <= p.recoveredDeliveredMax
  if (message.offset > p.deliveredMax) p.deliveredMax = message.offset
  s.stats.delivered++
  const delivery: Delivery = {
    queue: s.name,
    partition: p.index,
    offset: message.offset,
    deliveryCount,
    redelivered,
    message,
    leaseId: s.hooks.leaseId(),
    deadline: null,
  }
  if (taker.noAck) {
    s.stats.acked++
    storeAckQuietly(s, p, message.offset, bodySize(message))
    return delivery
  }
  delivery.deadline = takeLease(s, p, delivery, taker, now)
  // Saved by the maintenance tick (saveCounts), so that the limit survives a restart; plain queues skip it.
  if (s.config.maxDeliveries !== null) {
    p.unsavedCounts ??= new Map()
    p.unsavedCounts.set(message.offset, deliveryCount)
  }
  return delivery
}

/** Puts a delivery that needs an ack in flight under the taker's lease; returns its deadline (null: until released). */
function takeLease(s: QueueState, p: QueuePartition, d: Delivery, taker: Taker, now: number): number | null {
  const effectiveLease = taker.leaseMs === undefined ? s.config.leaseMs : taker.leaseMs
  const deadline = effectiveLease === null ? null : now + effectiveLease
  const message = d.message
  const groupId = s.config.fifo ? headerText(message.headers, Reserved.groupId) : undefined
  const consumer = taker.consumer
  const lease: Lease = {
    id: d.leaseId,
    partition: p.index,
    offset: d.offset,
    owner: taker.owner,
    consumer,
    deadline,
    deliveryCount: d.deliveryCount,
    groupId,
    message,
    purged: false,
  }
  p.inflight.set(d.offset, lease)
  if (deadline !== null) s.leases.push({ deadline, lease })
  if (groupId !== undefined) s.busyGroups.set(groupId, (s.busyGroups.get(groupId) ?? 0) + 1)
  if (consumer !== null) {
    consumer.unacked++
    consumer.creditGroup?.take()
  }
  return deadline
}
