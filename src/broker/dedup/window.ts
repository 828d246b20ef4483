// Message-id deduplication for one stream (SQS FIFO MessageDeduplicationId: 5 minutes; AMQP/MQTT message ids when
// a stream is configured for it). A publish whose id was recorded within the window is answered with the original
// (partition, offset) instead of being appended. Memory is bounded by an entry cap with oldest-first eviction.
//
// Layout: a Map id → entry for O(1) lookup, plus a FIFO of entries in record order for O(1) expiry and eviction
// from the front. Re-recording an id marks its old FIFO node dead instead of searching the FIFO for it; dead nodes
// are dropped when they reach the front, and the FIFO is compacted if they pile up, so every operation is amortized
// O(1) and no call scans the window. (A Map alone is not enough: V8 leaves deleted slots in place until a rehash, and
// a fresh iterator from the front walks over them, so repeated front deletions would cost O(n) each.)
import { assert } from '../../util/assert.js'
import { WharfError } from '../../util/errors.js'

export interface DedupOptions {
  /** How long an id suppresses duplicates (ms); SQS FIFO uses 5 minutes. */
  windowMs?: number
  /**
   * Ids kept at most; past it the oldest are evicted even if their window has not ended, so a duplicate of an
   * evicted (very old, under heavy load) id gets through. This trades exactness for a memory bound.
   */
  maxEntries?: number
  /** Longest id accepted (UTF-16 units); SQS allows 128 characters, AMQP message-id is a 255-byte shortstr. */
  maxIdLength?: number
}

export const DEFAULT_DEDUP_WINDOW_MS = 5 * 60 * 1000
export const DEFAULT_DEDUP_MAX_ENTRIES = 100_000
export const DEFAULT_DEDUP_MAX_ID_LENGTH = 1024

export interface DedupEntry {
  id: string
  partition: number
  offset: number
  timestamp: number
}

export type DedupCheck = { duplicate: true; partition: number; offset: number } | { duplicate: false }

const NOT_DUPLICATE: DedupCheck = Object.freeze({ duplicate: false })
// Compact the FIFO once its consumed prefix is at least this long and at least half of the array.
const COMPACT_MIN = 1024

interface Node extends DedupEntry {
  /** False once the id was re-recorded, expired or evicted: the FIFO skips it. */
  live: boolean
}

export class DedupWindow {
  readonly windowMs: number
  readonly maxEntries: number
  readonly maxIdLength: number
  readonly #byId = new Map<string, Node>()
  /** Record order; slots before #head are consumed. Holds live and dead nodes. */
  #fifo: (Node | undefined)[] = []
  #head = 0

  constructor(options: DedupOptions = {}) {
    this.windowMs = positiveInt(options.windowMs ?? DEFAULT_DEDUP_WINDOW_MS, 'windowMs')
    this.maxEntries = positiveInt(options.maxEntries ?? DEFAULT_DEDUP_MAX_ENTRIES, 'maxEntries')
    this.maxIdLength = positiveInt(options.maxIdLength ?? DEFAULT_DEDUP_MAX_ID_LENGTH, 'maxIdLength')
  }

  /** Ids currently remembered (some may have outlived the window until expire() runs; check() ignores those). */
  get size(): number {
    return this.#byId.size
  }

  /** Diagnostic: nodes in the expiry FIFO, live and superseded; at most 2 * size + 1024 after any call. */
  get queued(): number {
    return this.#fifo.length - this.#head
  }

  /** Whether id was recorded within the window before now. Changes nothing observable. */
  check(id: string, now: number): DedupCheck {
    this.#checkId(id)
    const node = this.#byId.get(id)
    if (node === undefined || now - node.timestamp >= this.windowMs) return NOT_DUPLICATE
    return { duplicate: true, partition: node.partition, offset: node.offset }
  }

