// A queue's read-ahead: reading the log into each partition's bounded `ready` list (asynchronous, one read
// per partition at a time), taking our own publishes straight in when caught up (offerTail), and sorting
// each message read into ready, delayed or dead (TTL). Plain functions over QueueState (state.ts).

import { headerNumber, Reserved, type StoredMessage } from '../message.js'
import type { QueuePartition } from './partition.js'
import { deadLetter, releaseHeld } from './settle.js'
import { type QueueState, READY_BYTES_MAX, READY_MAX } from './state.js'

/** Our own publish landed: take the messages straight into the read-ahead if we are caught up. */
export function offerTail(s: QueueState, partition: number, messages: StoredMessage[]): void {
  s.stats.published += messages.length
  const p = s.partitions[partition]
  if (p === undefined || messages.length === 0) return
  s.bytes?.offered(partition, messages)
  if (
    p.reading === null &&
    p.readOffset === messages[0]!.offset &&
    p.ready.length + messages.length <= READY_MAX &&
    p.readyBytes + bodiesOf(messages) <= READY_BYTES_MAX
  ) {
    for (const m of messages) admit(s, p, m)
    p.readOffset = messages[messages.length - 1]!.offset + 1
  }
  s.schedule()
}

function bodiesOf(messages: StoredMessage[]): number {
  let bytes = 0
  for (const m of messages) bytes += m.value?.length ?? 0
  return bytes
}

/** Whether the partition's read-ahead is full (by count or by bytes). */
function full(p: QueuePartition): boolean {
  return p.ready.length >= READY_MAX || p.readyBytes >= READY_BYTES_MAX
}

export function expired(s: QueueState, message: StoredMessage, now: number): boolean {
  const expiresAt = headerNumber(message.headers, Reserved.expiresAt)
  if (expiresAt !== undefined && expiresAt <= now) return true
  const ttl = s.config.messageTtlMs
  return ttl !== null && message.timestamp + ttl <= now
}

/** Puts a freshly read message where it belongs: ready, delayed or dead. */
function admit(s: QueueState, p: QueuePartition, message: StoredMessage): void {
  const now = s.hooks.now()
  const deliverAt = headerNumber(message.headers, Reserved.deliverAt)
  if (deliverAt !== undefined && deliverAt > now) p.delayed.push({ deliverAt, offset: message.offset })
  else if (expired(s, message, now)) deadLetter(s, p, message, 'expired')
  else p.pushReady(message)
}

export function fill(s: QueueState, p: QueuePartition): Promise<void> {
  if (p.reading !== null) return p.reading
  if (s.deleted || (p.cold.size === 0 && (full(p) || p.readOffset >= p.log.highWatermark))) {
    return Promise.resolve()
  }
  p.reading = (async () => {
    try {
      while (p.cold.size > 0) {
        const entry = p.cold.pop()!
        if (s.cursors.isAcked(p.ackKey, entry.offset) || p.inflight.has(entry.offset)) continue
        entry.message = await p.readOne(entry.offset, s.config.stream)
        if (entry.message !== null) p.returned.push(entry)
      }
      while (!full(p) && p.readOffset < p.log.highWatermark && !s.deleted) {
        const before = p.readOffset
        for (const message of await p.readChunk(s.cursors, s.config.stream)) {
          if (!p.inflight.has(message.offset)) admit(s, p, message)
        }
        if (p.readOffset === before) break
      }
    } catch (error) {
      // A read error (file gone after delete, I/O error) leaves the cursor where it was: retried on the next
      // tick. It is reported, never thrown: one queue's disk trouble must not take the process down.
      if (!s.deleted) s.hooks.warn?.('queue read failed', { queue: s.name, error: String(error) })
    } finally {
      p.reading = null
    }
    s.schedule()
  })()
  return p.reading
}

/**
 * Records another writer (e.g. a Kafka producer) appended up to `next`: counted, their held acks released,
 * read into the read-ahead on the next turn unless the queue's state was replaced (`current`) meanwhile.
 */
export function appendedByOthers(s: QueueState, partition: number, next: number, current: () => QueueState): void {
  const p = s.partitions[partition]!
  // Counted before held acks are released: their uncounting needs the records counted first.
  s.bytes?.appended(p.index)
  if (p.heldAcks.length > 0) releaseHeld(s, p, (offset) => offset < next)
  setImmediate(() => {
    if (current() !== s) return
    s.bytes?.catchUp(p.index)
    fill(s, p)
  })
}
