// Idempotent-producer state of one stream partition, after Kafka's ProducerStateManager / ProducerAppendInfo.
// Per producer id the partition keeps the epoch and the sequence ranges + offsets of the last 5 batches. A retry of
// one of them is answered with its original offsets instead of being written twice; any other batch must continue
// the sequence (or start at 0 under a newer epoch). Pure logic: the broker core reads batch headers, calls check()
// before an append and recordAppend() after it, and persists snapshot() next to the log.
import { assert } from '../../util/assert.js'
import { WharfError } from '../../util/errors.js'
import {
  BATCHES_RETAINED,
  INT32_MAX,
  incrementSequence,
  inSequence,
  PRODUCER_SNAPSHOT_VERSION,
  type ProducerSnapshot,
  type SnapshotBatch,
  validateSnapshot,
} from './snapshot.js'

export { ProducerIdAllocator, type ProducerIdStore } from './producer-ids.js'
export {
  BATCHES_RETAINED,
  INT32_MAX,
  incrementSequence,
  inSequence,
  type ProducerSnapshot,
  type SnapshotBatch,
  type SnapshotProducer,
} from './snapshot.js'

export type ProducerCheck =
  /** New batch: append it, then call recordAppend. */
  | { kind: 'append' }
  /** Retried batch: answer with the original offsets, don't append. */
  | { kind: 'duplicate'; baseOffset: number; lastOffset: number }
  | { kind: 'error'; code: 'OUT_OF_ORDER_SEQUENCE' | 'INVALID_PRODUCER_EPOCH' | 'UNKNOWN_PRODUCER_ID'; message: string }

/** The producer fields of a RecordBatch header. */
export interface BatchIdentity {
  /** -1 (any negative) for non-idempotent producers: no sequence tracking at all. */
  producerId: number
  producerEpoch: number
  baseSequence: number
  /** Records in the batch, i.e. header lastOffsetDelta + 1 (the record layer checks recordCount matches). */
  recordCount: number
}

export interface ProducerStateOptions {
  /**
   * Producers tracked per partition. Past it the least recently appended producer is forgotten: its next batch is
   * accepted as from an unknown producer, so one retry of its last batches could be written twice. Kafka has no such
   * cap (KIP-936 throttles InitProducerId instead); it bounds memory against clients that churn producer ids.
   */
  maxProducers?: number
}

/** About 0.5 KiB per producer (5 batch records), so the default bounds a partition to a few MiB. */
export const DEFAULT_MAX_PRODUCERS = 10_000

const APPEND: ProducerCheck = Object.freeze({ kind: 'append' })

// One tracked producer; also a node of the recency list (head = least recently appended).
interface Entry {
  producerId: number
  epoch: number
  lastTimestamp: number
  batches: SnapshotBatch[]
  older: Entry | undefined
  newer: Entry | undefined
}

export class PartitionProducerState {
  readonly #entries = new Map<number, Entry>()
  readonly #maxProducers: number
  #oldest: Entry | undefined
  #newest: Entry | undefined
  #endOffset = 0

  constructor(options: ProducerStateOptions = {}) {
    const maxProducers = options.maxProducers ?? DEFAULT_MAX_PRODUCERS
    if (!Number.isSafeInteger(maxProducers) || maxProducers < 1) {
      throw new WharfError('INVALID_CONFIG', `maxProducers must be a positive integer, got ${maxProducers}`)
    }
    this.#maxProducers = maxProducers
  }

  /** Producers currently tracked. */
  get size(): number {
    return this.#entries.size
  }

  /** The tracked producers, least recently appended first (Kafka DescribeProducers). */
  producers(): Array<{ producerId: number; producerEpoch: number; lastSequence: number; lastTimestamp: number }> {
    const out = []
    for (let entry = this.#oldest; entry !== undefined; entry = entry.newer) {
      const last = entry.batches[entry.batches.length - 1]
      out.push({
        producerId: entry.producerId,
        producerEpoch: entry.epoch,
        lastSequence: last?.lastSequence ?? -1,
        lastTimestamp: entry.lastTimestamp,
      })
    }
    return out
  }

  /** Offset after the last batch seen (by recordAppend or replay): where a replay after snapshot() starts. */
  get endOffset(): number {
    return this.#endOffset
  }

