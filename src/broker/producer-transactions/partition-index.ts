// Per stream partition: the transactions still open (producer id → first offset) and the aborted ones
// (producer id, first offset, offset of the abort marker), after Kafka's ProducerStateManager.ongoingTxns and
// its aborted-transaction index. The last stable offset is the first offset of the earliest open transaction
// (or the high watermark); a read_committed reader gets the aborted transactions that overlap what it reads
// and skips their batches. Pure logic: the broker feeds it the batch headers it appends (and replays after a
// restart from the last snapshot) and persists snapshot().
import { WharfError } from '../../util/errors.js'

export interface AbortedTransaction {
  producerId: number
  firstOffset: number
  /** Offset of the abort marker: the transaction's batches all lie below it. */
  lastOffset: number
}

export interface TransactionIndexSnapshot {
  version: 1
  /** Offset after the last batch this index has seen: replay the log from here. */
  endOffset: number
  open: Array<[producerId: number, firstOffset: number]>
  aborted: AbortedTransaction[]
}

/** Aborted transactions kept per partition; older ones go first (their data is usually retained away too). */
export const DEFAULT_ABORTED_MAX = 100_000

export class PartitionTransactionIndex {
  /** producer id → first offset of its open transaction, in insertion (= offset) order. */
  readonly #open = new Map<number, number>()
  readonly #aborted: AbortedTransaction[] = []
  readonly #abortedMax: number
  #endOffset: number

  constructor(endOffset = 0, abortedMax = DEFAULT_ABORTED_MAX) {
    this.#endOffset = endOffset
    this.#abortedMax = abortedMax
  }

  get endOffset(): number {
    return this.#endOffset
  }

  get openCount(): number {
    return this.#open.size
  }

  /** Producers with an open transaction here. */
  openProducers(): number[] {
    return [...this.#open.keys()]
  }

  /** First offset of the producer's open transaction, or -1. */
  openStart(producerId: number): number {
    return this.#open.get(producerId) ?? -1
  }

  /** A batch of a transaction (header isTransactional, not a control batch) was appended at baseOffset. */
  transactionalBatch(producerId: number, baseOffset: number, lastOffset: number): void {
    if (!this.#open.has(producerId)) this.#open.set(producerId, baseOffset)
    this.#endOffset = Math.max(this.#endOffset, lastOffset + 1)
  }

  /** A commit or abort marker of the producer was appended at offset. */
  marker(producerId: number, commit: boolean, offset: number): void {
    const first = this.#open.get(producerId)
    this.#endOffset = Math.max(this.#endOffset, offset + 1)
    if (first === undefined) return // a marker written again after a crash, or for a partition it never wrote
    this.#open.delete(producerId)
    if (commit) return
    this.#aborted.push({ producerId, firstOffset: first, lastOffset: offset })
    if (this.#aborted.length > this.#abortedMax) this.#aborted.shift()
  }

  /** Any other batch: only moves the replay position. */
  other(lastOffset: number): void {
    this.#endOffset = Math.max(this.#endOffset, lastOffset + 1)
  }

  /** The last stable offset: below it every transaction is decided. */
  lastStableOffset(highWatermark: number): number {
    let lso = highWatermark
    for (const first of this.#open.values()) if (first < lso) lso = first
    return lso
  }

  /** Aborted transactions with data in [from, to): what a read_committed fetch of that range must skip. */
  abortedIn(from: number, to: number): AbortedTransaction[] {
    const out: AbortedTransaction[] = []
    for (const a of this.#aborted) if (a.lastOffset >= from && a.firstOffset < to) out.push(a)
    return out
  }

  /** Forgets aborted transactions wholly below the log start (their data is gone). */
  truncateBefore(logStartOffset: number): void {
    let drop = 0
    while (drop < this.#aborted.length && this.#aborted[drop]!.lastOffset < logStartOffset) drop++
    if (drop > 0) this.#aborted.splice(0, drop)
  }

  snapshot(endOffset = this.#endOffset): TransactionIndexSnapshot {
    return { version: 1, endOffset, open: [...this.#open], aborted: this.#aborted.map((a) => ({ ...a })) }
  }

  static restore(value: unknown, abortedMax = DEFAULT_ABORTED_MAX): PartitionTransactionIndex {
    const s = value as TransactionIndexSnapshot
    const int = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n)
    if (
      typeof s !== 'object' ||
      s === null ||
      s.version !== 1 ||
      !int(s.endOffset) ||
      !Array.isArray(s.open) ||
      !Array.isArray(s.aborted) ||
      !s.open.every((e) => Array.isArray(e) && int(e[0]) && int(e[1])) ||
      !s.aborted.every((a) => int(a?.producerId) && int(a?.firstOffset) && int(a?.lastOffset))
    )
      throw new WharfError('STORE_CORRUPT', 'transaction index snapshot is malformed')
    const index = new PartitionTransactionIndex(s.endOffset, abortedMax)
    for (const [producerId, first] of s.open) index.#open.set(producerId, first)
    for (const a of s.aborted)
      index.#aborted.push({ producerId: a.producerId, firstOffset: a.firstOffset, lastOffset: a.lastOffset })
    return index
  }
}
