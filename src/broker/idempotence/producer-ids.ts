// Producer id allocation for InitProducerId (non-transactional producers get a fresh id on every call, epoch 0).
// Ids are reserved in blocks: the persisted value is the start of the next unreserved block, saved before any id
// of the current block is handed out, so a restart (even a crash) never reissues an id; it only skips the unused
// rest of the block. Kafka does the same with ProducerIdManager blocks of 1000 ids.
import { assert } from '../../util/assert.js'
import { WharfError } from '../../util/errors.js'

export interface ProducerIdStore {
  /** The last value save() made durable, or undefined on a fresh broker. */
  load(): number | undefined
  /** Durably records that every id below nextBlockStart may have been issued. */
  save(nextBlockStart: number): Promise<void>
}

export const DEFAULT_PRODUCER_ID_BLOCK = 1000

export class ProducerIdAllocator {
  readonly #persist: ProducerIdStore
  readonly #blockSize: number
  #next: number
  /** Ids below this are reserved durably; #next..#blockEnd-1 may be handed out. */
  #blockEnd: number
  /** The reservation in flight: concurrent callers share it instead of saving twice. */
  #reserving: Promise<void> | undefined

  constructor(persist: ProducerIdStore, blockSize = DEFAULT_PRODUCER_ID_BLOCK) {
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) {
      throw new WharfError('INVALID_CONFIG', `producer id block size must be a positive integer, got ${blockSize}`)
    }
    const saved = persist.load()
    if (saved !== undefined && (!Number.isSafeInteger(saved) || saved < 0)) {
      throw new WharfError('STORE_CORRUPT', `persisted next producer id block ${saved} is invalid`)
    }
    this.#persist = persist
    this.#blockSize = blockSize
    this.#next = saved ?? 0
    this.#blockEnd = this.#next // nothing reserved by this process yet
  }

  /** A producer id never issued before (by this or any earlier process over the same store), with epoch 0. */
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
    const start = this.#blockEnd
    const end = start + this.#blockSize
    if (!Number.isSafeInteger(end)) throw new WharfError('LIMIT_EXCEEDED', 'producer ids exhausted')
    await this.#persist.save(end)
    // Only now may ids of the block be issued: a failed save leaves nothing reserved, and the next call retries.
    assert(this.#blockEnd === start, 'reservations run one at a time')
    this.#blockEnd = end
  }
}
