// Cursors of transient queues: the same table the durable cursor store replays into, with no log behind
// it. Acks of a queue that cannot outlive the process need no fsync; mutations resolve at once.
import { WharfError } from '../../util/errors.js'
import type { CursorStore } from '../api.js'
import { offsetsToRuns } from './cursor-acks.js'
import { CursorTable } from './cursor-store.js'

export class MemoryCursorStore implements CursorStore {
  readonly #table = new CursorTable()
  #closed = false

  #check(): void {
    if (this.#closed) throw new WharfError('LOG_CLOSED', 'cursor store is closed')
  }

  getOffset(key: string): { offset: number; metadata: string } | undefined {
    this.#check()
    return this.#table.cursors.get(key)?.commit
  }

  async commitOffset(key: string, offset: number, metadata = ''): Promise<void> {
    this.#check()
    if (!Number.isSafeInteger(offset))
      throw new WharfError('INVALID_ARGUMENT', `offset must be an integer, got ${offset}`)
    this.#table.commit(key, offset, metadata)
  }

  async ack(key: string, offsets: readonly number[]): Promise<void> {
    this.#check()
    for (const offset of offsets) {
      if (!Number.isSafeInteger(offset) || offset < 0)
        throw new WharfError('INVALID_ARGUMENT', `offset must be a non-negative integer, got ${offset}`)
    }
    if (offsets.length > 0) this.#table.ack(key, offsetsToRuns(offsets))
  }

  async advanceFloor(key: string, floor: number): Promise<void> {
    this.#check()
    if (!Number.isSafeInteger(floor) || floor < 0)
      throw new WharfError('INVALID_ARGUMENT', `floor must be a non-negative integer, got ${floor}`)
    this.#table.advanceFloor(key, floor)
  }

  getAcks(key: string): { floor: number; ranges: ReadonlyArray<readonly [number, number]> } | undefined {
    this.#check()
    const acks = this.#table.cursors.get(key)?.acks
    return acks === undefined ? undefined : { floor: acks.floor, ranges: acks.toRanges() }
  }

  isAcked(key: string, offset: number): boolean {
    this.#check()
    return this.#table.cursors.get(key)?.acks?.has(offset) ?? false
  }

  async delete(key: string): Promise<void> {
    this.#check()
    this.#table.delete(key)
  }

  keys(prefix = ''): string[] {
    this.#check()
    const out: string[] = []
    for (const key of this.#table.cursors.keys()) if (key.startsWith(prefix)) out.push(key)
    return out.sort()
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.#closed = true
  }
}
