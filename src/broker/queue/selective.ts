// Queue consumers with a message selector: a consumer only takes the ready or returned messages its selector
// matches and leaves the rest for others (a message no consumer selects stays in the queue, as in ActiveMQ).
// The search never leaves the partition's read-ahead (ready, bounded by READY_MAX and READY_BYTES_MAX) and
// its returned messages: it never reads the log for a selector. Each consumer remembers its verdict per
// message (by delivery count, since JMSXDeliveryCount may be selected on), so a message it skipped costs one
// lookup, not one evaluation, on every later pass.
import type { StoredMessage } from '../message.js'
import { compileSelector, type Selector } from '../selector/index.js'
import type { QueuePartition, Returned } from './partition.js'
import { expired } from './read-ahead.js'
import { deadLetter } from './settle.js'
import type { QueueState } from './state.js'

export class ConsumerSelector {
  readonly selector: Selector
  /** Per message: deliveryCount * 2 + 1 when selected, deliveryCount * 2 when not. */
  readonly #verdicts = new WeakMap<StoredMessage, number>()

  constructor(selector: Selector) {
    this.selector = selector
  }

  /** Whether the selector selects a message delivered `previousCount` times before. */
  matches(message: StoredMessage, previousCount: number): boolean {
    const cached = this.#verdicts.get(message)
    if (cached !== undefined && Math.floor(cached / 2) === previousCount) return cached % 2 === 1
    const selected = this.selector.matches(message, {
      deliveryCount: previousCount + 1,
      redelivered: previousCount > 0,
    })
    this.#verdicts.set(message, previousCount * 2 + (selected ? 1 : 0))
    return selected
  }
}

/** A consumer's selector from its options: a text is compiled with the default options; blank is none. */
export function consumerSelector(selector: string | Selector | undefined): ConsumerSelector | undefined {
  if (selector === undefined) return undefined
  const compiled = typeof selector === 'string' ? compileSelector(selector) : selector
  return compiled === undefined ? undefined : new ConsumerSelector(compiled)
}

/**
 * Takes the returned message of lowest offset that the selector matches and `blocked` does not hold back
 * (FIFO groups); expired ones met on the way are dead-lettered. Entries already settled or leased again stay
 * in the heap for the ordinary path to drop. O(returned), which is bounded by what was in flight.
 */
export function takeReturnedMatching(
  s: QueueState,
  p: QueuePartition,
  now: number,
  selector: ConsumerSelector,
  blocked: (message: StoredMessage) => boolean,
): Returned | null {
  for (;;) {
    let best: Returned | null = null
    for (const entry of p.returned) {
      const message = entry.message
      if (message === null || (best !== null && entry.offset >= best.offset)) continue
      if (s.cursors.isAcked(p.ackKey, entry.offset) || p.inflight.has(entry.offset)) continue
      if (blocked(message) || !selector.matches(message, entry.deliveryCount)) continue
      best = entry
    }
    if (best === null) return null
    const taken = best
    p.returned.removeWhere((entry) => entry === taken)
    if (!expired(s, taken.message!, now)) return taken
    deadLetter(s, p, taken.message!, 'expired')
  }
}
