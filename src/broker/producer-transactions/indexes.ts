// The transaction index of every stream partition that ever held transactional data: loaded lazily (the
// persisted snapshot plus a replay of the batch headers after it), updated in the tick of each append, and
// snapshotted periodically and on close. A partition without a snapshot never had a transaction: track()
// persists an empty one before the first transactional batch can be written, so a partition that never saw
// a transaction costs nothing, and a restart replays only what came after the last snapshot.
import { readBatchHeader, splitBatches } from '../../record/index.js'
import type { MetadataStore } from '../../storage/api.js'
import { LoadOnce } from '../../util/load-once.js'
import type { Stream } from '../stream/stream.js'
import { encodeMarker, markerIsCommit } from './markers.js'
import { PartitionTransactionIndex } from './partition-index.js'

const KIND = 'transaction-index'
const REPLAY_CHUNK_BYTES = 1024 * 1024

export interface StableView {
  lastStableOffset: number
  /** Aborted transactions overlapping the range asked for. */
  aborted: Array<{ producerId: number; firstOffset: number }>
}

interface PartitionRef {
  stream: Stream
  partition: number
}

export class TransactionIndexes {
  readonly #metadata: MetadataStore
  readonly #indexes = new LoadOnce<string, PartitionRef, PartitionTransactionIndex>((key, ref) => this.#load(key, ref))
  /** Loaded indexes by key, for synchronous use on the append path. */
  readonly #loaded = new Map<string, { index: PartitionTransactionIndex; stream: Stream; partition: number }>()
  readonly #saved = new Map<string, number>()

  constructor(metadata: MetadataStore) {
    this.#metadata = metadata
  }

  static key(streamId: number, partition: number): string {
    return `${streamId}-${partition}`
  }

  /** Whether the partition may hold transactional data (it has a persisted index). */
  tracked(stream: Stream, partition: number): boolean {
    const key = TransactionIndexes.key(stream.id, partition)
    return this.#loaded.has(key) || this.#metadata.get(KIND, key) !== undefined
  }

  /** The partition's index, loaded (and replayed) on first use. */
  of(stream: Stream, partition: number): Promise<PartitionTransactionIndex> {
    const key = TransactionIndexes.key(stream.id, partition)
    const loaded = this.#loaded.get(key)
    if (loaded !== undefined && loaded.stream === stream) return Promise.resolve(loaded.index)
    return this.#indexes.get(key, { stream, partition })
  }

  /** Loaded index, if any: the append path updates it in the tick that assigns the offsets. */
  loaded(stream: Stream, partition: number): PartitionTransactionIndex | undefined {
    const entry = this.#loaded.get(TransactionIndexes.key(stream.id, partition))
    return entry?.stream === stream ? entry.index : undefined
  }

  /** Makes the partition tracked (snapshot persisted) before a transaction may write to it. */
  async track(stream: Stream, partition: number): Promise<PartitionTransactionIndex> {
    const index = await this.of(stream, partition)
    const key = TransactionIndexes.key(stream.id, partition)
    if (this.#metadata.get(KIND, key) === undefined) await this.#save(key, stream, partition, index)
    return index
  }

  /** Ends a producer's transaction in the partition: appends its marker and updates the index in the same tick. */
  async appendMarker(
    stream: Stream,
    partition: number,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    now: number,
  ): Promise<void> {
    const index = await this.of(stream, partition)
    const log = stream.partitionLog(partition)
    const offset = log.nextOffset
    const appended = log.append([encodeMarker(producerId, producerEpoch, commit, 0, now)])
    index.marker(producerId, commit, offset)
    await appended
  }

  /** LSO and the aborted transactions of [from, to) for a read_committed reader. */
  async stableView(stream: Stream, partition: number, from: number, to: number): Promise<StableView> {
    const log = stream.partitionLog(partition)
    if (!this.tracked(stream, partition)) return { lastStableOffset: log.highWatermark, aborted: [] }
    const index = await this.of(stream, partition)
    const lastStableOffset = index.lastStableOffset(log.highWatermark)
    const aborted = index
      .abortedIn(from, Math.min(to, lastStableOffset))
      .map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset }))
    return { lastStableOffset, aborted }
  }

  async #load(key: string, { stream, partition }: PartitionRef): Promise<PartitionTransactionIndex> {
    const log = stream.partitionLog(partition)
    const saved = this.#metadata.get(KIND, key)
    let index =
      saved === undefined ? new PartitionTransactionIndex(log.highWatermark) : PartitionTransactionIndex.restore(saved)
    // A snapshot ahead of the log (a torn tail lost data it had seen): rebuild from the log start.
    if (index.endOffset > log.highWatermark) index = new PartitionTransactionIndex(log.logStartOffset)
    let offset = Math.max(index.endOffset, log.logStartOffset)
    while (offset < log.highWatermark) {
      const result = await log.read(offset, REPLAY_CHUNK_BYTES)
      if (result.bytes === 0) break
      for (const chunk of result.chunks) for (const batch of splitBatches(chunk)) replay(index, batch)
      offset = result.nextOffset
    }
    this.#loaded.set(key, { index, stream, partition })
    return index
  }

  async #save(key: string, stream: Stream, partition: number, index: PartitionTransactionIndex): Promise<void> {
    const log = stream.partitionLog(partition)
    index.truncateBefore(log.logStartOffset)
    // The snapshot stands for the log up to the high watermark, which is only right when nothing appended is
    // still on its way to disk (the index already holds it): otherwise wait for a quieter moment.
    if (log.nextOffset !== log.highWatermark && this.#metadata.get(KIND, key) !== undefined) return
    const endOffset = log.highWatermark
    await this.#metadata.put(KIND, key, index.snapshot(endOffset))
    this.#saved.set(key, endOffset)
  }

  /** Persists the indexes that moved since their last snapshot. */
  async saveAll(): Promise<void> {
    for (const [key, entry] of this.#loaded) {
      if (this.#saved.get(key) === entry.stream.partitionLog(entry.partition).highWatermark) continue
      await this.#save(key, entry.stream, entry.partition, entry.index)
    }
  }

  async drop(stream: Stream): Promise<void> {
    for (let p = 0; p < stream.partitions.length; p++) {
      const key = TransactionIndexes.key(stream.id, p)
      this.#indexes.delete(key)
      this.#loaded.delete(key)
      this.#saved.delete(key)
      if (this.#metadata.get(KIND, key) !== undefined) await this.#metadata.delete(KIND, key)
    }
  }
}

/** Feeds one stored batch to an index (replay after a restart). */
export function replay(index: PartitionTransactionIndex, batch: Buffer): void {
  const h = readBatchHeader(batch)
  const lastOffset = h.baseOffset + h.lastOffsetDelta
  if (lastOffset < index.endOffset) return
  if (h.isControl) {
    const commit = markerIsCommit(batch)
    if (commit !== null && h.producerId >= 0) index.marker(h.producerId, commit, h.baseOffset)
    else index.other(lastOffset)
  } else if (h.isTransactional && h.producerId >= 0) index.transactionalBatch(h.producerId, h.baseOffset, lastOffset)
  else index.other(lastOffset)
}
