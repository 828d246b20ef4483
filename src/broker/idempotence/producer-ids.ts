// Producer id allocation for InitProducerId (non-transactional producers get a fresh id on every call, epoch 0).
// Ids are reserved in blocks, durably and atomically in the store, before any id of a block is handed out: a
// restart (even a crash) never reissues an id, it only skips the unused rest of its block, and brokers that share
// one store never get the same block. Kafka does the same with ProducerIdManager blocks of 1000 ids.
import { assert } from '../../util/assert.js'
import { WharfError } from '../../util/errors.js'

export interface ProducerIdStore {
  /**
   * Reserves `size` consecutive ids for this process alone, durably: no later process over the same store, and
   * no other broker sharing it, is given any of them. Resolves with the first.
   */
  reserve(size: number): Promise<number>
}

export const DEFAULT_PRODUCER_ID_BLOCK = 1000

export class ProducerIdAllocator {
  readonly #persist: ProducerIdStore
  readonly #blockSize: number
  #next = 0
  /** #next..#blockEnd-1 may be handed out (nothing before the first reservation). */
  #blockEnd = 0
  /** The reservation in flight: concurrent callers share it instead of reserving twice. */
  #reserving: Promise<void> | undefined

  constructor(persist: ProducerIdStore, blockSize = DEFAULT_PRODUCER_ID_BLOCK) {
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) {
      throw new WharfError('INVALID_CONFIG', `producer id block size must be a positive integer, got ${blockSize}`)
    }
    this.#persist = persist
    this.#blockSize = blockSize
  }

  /** A producer id never issued before (by this or any other process over the same store), with epoch 0. */
  async next(): Promise<{ producerId: number; producerEpoch: number }> {
    // A loop, not an if: callers woken by one reservation may use the whole block before this one resumes.
    while (this.#next >= this.#blockEnd) {
      this.#reserving ??= this.#reserve().finally(() => {
        this.#reserving = undefined
      })
      await this.#reserving
    }
    const producerId = this.#next++
    assert(producerId < this.#blockEnd, 'issued an id outside the reserved block')
    return { producerId, producerEpoch: 0 }
  }

  async #reserve(): Promise<void> {
    // Only once the store has it may ids of the block be issued: a failed reservation issues nothing.
    const start = await this.#persist.reserve(this.#blockSize)
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new WharfError('STORE_CORRUPT', `reserved producer id block ${start} is invalid`)
    }
    const end = start + this.#blockSize
    if (!Number.isSafeInteger(end)) throw new WharfError('LIMIT_EXCEEDED', 'producer ids exhausted')
    this.#next = start
    this.#blockEnd = end
  }
}