  /** Remembers id as published at (partition, offset); a later record of the same id replaces the earlier one. */
  record(id: string, partition: number, offset: number, timestamp: number): void {
    this.#checkId(id)
    assert(Number.isInteger(partition) && partition >= 0, 'partition must be a non-negative integer')
    assert(Number.isSafeInteger(offset) && offset >= 0, 'offset must be a non-negative integer')
    assert(Number.isFinite(timestamp), 'timestamp must be finite')
    const previous = this.#byId.get(id)
    if (previous !== undefined) previous.live = false
    const node: Node = { id, partition, offset, timestamp, live: true }
    this.#byId.set(id, node)
    this.#fifo.push(node)
    while (this.#byId.size > this.maxEntries) this.#dropFront()
    this.#maybeCompact()
    assert(this.#byId.size <= this.maxEntries, 'dedup window over its cap')
  }

  /**
   * Forgets ids whose window ended by now, oldest first; returns how many. Stops at the first live id still inside
   * its window: with record timestamps out of order (several partitions, clock steps) a later-recorded id with an
   * older timestamp lingers until those before it expire. It is never reported as a duplicate (check() compares
   * timestamps itself) and the entry cap still bounds it.
   */
  expire(now: number): number {
    let expired = 0
    for (;;) {
      const node = this.#fifo[this.#head]
      if (node === undefined) break
      if (node.live && now - node.timestamp < this.windowMs) break
      if (node.live) expired++
      this.#dropFront()
    }
    return expired
  }

  /**
   * Replaces the contents with entries recovered after a restart (the broker scans the records of the last window
   * for the `wharf.dedup` header). Entries are ordered by timestamp first, because per-partition scans interleave;
   * for equal timestamps the later entry wins. With now, entries already outside the window are skipped, and so are
   * ids that check() would reject (empty or longer than maxIdLength).
   */
  rebuild(entries: Iterable<DedupEntry>, now?: number): void {
    this.#byId.clear()
    this.#fifo = []
    this.#head = 0
    this.absorb(entries, now)
  }

  /** Adds entries read from the log (as rebuild() does, without forgetting what the window holds). */
  absorb(entries: Iterable<DedupEntry>, now?: number): void {
    const sorted = [...entries].sort((a, b) => a.timestamp - b.timestamp) // stable: equal timestamps keep order
    for (const e of sorted) {
      if (now !== undefined && now - e.timestamp >= this.windowMs) continue
      // The log is the truth and may hold ids check() would refuse (e.g. a raw Kafka record carrying a wharf.dedup
      // header): skip them rather than make every later rebuild of this stream fail.
      if (!this.#validId(e.id)) continue
      this.record(e.id, e.partition, e.offset, e.timestamp)
    }
  }

  // Removes the front FIFO node, forgetting its id if it is still the live record of it.
  #dropFront(): void {
    const node = this.#fifo[this.#head]
    assert(node !== undefined, 'FIFO underflow')
    this.#fifo[this.#head] = undefined
    this.#head++
    if (node.live) {
      node.live = false
      assert(this.#byId.get(node.id) === node, 'a live node is the map entry of its id')
      this.#byId.delete(node.id)
    }
    if (this.#head === this.#fifo.length) {
      this.#fifo = []
      this.#head = 0
    } else if (this.#head >= COMPACT_MIN && this.#head * 2 >= this.#fifo.length) {
      this.#fifo = this.#fifo.slice(this.#head)
      this.#head = 0
    }
  }

  // Re-recorded ids leave dead nodes behind; rebuild the FIFO once they outnumber the live ones, so its length
  // stays within twice the entry count (plus a constant) however often ids repeat.
  #maybeCompact(): void {
    const length = this.#fifo.length - this.#head
    if (length < COMPACT_MIN || length <= 2 * this.#byId.size) return
    const compacted: Node[] = []
    for (let i = this.#head; i < this.#fifo.length; i++) {
      const node = this.#fifo[i]
      if (node?.live) compacted.push(node)
    }
    this.#fifo = compacted
    this.#head = 0
  }

  #validId(id: unknown): id is string {
    return typeof id === 'string' && id.length > 0 && id.length <= this.maxIdLength
  }

  #checkId(id: string): void {
    if (!this.#validId(id)) {
      throw new WharfError('INVALID_ARGUMENT', `dedup id must be 1..${this.maxIdLength} characters`)
    }
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new WharfError('INVALID_CONFIG', `dedup ${name} must be a positive integer, got ${value}`)
  }
  return value
}
