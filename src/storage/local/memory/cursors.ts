// Cursors of transient queues: the same table the durable cursor store replays into, with no log behind
// it. Acks of a queue that cannot outlive the process need no fsync; mutations resolve at once.
import { WharfError } from '../../../util/errors.js'
import type { CursorStore } from '../../api.js'
import { offsetsToRuns } from '../cursors/acks.js'
import { CursorTable, CursorTableReads, checkedCounts, checkOffset } from '../cursors/cursor-store.js'

export class MemoryCursorStore extends CursorTableReads implements CursorStore {
  #closed = false

  constructor() {
    super(new CursorTable())
  }

  protected check(): void {
    if (this.#closed) throw new WharfError('LOG_CLOSED', 'cursor store is closed')
  }

  async commitOffset(key: string, offset: number, metadata = ''): Promise<void> {
    this.check()
    checkOffset(offset, -(2 ** 52 - 1)) // the durable store's bounds (commits may be negative, e.g. -1)
    this.table.commit(key, offset, metadata)
  }

  async ack(key: string, offsets: readonly number[]): Promise<void> {
    this.check()
    for (const offset of offsets) checkOffset(offset, 0)
    if (offsets.length > 0) this.table.ack(key, offsetsToRuns(offsets))
  }

  async advanceFloor(key: string, floor: number): Promise<void> {
    this.check()
    checkOffset(floor, 0)
    this.table.advanceFloor(key, floor)
  }

  async setDeliveryCounts(key: string, counts: readonly number[]): Promise<void> {
    this.check()
    if (counts.length > 0) this.table.setCounts(key, checkedCounts(counts))
  }

  async delete(key: string): Promise<void> {
    this.check()
    this.table.delete(key)
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.#closed = true
  }
}
