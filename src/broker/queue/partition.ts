// Per-partition state of a queue: which offsets are read, ready, delayed, returned or in
// flight. Acked offsets live in the cursor store (floor + ranges); everything else here is memory,
// bounded: `ready` holds at most READY_MAX messages and READY_BYTES_MAX body bytes read ahead of consumers, `returned` holds messages whose
// lease ended (bounded by in-flight counts), `delayed`/`cold` hold offsets only.
import type { CursorStore, PartitionLog } from '../../storage/api.js'
import { Heap } from '../../util/heap.js'
import type { StoredMessage } from '../message.js'
import { storedOf } from '../stream/stored.js'
import type { GroupPin } from './groups.js'

export interface Lease {
  id: number
  partition: number
  offset: number
  owner: string
  consumer: { unacked: number; creditGroup?: { release(): void } | undefined } | null
  deadline: number | null
  deliveryCount: number
  groupId: string | undefined
  /** The JMS message group pin the lease counts against (groups.ts). */
  group: GroupPin | undefined
  message: StoredMessage
  /** Set by purge: the message is already acked in the store; a nack must not requeue it. */
  purged: boolean
}

export interface Returned {
  offset: number
  deliveryCount: number
  message: StoredMessage | null
}

/** Cursor-store key of how far deliveries of a partition got (deliveredMax), beside its acks. */
export function deliveredMaxKey(ackKey: string): string {
  return `${ackKey}\u0000d`
}

export const READ_CHUNK_BYTES = 256 * 1024

/** An ack held until the log is durable past its offset; done (if someone waits) learns how it ended. */
export interface HeldAck {
  offset: number
  /** Body bytes (for the queue's byte count). */
  size: number
  /** Called with the store's promise once stored, or undefined when dropped (record retracted). */
  done: ((stored: Promise<void> | undefined) => void) | null
}

export class QueuePartition {
  readonly index: number
  readonly log: PartitionLog
  readonly ackKey: string
  /** Next offset to read from the log. */
  readOffset: number
  /** Read-ahead messages in offset order, not yet delivered; changed only through the *Ready methods below. */
  ready: StoredMessage[] = []
  /** Body bytes of `ready`: the read-ahead is bounded by bytes as well as by count. */
  readyBytes = 0
  readonly returned = new Heap<Returned>((a, b) => a.offset < b.offset)
  /** Returned offsets whose message must be re-read before delivery (delayed ones that came due). */
  readonly cold = new Heap<Returned>((a, b) => a.offset < b.offset)
  /** Delayed offsets: deliverAt headers, and returns waiting out a redelivery delay (with their delivery count). */
  readonly delayed = new Heap<{ deliverAt: number; offset: number; deliveryCount?: number }>(
    (a, b) => a.deliverAt < b.deliverAt,
  )
  readonly inflight = new Map<number, Lease>()
  reading: Promise<void> | null = null
  /** Acks of records delivered before they were durable, stored once the high watermark passes them. */
  heldAcks: HeldAck[] = []
  /** Highest offset ever delivered, persisted lazily: below it, redelivery after a restart is flagged. */
  deliveredMax = -1
  deliveredMaxSaved = -1
  /** deliveredMax as found at startup. */
  readonly recoveredDeliveredMax: number
  /**
   * Delivery counts stored before a restart (queues with a delivery limit), each taken by the next lease of
   * its offset; null when there are none left (so plain queues only ever test it against null).
   */
  recoveredCounts: Map<number, number> | null = null
  /** Delivery counts leased since the last save (maintenance tick); null when none. */
  unsavedCounts: Map<number, number> | null = null
  /** logStartOffset when stored counts below it were last forgotten (retention can pass unacked offsets). */
  countsPrunedBelow = 0

  constructor(index: number, log: PartitionLog, ackKey: string, cursors: CursorStore) {
    this.index = index
    this.log = log
    this.ackKey = ackKey
    const acks = cursors.getAcks(ackKey)
    this.readOffset = Math.max(acks?.floor ?? 0, log.logStartOffset)
    this.recoveredDeliveredMax = cursors.getOffset(deliveredMaxKey(ackKey))?.offset ?? -1
    this.deliveredMaxSaved = this.recoveredDeliveredMax
    const counts = cursors.getDeliveryCounts(ackKey)
    if (counts !== undefined && counts.size > 0) this.recoveredCounts = new Map(counts)
  }
  pushReady(message: StoredMessage): void {
    this.ready.push(message)
    this.readyBytes += message.value?.length ?? 0
  }

  /** Removes and returns the read-ahead message at `index`. */
  takeReady(index: number): StoredMessage {
    const message = index === 0 ? this.ready.shift()! : this.ready.splice(index, 1)[0]!
    this.readyBytes -= message.value?.length ?? 0
    return message
  }

  setReady(messages: StoredMessage[]): void {
    this.ready = messages
    let bytes = 0
    for (const m of messages) bytes += m.value?.length ?? 0
    this.readyBytes = bytes
  }

  /** The delivery count an offset had before the restart (0 if none); forgotten once taken. */
  takeRecoveredCount(offset: number): number {
    const counts = this.recoveredCounts!
    const count = counts.get(offset)
    if (count === undefined) return 0
    counts.delete(offset)
    if (counts.size === 0) this.recoveredCounts = null
    return count
  }

  /** Messages not yet acked in [logStart, highWatermark). */
  depth(cursors: CursorStore): number {
    const start = this.log.logStartOffset
    const end = this.log.highWatermark
    const acks = cursors.getAcks(this.ackKey)
    if (acks === undefined) return end - start
    const floor = Math.max(acks.floor, start)
    let acked = 0
    for (const [from, to] of acks.ranges) {
      const a = Math.max(from, floor)
      const b = Math.min(to, end)
      if (b > a) acked += b - a
    }
    return Math.max(0, end - floor - acked)
  }

  /** Reads up to one chunk of records at readOffset; returns them (already filtered of acked ones). */
  async readChunk(cursors: CursorStore, streamName: string): Promise<StoredMessage[]> {
    const from = Math.max(this.readOffset, this.log.logStartOffset)
    if (from >= this.log.highWatermark) return []
    const result = await this.log.readRecords(from, READ_CHUNK_BYTES)
    const out = storedOf(streamName, this.index, result.records, (offset) => cursors.isAcked(this.ackKey, offset))
    // Only move forward if nothing else moved the cursor meanwhile (purge, tail fast path).
    if (this.readOffset <= from) this.readOffset = Math.max(result.nextOffset, from)
    return out
  }

  /** Re-reads one record by offset (for cold redeliveries). */
  async readOne(offset: number, streamName: string): Promise<StoredMessage | null> {
    if (offset < this.log.logStartOffset || offset >= this.log.highWatermark) return null
    const { records } = await this.log.readRecords(offset, 1)
    const record = records.find((r) => r.offset === offset)
    return record === undefined ? null : storedOf(streamName, this.index, [record])[0]!
  }
}
