// The persisted form of a partition's idempotent-producer state, and its validation on load. A snapshot comes
// back from disk, so a malformed one is an operating error (STORE_CORRUPT), not an assertion.
import { WharfError } from '../../util/errors.js'

export const PRODUCER_SNAPSHOT_VERSION = 1
/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: retries of any of the last 5 batches are deduplicated. */
export const BATCHES_RETAINED = 5
export const INT32_MAX = 2_147_483_647

export interface SnapshotBatch {
  firstSequence: number
  lastSequence: number
  baseOffset: number
  lastOffset: number
  timestamp: number
}

export interface SnapshotProducer {
  producerId: number
  producerEpoch: number
  /** Timestamp of the producer's latest batch; expiry counts from it. */
  lastTimestamp: number
  /** Oldest first, 1..BATCHES_RETAINED entries. */
  batches: SnapshotBatch[]
}

export interface ProducerSnapshot {
  version: typeof PRODUCER_SNAPSHOT_VERSION
  /**
   * Offset after the last batch this state has seen. After restore, replay the log's batch headers from here
   * (replay skips batches below it). If the log was truncated below endOffset (torn tail), the snapshot is ahead of
   * the log and must be discarded: rebuild from an older snapshot or from the log start instead.
   */
  endOffset: number
  /** Least recently appended first (eviction order). */
  producers: SnapshotProducer[]
}

/** Next sequence after adding delta, wrapping past int32 max to 0 (Kafka DefaultRecordBatch.incrementSequence). */
export function incrementSequence(sequence: number, delta: number): number {
  if (sequence > INT32_MAX - delta) return delta - (INT32_MAX - sequence) - 1
  return sequence + delta
}

/** True when next directly follows last (Kafka ProducerAppendInfo.inSequence). */
export function inSequence(last: number, next: number): boolean {
  return next === last + 1 || (next === 0 && last === INT32_MAX)
}

function corrupt(what: string): WharfError {
  return new WharfError('STORE_CORRUPT', `producer snapshot: ${what}`)
}

function isInt(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
}

function checkBatch(batch: unknown, where: string): asserts batch is SnapshotBatch {
  if (typeof batch !== 'object' || batch === null) throw corrupt(`${where} is not an object`)
  const b = batch as Record<string, unknown>
  if (!isInt(b.firstSequence, 0, INT32_MAX) || !isInt(b.lastSequence, 0, INT32_MAX)) {
    throw corrupt(`${where} has invalid sequences`)
  }
  if (!isInt(b.baseOffset, 0) || !isInt(b.lastOffset, b.baseOffset)) throw corrupt(`${where} has invalid offsets`)
  if (incrementSequence(b.firstSequence, b.lastOffset - b.baseOffset) !== b.lastSequence) {
    throw corrupt(`${where}: sequence span does not match offset span`)
  }
  if (!isInt(b.timestamp, Number.MIN_SAFE_INTEGER)) throw corrupt(`${where} has an invalid timestamp`)
}

/** Throws STORE_CORRUPT unless value is a well-formed snapshot (types, ranges, ordering, no duplicate ids). */
export function validateSnapshot(value: unknown): asserts value is ProducerSnapshot {
  if (typeof value !== 'object' || value === null) throw corrupt('not an object')
  const s = value as Record<string, unknown>
  if (s.version !== PRODUCER_SNAPSHOT_VERSION) throw corrupt(`unknown version ${String(s.version)}`)
  if (!isInt(s.endOffset, 0)) throw corrupt('invalid endOffset')
  if (!Array.isArray(s.producers)) throw corrupt('producers is not an array')
  const seen = new Set<number>()
  for (const [i, producer] of s.producers.entries()) {
    const where = `producer #${i}`
    if (typeof producer !== 'object' || producer === null) throw corrupt(`${where} is not an object`)
    const p = producer as Record<string, unknown>
    if (!isInt(p.producerId, 0)) throw corrupt(`${where} has an invalid producerId`)
    if (seen.has(p.producerId)) throw corrupt(`${where} repeats producerId ${p.producerId}`)
    seen.add(p.producerId)
    if (!isInt(p.producerEpoch, -32768, 32767)) throw corrupt(`${where} has an invalid epoch`)
    if (!isInt(p.lastTimestamp, Number.MIN_SAFE_INTEGER)) throw corrupt(`${where} has an invalid lastTimestamp`)
    if (!Array.isArray(p.batches) || p.batches.length < 1 || p.batches.length > BATCHES_RETAINED) {
      throw corrupt(`${where} must hold 1..${BATCHES_RETAINED} batches`)
    }
    let previousLastOffset = -1
    for (const [j, batch] of p.batches.entries()) {
      checkBatch(batch, `${where} batch #${j}`)
      if (batch.baseOffset <= previousLastOffset) throw corrupt(`${where} batch #${j} is out of offset order`)
      if (batch.lastOffset >= s.endOffset) throw corrupt(`${where} batch #${j} lies beyond endOffset`)
      previousLastOffset = batch.lastOffset
    }
  }
}