  /** Decides what to do with an incoming batch. Synchronous; changes no state. */
  check(batch: BatchIdentity): ProducerCheck {
    checkIdentity(batch)
    if (batch.producerId < 0) return APPEND
    if (batch.baseSequence < 0) {
      // Kafka rejects this in LogValidator (InvalidRecordException); the nearest stable code is out-of-order.
      return outOfOrder(`producer ${batch.producerId} sent baseSequence ${batch.baseSequence}`)
    }
    const entry = this.#entries.get(batch.producerId)
    // Unknown producer (new, expired, or evicted): accept any sequence and start tracking, as Kafka >= 2.5 does.
    if (entry === undefined) return APPEND
    const lastSequence = incrementSequence(batch.baseSequence, batch.recordCount - 1)
    if (batch.producerEpoch === entry.epoch) {
      // Duplicate check before the sequence check, as UnifiedLog.analyzeAndValidateProducerState does.
      for (const retained of entry.batches) {
        if (retained.firstSequence === batch.baseSequence && retained.lastSequence === lastSequence) {
          return { kind: 'duplicate', baseOffset: retained.baseOffset, lastOffset: retained.lastOffset }
        }
      }
      const last = entry.batches[entry.batches.length - 1]
      assert(last !== undefined, 'a tracked producer always retains a batch')
      if (inSequence(last.lastSequence, batch.baseSequence)) return APPEND
      return outOfOrder(
        `producer ${batch.producerId} epoch ${entry.epoch}: expected sequence ${incrementSequence(last.lastSequence, 1)}, got ${batch.baseSequence}`,
      )
    }
    if (batch.producerEpoch < entry.epoch) {
      return {
        kind: 'error',
        code: 'INVALID_PRODUCER_EPOCH',
        message: `producer ${batch.producerId} epoch ${batch.producerEpoch} is older than the current epoch ${entry.epoch}`,
      }
    }
    // A newer epoch (the producer re-initialised) starts its sequence over.
    if (batch.baseSequence !== 0) {
      return outOfOrder(
        `producer ${batch.producerId} new epoch ${batch.producerEpoch} must start at sequence 0, got ${batch.baseSequence}`,
      )
    }
    return APPEND
  }

  /**
   * Records a batch the log has just accepted after check() said 'append'. timestamp should be what replay will
   * see for the same batch after a restart (the stored batch's maxTimestamp, as Kafka uses), so live and rebuilt
   * state agree; expiry counts from it.
   */
  recordAppend(batch: BatchIdentity, baseOffset: number, lastOffset: number, timestamp: number): void {
    checkIdentity(batch)
    assert(lastOffset - baseOffset + 1 === batch.recordCount, 'offset span must equal recordCount')
    // Pair assertion: nothing may change the state between check() and the append it allowed.
    assert(this.check(batch).kind === 'append', 'recordAppend of a batch check() did not accept')
    this.#advance(baseOffset, lastOffset)
    if (batch.producerId < 0) return
    this.#apply(batch, baseOffset, lastOffset, timestamp)
  }

