// The running body-byte count behind x-max-length-bytes (QueueBytes): kept apart from the queue so the
// subscription only reports offers, appends and acks to it, and the counting rules live in one place.
import type { CursorStore, PartitionLog } from '../../storage/api.js'

const SCAN_BYTES = 1024 * 1024

interface PartitionBytes {
  log: PartitionLog
  ackKey: string
  /** Every offset below `to` was counted when `to` passed it (unless already acked then). */
  to: number
  logStart: number
  bytes: number
  /** Body sizes of records offered from tailFrom on that `to` has not reached (usually not yet durable). */
  tailFrom: number
  tail: number[]
  scan: Promise<void> | null
  generation: number
}

/**
 * Body bytes of a queue's messages for x-max-length-bytes, kept as a running sum: no scan per publish.
 * It counts what depth() counts: unacked offsets below the high watermark (ready, in flight and delayed
 * messages that are durable), so maxLength and maxLengthBytes agree on what is in the queue. (RabbitMQ
 * counts ready messages only for both limits; Wharf's maxLength already counts in-flight ones too.)
 * An offset is added once, when `to` passes it (it is durable then), and subtracted once, when it is first
 * acked in the cursor store below `to` (`acking` runs just before every cursor-store ack): both test the
 * cursor store, so an ack racing the count is neither lost nor counted twice. Sizes come from the records
 * the queue is offered as they are appended; records that were never offered (appended by others, e.g.
 * Kafka produce, or before a restart) are read back from the log once.
 */
export class QueueBytes {
  #total = 0
  #closed = false
  readonly #parts: PartitionBytes[]
  readonly #cursors: CursorStore
  readonly #warn: (message: string, details?: Record<string, unknown>) => void

