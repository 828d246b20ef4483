// Queue consumers with a message selector: a consumer only takes the ready or returned messages its selector
// matches and leaves the rest for others (a message no consumer selects stays in the queue, as in ActiveMQ).
// The search never leaves the partition's read-ahead (ready, bounded by READY_MAX and READY_BYTES_MAX) and
// its returned messages: it never reads the log for a selector.
import type { StoredMessage } from '../message.js'
import type { ConsumerSelector } from './consumer-selector.js'
import type { QueuePartition, Returned } from './partition.js'
import { expired } from './read-ahead.js'
import { deadLetter } from './settle.js'
import type { QueueState } from './state.js'

/**
 * Takes the returned message of lowest offset that the selector matches and `blocked` does not hold back
 * (FIFO groups); expired ones met on the way are dead-lettered, entries already settled or leased again are
 * dropped. O(returned), which is bounded by what was in flight.
 */
export function takeReturnedMatching(
  s: QueueState,
  p: QueuePartition,
  now: number,
  selector: ConsumerSelector,
  blocked: (message: StoredMessage) => boolean,
): Returned | null {
  const stale = (entry: Returned) => s.cursors.isAcked(p.ackKey, entry.offset) || p.inflight.has(entry.offset)
  for (;;) {
    let best: Returned | null = null
    let staleSeen = false
    for (const entry of p.returned) {
      const message = entry.message
      if (message === null || (best !== null && entry.offset >= best.offset)) continue
      if (stale(entry)) {
        staleSeen = true
        continue
      }
      if (blocked(message) || !selector.matches(message, entry.deliveryCount, true)) continue
      best = entry
    }
    const taken = best
    // Settled or re-leased entries go too: with only selective consumers nobody else would drop them.
    if (taken !== null || staleSeen) p.returned.removeWhere((entry) => entry === taken || stale(entry))
    if (taken === null) return null
    if (!expired(s, taken.message!, now)) return taken
    deadLetter(s, p, taken.message!, 'expired')
  }
}