  /**
   * Rebuild after restore(): feed the batch headers of the log in offset order. Batches below endOffset are
   * already in the state and skipped, so the caller may start at a segment boundary before it. Like Kafka's
   * recovery (AppendOrigin.REPLICATION) nothing is validated: the log is the truth. The sequence span comes from
   * the offsets, not recordCount, because compaction removes records but keeps each batch's offset range.
   */
  replay(batch: BatchIdentity, baseOffset: number, lastOffset: number, timestamp: number): void {
    if (lastOffset < this.#endOffset) return
    assert(baseOffset >= this.#endOffset, `batch ${baseOffset}..${lastOffset} straddles endOffset ${this.#endOffset}`)
    this.#advance(baseOffset, lastOffset)
    if (batch.producerId < 0 || batch.baseSequence < 0) return
    this.#apply(batch, baseOffset, lastOffset, timestamp)
  }

  /** A JSON-serializable copy of the state; restore() accepts it back. */
  snapshot(): ProducerSnapshot {
    const producers = []
    for (let entry = this.#oldest; entry !== undefined; entry = entry.newer) {
      producers.push({
        producerId: entry.producerId,
        producerEpoch: entry.epoch,
        lastTimestamp: entry.lastTimestamp,
        batches: entry.batches.map(copyBatch),
      })
    }
    return { version: PRODUCER_SNAPSHOT_VERSION, endOffset: this.#endOffset, producers }
  }

  /** Loads a snapshot (typically parsed from disk); STORE_CORRUPT if it is malformed. */
  static restore(snapshot: ProducerSnapshot, options: ProducerStateOptions = {}): PartitionProducerState {
    validateSnapshot(snapshot)
    const state = new PartitionProducerState(options)
    // Keep the newest producers if the cap shrank since the snapshot was written.
    const keep = snapshot.producers.slice(Math.max(0, snapshot.producers.length - state.#maxProducers))
    for (const p of keep) {
      const entry: Entry = {
        producerId: p.producerId,
        epoch: p.producerEpoch,
        lastTimestamp: p.lastTimestamp,
        batches: p.batches.map(copyBatch),
        older: undefined,
        newer: undefined,
      }
      state.#entries.set(entry.producerId, entry)
      state.#link(entry)
    }
    state.#endOffset = snapshot.endOffset
    return state
  }

  /**
   * Forgets producers whose last batch is at least producerIdExpirationMs older than now (Kafka:
   * transactional.id / producer.id.expiration.ms, 1 day). Scans every producer: meant for a periodic timer, not
   * the append path. Returns the number forgotten.
   */
  expire(now: number, producerIdExpirationMs: number): number {
    assert(producerIdExpirationMs >= 0, 'expiration must not be negative')
    let expired = 0
    for (let entry = this.#oldest; entry !== undefined; ) {
      const next = entry.newer
      if (now - entry.lastTimestamp >= producerIdExpirationMs) {
        this.#forget(entry)
        expired++
      }
      entry = next
    }
    return expired
  }

  #advance(baseOffset: number, lastOffset: number): void {
    assert(Number.isSafeInteger(baseOffset) && baseOffset >= this.#endOffset, 'offsets only move forward')
    assert(Number.isSafeInteger(lastOffset) && lastOffset >= baseOffset, 'lastOffset must not precede baseOffset')
    this.#endOffset = lastOffset + 1
  }

  // Kafka ProducerStateEntry.addBatch: a new epoch clears the retained batches; at most 5 are kept.
  #apply(batch: BatchIdentity, baseOffset: number, lastOffset: number, timestamp: number): void {
    const retained: SnapshotBatch = {
      firstSequence: batch.baseSequence,
      lastSequence: incrementSequence(batch.baseSequence, lastOffset - baseOffset),
      baseOffset,
      lastOffset,
      timestamp,
    }
    let entry = this.#entries.get(batch.producerId)
    if (entry === undefined) {
      if (this.#entries.size >= this.#maxProducers && this.#oldest !== undefined) this.#forget(this.#oldest)
      entry = {
        producerId: batch.producerId,
        epoch: batch.producerEpoch,
        lastTimestamp: timestamp,
        batches: [],
        older: undefined,
        newer: undefined,
      }
      this.#entries.set(entry.producerId, entry)
    } else {
      this.#detach(entry)
    }
    this.#link(entry)
    if (entry.epoch !== batch.producerEpoch) {
      entry.epoch = batch.producerEpoch
      entry.batches.length = 0
    }
    if (entry.batches.length === BATCHES_RETAINED) entry.batches.shift() // at most 5 elements: cheap and bounded
    entry.batches.push(retained)
    entry.lastTimestamp = timestamp
    assert(this.#entries.size <= this.#maxProducers, 'producer cap exceeded')
  }

  // Appends entry to the recency list as the most recently appended producer.
  #link(entry: Entry): void {
    entry.older = this.#newest
    entry.newer = undefined
    if (this.#newest === undefined) this.#oldest = entry
    else this.#newest.newer = entry
    this.#newest = entry
  }

  #forget(entry: Entry): void {
    this.#detach(entry)
    this.#entries.delete(entry.producerId)
  }

  #detach(entry: Entry): void {
    if (entry.older === undefined) this.#oldest = entry.newer
    else entry.older.newer = entry.newer
    if (entry.newer === undefined) this.#newest = entry.older
    else entry.newer.older = entry.older
    entry.older = undefined
    entry.newer = undefined
  }
}

// Copies only the known fields, so stray properties of a parsed snapshot don't survive into the next one.
function copyBatch(b: SnapshotBatch): SnapshotBatch {
  return {
    firstSequence: b.firstSequence,
    lastSequence: b.lastSequence,
    baseOffset: b.baseOffset,
    lastOffset: b.lastOffset,
    timestamp: b.timestamp,
  }
}

function outOfOrder(message: string): ProducerCheck {
  return { kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE', message }
}

// Header fields are int64/int16/int32 from the record layer; anything else is a caller bug.
function checkIdentity(batch: BatchIdentity): void {
  assert(Number.isSafeInteger(batch.producerId), 'producerId must be an integer')
  assert(Number.isInteger(batch.producerEpoch), 'producerEpoch must be an integer')
  assert(Number.isInteger(batch.baseSequence) && batch.baseSequence <= INT32_MAX, 'baseSequence must be an int32')
  assert(Number.isInteger(batch.recordCount) && batch.recordCount >= 1, 'a batch holds at least one record')
}
