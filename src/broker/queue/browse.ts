// Queue browsing (JMS QueueBrowser, STOMP `browser:true`, AMQP 1.0 `distribution-mode: copy`): the
// messages a queue still holds, read from the log without leasing them, so browsing changes nothing.
// A page is a bounded read (messages and body bytes) from a position per partition, starting at the ack
// floor and skipping acked offsets; the caller passes `next` back for the following page. Messages in
// flight are shown (they are not acked yet); expired ones and delayed ones not yet due are not.
import { headerNumber, Reserved, type StoredMessage } from '../message.js'
import { storedOf } from '../stream/stored.js'
import type { Queue } from './queue.js'
import { atServer } from './remote.js'
import type { BrowseOptions, BrowsePage } from './types.js'

export type { BrowseOptions, BrowsePage }

export const BROWSE_MAX = 10_000
const READ_BYTES = 256 * 1024

/**
 * A page of the queue as the broker serving it has it: on a cluster another broker's view of the log and of the
 * acks is behind, so a queue served elsewhere is browsed there.
 */
export function browse(queue: Queue, options: BrowseOptions = {}): Promise<BrowsePage> {
  return atServer(queue.server, (remote) => (remote === null ? browseHere(queue, options) : remote.browse(options)))
}

/** A page read from this broker's log and acks (the broker serving the queue). */
export async function browseHere(queue: Queue, options: BrowseOptions = {}): Promise<BrowsePage> {
  const max = Math.min(Math.max(Math.floor(options.max ?? 100), 1), BROWSE_MAX)
  const maxBytes = Math.max(options.maxBytes ?? 1024 * 1024, 1)
  const now = options.now ?? Date.now()
  const parts = queue.partitions
  const position = parts.map((p, i) => Math.max(options.from?.[i] ?? 0, queue.ackFloor(i), p.log.logStartOffset))
  // Priority queues: the highest priority partition first, the order consumers would get them in.
  const order = parts.map((_, i) => i)
  if (queue.config.maxPriority > 0) order.reverse()
  const messages: StoredMessage[] = []
  let bytes = 0
  let full = false
  for (const i of order) {
    const p = parts[i]!
    while (!full && position[i]! < p.log.highWatermark) {
      const { records, nextOffset } = await p.log.readRecords(position[i]!, READ_BYTES)
      if (records.length === 0) {
        position[i] = Math.max(nextOffset, position[i]! + 1)
        continue
      }
      const stored = storedOf(
        queue.streamName,
        i,
        records,
        (offset) => offset < position[i]! || queue.isAcked(i, offset),
      )
      position[i] = nextOffset
      for (let k = 0; k < stored.length; k++) {
        const m = stored[k]!
        const size = m.value?.length ?? 0
        if (messages.length >= max || (messages.length > 0 && bytes + size > maxBytes)) {
          position[i] = m.offset
          full = true
          break
        }
        if (!visible(m, now)) continue
        messages.push(m)
        bytes += size
      }
    }
    if (full) break
  }
  const done = parts.every((p, i) => position[i]! >= p.log.highWatermark)
  return { messages, next: done ? null : position }
}

function visible(m: StoredMessage, now: number): boolean {
  const expiresAt = headerNumber(m.headers, Reserved.expiresAt)
  if (expiresAt !== undefined && expiresAt <= now) return false
  const deliverAt = headerNumber(m.headers, Reserved.deliverAt)
  return deliverAt === undefined || deliverAt <= now
}
