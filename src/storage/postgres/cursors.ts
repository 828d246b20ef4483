// CursorStore over PostgreSQL: every cursor is loaded at open into the same in-memory table the local store
// uses, mutations apply to memory synchronously, and a write-behind group commit UPSERTs each changed key's
// whole cursor (its snapshot encoding) into wharf_cursor; the promise resolves after COMMIT. A failed commit
// leaves memory changed and the key dirty (written by the next commit): as in the local store, the outcome
// of a failed write is indeterminate and every mutation is idempotent, so retrying is safe.
import { WharfError } from '../../util/errors.js'
import type { CursorStore } from '../api.js'
import { offsetsToRuns } from '../local/cursors/acks.js'
import { CursorTable, CursorTableReads, checkedCounts, checkOffset } from '../local/cursors/cursor-store.js'
import type { Database } from './connection.js'
import { WriteBehind } from './write-behind.js'

const MAX_OFFSET = 2 ** 52 - 1
/**
 * The advisory lock that orders a refresh after the cursor writes in flight on every broker: each write
 * transaction holds it shared, and a refresh takes it exclusively before it reads, so a write another broker
 * was committing when this one took something over (and maybe acknowledged already) is in what the refresh
 * reads, never committed just after it.
 */
const CURSOR_WRITES_LOCK = 0x77637572

export class PostgresCursorStore extends CursorTableReads implements CursorStore {
  readonly #writes: WriteBehind
  readonly #db: Database
  #closed = false

  private constructor(table: CursorTable, db: Database) {
    super(table)
    this.#db = db
    this.#writes = new WriteBehind(db, async (client, keys) => {
      const upsertKeys: Buffer[] = []
      const states: Buffer[] = []
      const deleted: Buffer[] = []
      for (const key of keys) {
        const state = table.encode(key)
        if (state === undefined) deleted.push(Buffer.from(key))
        else {
          upsertKeys.push(Buffer.from(key))
          states.push(state)
        }
      }
      await client.query('SELECT pg_advisory_xact_lock_shared($1)', [CURSOR_WRITES_LOCK])
      if (upsertKeys.length > 0)
        await client.query(
          `INSERT INTO wharf_cursor (key, state) SELECT * FROM unnest($1::bytea[], $2::bytea[])
           ON CONFLICT (key) DO UPDATE SET state = excluded.state`,
          [upsertKeys, states],
        )
      if (deleted.length > 0) await client.query('DELETE FROM wharf_cursor WHERE key = ANY($1::bytea[])', [deleted])
    })
  }

  static async open(db: Database): Promise<PostgresCursorStore> {
    const table = new CursorTable()
    const { rows } = await db.query<{ state: Buffer }>('SELECT state FROM wharf_cursor')
    for (const row of rows) table.apply(row.state)
    return new PostgresCursorStore(table, db)
  }

  protected check(): void {
    if (this.#closed) throw new WharfError('LOG_CLOSED', 'cursor store is closed')
  }

  /** A no-op mutation writes nothing but still waits for earlier writes, which may not be committed yet. */
  #mutated(key: string, changed: boolean): Promise<void> {
    return changed ? this.#writes.touch(key) : this.#writes.barrier()
  }

  async commitOffset(key: string, offset: number, metadata = ''): Promise<void> {
    this.check()
    checkOffset(offset, -MAX_OFFSET)
    return this.#mutated(key, this.table.commit(key, offset, metadata))
  }

  async ack(key: string, offsets: readonly number[]): Promise<void> {
    this.check()
    if (offsets.length === 0) return this.#writes.barrier()
    for (const offset of offsets) checkOffset(offset, 0)
    return this.#mutated(key, this.table.ack(key, offsetsToRuns(offsets)))
  }

  async advanceFloor(key: string, floor: number): Promise<void> {
    this.check()
    checkOffset(floor, 0)
    return this.#mutated(key, this.table.advanceFloor(key, floor))
  }

  async setDeliveryCounts(key: string, counts: readonly number[]): Promise<void> {
    this.check()
    if (counts.length === 0) return this.#writes.barrier()
    return this.#mutated(key, this.table.setCounts(key, checkedCounts(counts)))
  }

  async delete(key: string): Promise<void> {
    this.check()
    return this.#mutated(key, this.table.delete(key))
  }

  /**
   * Re-reads the cursors whose keys start with prefix from the database, as another broker sharing it left
   * them (called on taking over what they belong to): memory gets the stored state, and keys the database no
   * longer has go. A key changed here and not committed yet keeps the local state, which its commit stores.
   */
  async refresh(prefix = ''): Promise<void> {
    this.check()
    const bytes = Buffer.from(prefix)
    const rows = await this.#db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CURSOR_WRITES_LOCK])
      const read = await client.query<{ key: Buffer; state: Buffer }>(
        'SELECT key, state FROM wharf_cursor WHERE substring(key from 1 for $2) = $1',
        [bytes, bytes.length],
      )
      return read.rows
    })
    const stored = new Set<string>()
    for (const row of rows) {
      const key = row.key.toString()
      stored.add(key)
      if (!this.#writes.pending(key)) this.table.apply(row.state)
    }
    for (const key of this.keys(prefix)) {
      if (!stored.has(key) && !this.#writes.pending(key)) this.table.delete(key)
    }
  }

  flush(): Promise<void> {
    return this.#writes.barrier()
  }

  /** Keys whose change is not committed (after close: what could not be written, never acknowledged). */
  unflushed(): string[] {
    return this.#writes.unflushed()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#writes.close()
  }
}
