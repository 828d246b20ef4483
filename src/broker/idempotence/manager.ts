// Idempotent-producer state per stream partition: loaded lazily on the first idempotent append after a
// start (snapshot from the catalog + replay of the batch headers after it), snapshotted periodically and
// on close. In a cluster a state is whole only for the owner epoch it was loaded under: a log that moved
// away and came back holds other brokers' appends, so it is loaded again. Producer ids come from a block
// allocator persisted in the catalog.
import { readBatchHeader, splitBatches } from '../../record/index.js'
import type { MetadataStore, PartitionLog } from '../../storage/api.js'
import { LoadOnce } from '../../util/load-once.js'
import { PartitionProducerState, ProducerIdAllocator, type ProducerSnapshot } from './producer-state.js'

const REPLAY_CHUNK_BYTES = 1024 * 1024

export class ProducerManager {
  readonly #metadata: MetadataStore
  readonly #states = new LoadOnce<string, PartitionLog, PartitionProducerState>((key, log) => this.#load(key, log))
  readonly #saved = new Map<string, number>()
  /** The log each state was loaded from and its owner epoch then. */
  readonly #loadedFrom = new Map<string, { log: PartitionLog; epoch: number | undefined }>()
  readonly allocator: ProducerIdAllocator

  constructor(metadata: MetadataStore) {
    this.#metadata = metadata
    this.allocator = new ProducerIdAllocator({
      reserve: async (size) => {
        // Ids below this were reserved under the earlier one-pointer-per-store scheme, which nothing writes now.
        const before = metadata.get<number>('counter', 'producer-id-block') ?? 0
        // Blocks are numbered 1, 2, 3... by a counter the store takes atomically (across brokers sharing it).
        const block = await metadata.nextId('producer-id-blocks')
        return before + (block - 1) * size
      },
    })
  }

  static key(streamId: number, partition: number): string {
    return `${streamId}-${partition}`
  }

  stateFor(streamId: number, partition: number, log: PartitionLog): Promise<PartitionProducerState> {
    const key = ProducerManager.key(streamId, partition)
    const loaded = this.#loadedFrom.get(key)
    if (loaded !== undefined && loaded.epoch !== log.ownerEpoch) this.#states.delete(key)
    return this.#states.get(key, log)
  }

  /** A state loaded from a log this broker no longer appends to under the same epoch. */
  #stale(key: string): boolean {
    const loaded = this.#loadedFrom.get(key)
    return loaded !== undefined && loaded.epoch !== loaded.log.ownerEpoch
  }

  async #load(key: string, log: PartitionLog): Promise<PartitionProducerState> {
    this.#loadedFrom.set(key, { log, epoch: log.ownerEpoch })
    const snapshot = this.#metadata.get<ProducerSnapshot>('producer-state', key)
    let state = snapshot ? PartitionProducerState.restore(snapshot) : new PartitionProducerState()
    if (state.endOffset > log.highWatermark) state = new PartitionProducerState() // log lost data it had: start over
    let offset = Math.max(state.endOffset, log.logStartOffset)
    while (offset < log.highWatermark) {
      const result = await log.read(offset, REPLAY_CHUNK_BYTES)
      if (result.bytes === 0) break
      for (const chunk of result.chunks) {
        for (const batch of splitBatches(chunk)) {
          const h = readBatchHeader(batch)
          const identity = {
            producerId: h.producerId,
            producerEpoch: h.producerEpoch,
            baseSequence: h.baseSequence,
            recordCount: h.lastOffsetDelta + 1,
          }
          state.replay(identity, h.baseOffset, h.baseOffset + h.lastOffsetDelta, h.maxTimestamp)
        }
      }
      offset = result.nextOffset
    }
    return state
  }

  /** Forgets a partition's state (after a failed append: it is rebuilt from the log on next use). */
  invalidate(streamId: number, partition: number): void {
    const key = ProducerManager.key(streamId, partition)
    this.#states.delete(key)
    this.#loadedFrom.delete(key)
  }

  async drop(streamId: number, partitions: number): Promise<void> {
    for (let p = 0; p < partitions; p++) {
      const key = ProducerManager.key(streamId, p)
      this.#states.delete(key)
      this.#loadedFrom.delete(key)
      if (this.#metadata.get('producer-state', key) !== undefined) await this.#metadata.delete('producer-state', key)
    }
  }

  /** Persists snapshots of states that moved since the last save; expires idle producers first. */
  async saveAll(now: number, producerIdExpirationMs = 24 * 3600 * 1000): Promise<void> {
    for (const [key, pending] of this.#states.entries()) {
      if (this.#stale(key)) {
        // Another broker owns the log now and snapshots it; an older snapshot from here would only cost replay.
        this.#states.delete(key)
        this.#loadedFrom.delete(key)
        continue
      }
      const state = await pending.catch(() => null)
      if (state === null) continue
      state.expire(now, producerIdExpirationMs)
      if (this.#saved.get(key) === state.endOffset || state.size === 0) continue
      await this.#metadata.put('producer-state', key, state.snapshot())
      this.#saved.set(key, state.endOffset)
    }
  }
}