  constructor(
    partitions: ReadonlyArray<{ log: PartitionLog; ackKey: string }>,
    cursors: CursorStore,
    warn: (message: string, details?: Record<string, unknown>) => void,
  ) {
    this.#cursors = cursors
    this.#warn = warn
    this.#parts = partitions.map(({ log, ackKey }) => {
      const s: PartitionBytes = {
        log,
        ackKey,
        to: 0,
        logStart: 0,
        bytes: 0,
        tailFrom: 0,
        tail: [],
        scan: null,
        generation: 0,
      }
      this.#restart(s)
      return s
    })
  }

  /** The current sum. */
  total(): number {
    for (const s of this.#parts) if (s.log.logStartOffset > s.logStart) this.#logStartMoved(s)
    return this.#total
  }

  /**
   * Work-queue retention only deletes acked records: nothing counted went. Anything else (Kafka
   * DeleteRecords on the queue's stream) may have deleted counted records: that partition starts over.
   */
  #logStartMoved(s: PartitionBytes): void {
    const logStart = s.log.logStartOffset
    if ((this.#cursors.getAcks(s.ackKey)?.floor ?? 0) < logStart) {
      this.#restart(s)
      return
    }
    s.logStart = logStart
    if (s.to < logStart) {
      s.to = logStart
      this.#advance(s)
    }
  }

  /** Resolves once no partition is being read back (the sum is complete up to the high watermarks). */
  async settled(): Promise<void> {
    for (const s of this.#parts) {
      for (let scan = s.scan; scan !== null; scan = s.scan === scan ? null : s.scan) await scan
    }
  }

  get counting(): boolean {
    return this.#parts.some((s) => s.scan !== null)
  }

  /** Records appended to a partition (offsets contiguous): counted now if durable, else when they are. */
  offered(partition: number, messages: ReadonlyArray<{ offset: number; value: Buffer | null }>): void {
    const s = this.#parts[partition]
    if (s === undefined) return
    const hw = s.log.highWatermark
    for (const m of messages) {
      if (m.offset < s.to) continue
      if (m.offset === s.to && m.offset < hw) {
        this.#count(s, m.offset, m.value?.length ?? 0)
        continue
      }
      if (m.offset !== s.tailFrom + s.tail.length) {
        s.tailFrom = m.offset
        s.tail = []
      }
      s.tail.push(m.value?.length ?? 0)
    }
    this.#advance(s)
  }

  /** The high watermark moved: counts the offered records it passed. */
  appended(partition: number): void {
    const s = this.#parts[partition]
    if (s !== undefined) this.#advance(s)
  }

  #advance(s: PartitionBytes): void {
    const hw = s.log.highWatermark
    while (s.to < hw && s.to >= s.tailFrom && s.to < s.tailFrom + s.tail.length) {
      this.#count(s, s.to, s.tail[s.to - s.tailFrom]!)
    }
    if (s.to >= s.tailFrom + s.tail.length) {
      s.tailFrom = s.to
      s.tail = []
    } else if (s.to > s.tailFrom) {
      s.tail.splice(0, s.to - s.tailFrom)
      s.tailFrom = s.to
    }
  }

  /** After appends had their chance to be offered: reads back what never was (others' appends). */
  catchUp(partition: number): void {
    const s = this.#parts[partition]
    if (s === undefined) return
    this.#advance(s)
    if (s.to < s.log.highWatermark && s.scan === null && !this.#closed) s.scan = this.#scan(s, s.generation)
  }

  /** Called right before `offsets` are acked in the cursor store; sizes[i] is the body size of offsets[i]. */
  acking(partition: number, offsets: readonly number[], sizes: readonly number[]): void {
    const s = this.#parts[partition]
    if (s === undefined) return
    for (let i = 0; i < offsets.length; i++) {
      const offset = offsets[i]!
      if (offset < s.to && !this.#cursors.isAcked(s.ackKey, offset)) {
        s.bytes -= sizes[i]!
        this.#total -= sizes[i]!
      }
    }
  }

  /** The ack floor was moved to the high watermark (purge): nothing counted is left. */
  purged(partition: number): void {
    const s = this.#parts[partition]
    if (s === undefined) return
    this.#total -= s.bytes
    s.bytes = 0
  }

  /** A failed append: its records (never durable, so never counted) are forgotten. */
  retract(partition: number, fromOffset: number): void {
    const s = this.#parts[partition]
    if (s === undefined) return
    if (fromOffset <= s.tailFrom) s.tail = []
    else if (fromOffset < s.tailFrom + s.tail.length) s.tail.length = fromOffset - s.tailFrom
  }

  close(): void {
    this.#closed = true
    for (const s of this.#parts) {
      s.generation++
      s.scan = null
    }
  }

  #count(s: PartitionBytes, offset: number, size: number): void {
    if (!this.#cursors.isAcked(s.ackKey, offset)) {
      s.bytes += size
      this.#total += size
    }
    s.to = offset + 1
  }

  /** Starts a partition's count over from its ack floor, reading the log back (startup, log start moved). */
  #restart(s: PartitionBytes): void {
    s.generation++
    this.#total -= s.bytes
    s.bytes = 0
    s.logStart = s.log.logStartOffset
    s.to = Math.max(this.#cursors.getAcks(s.ackKey)?.floor ?? 0, s.logStart)
    s.scan = null
    if (s.to < s.log.highWatermark && !this.#closed) s.scan = this.#scan(s, s.generation)
  }

  async #scan(s: PartitionBytes, generation: number): Promise<void> {
    // Never settles synchronously: the caller stores this promise as s.scan first.
    await Promise.resolve()
    try {
      for (;;) {
        this.#advance(s)
        if (this.#closed || s.generation !== generation || s.to >= s.log.highWatermark) return
        const from = Math.max(s.to, s.log.logStartOffset)
        const { records, nextOffset } = await s.log.readRecords(from, SCAN_BYTES)
        if (this.#closed || s.generation !== generation) return
        // Offers may have moved `to` during the read: only what is still ahead of it is counted here.
        const end = Math.min(nextOffset, s.log.highWatermark)
        if (end <= s.to) return
        for (const r of records) if (r.offset >= s.to && r.offset < end) this.#count(s, r.offset, r.value?.length ?? 0)
        s.to = end
      }
    } catch (error) {
      // Retried on the next catch-up; until then the sum is low, never wrong in the other direction.
      if (!this.#closed) this.#warn('queue byte count read failed', { error: String(error) })
    } finally {
      if (s.generation === generation) s.scan = null
    }
  }
}
