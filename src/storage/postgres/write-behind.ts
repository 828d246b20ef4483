// Group commit for the cursor and metadata stores: a mutation changes memory at once and marks its key dirty;
// one transaction at a time writes the current state of every dirty key (UPSERT, or DELETE when the key is
// gone), and the mutation's promise resolves when that transaction has committed. Writing current state
// rather than each mutation makes every write idempotent and collapses repeated changes to a key into one row
// write. A failed transaction rejects its waiters (nothing they did is acknowledged) and keeps the keys dirty,
// so a later transaction, or the retry timer, still writes them.
import type pg from 'pg'
import type { Database } from './connection.js'

interface Waiter {
  resolve: () => void
  reject: (error: Error) => void
}

export type WriteKeys = (client: pg.PoolClient, keys: string[]) => Promise<void>

const RETRY_MS = 1000

export class WriteBehind {
  #dirty = new Set<string>()
  /** Keys the running transaction writes. */
  #writing: ReadonlySet<string> = new Set()
  #waiters: Waiter[] = []
  #running: Promise<void> | undefined
  #retry: NodeJS.Timeout | undefined
  #closed = false

  constructor(
    private readonly db: Database,
    private readonly write: WriteKeys,
  ) {}

  /** Marks key dirty; resolves when a transaction that wrote its state at or after this call has committed. */
  touch(key: string): Promise<void> {
    this.#dirty.add(key)
    return this.barrier()
  }

  /** Whether key has a change not committed yet (dirty, or in the transaction under way). */
  pending(key: string): boolean {
    return this.#dirty.has(key) || this.#writing.has(key)
  }

  /** Keys changed in memory whose state is not committed yet (dirty, or in the transaction under way). */
  unflushed(): string[] {
    return [...new Set([...this.#writing, ...this.#dirty])]
  }

  /** Resolves once everything dirty now is committed (at once when nothing is). */
  barrier(): Promise<void> {
    if (this.#dirty.size === 0 && this.#running === undefined) return Promise.resolve()
    if (this.#dirty.size === 0) return this.#running!.then(() => this.barrier())
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }))
    this.#kick()
    return done
  }

  #kick(): void {
    if (this.#running !== undefined || this.#dirty.size === 0 || this.#closed) return
    this.#running = this.#run().then((committed) => {
      this.#running = undefined
      // After a failure the retry timer writes the keys again (a new mutation tries at once): retrying at
      // once would spin while the database fails fast, starving every timer and socket of the process.
      if (committed) this.#kick()
    })
  }

  /** One transaction for the dirty keys; false when it failed (they stay dirty). */
  async #run(): Promise<boolean> {
    // Let every mutation issued in this tick join the transaction.
    await Promise.resolve()
    const keys = [...this.#dirty]
    const waiters = this.#waiters
    this.#dirty = new Set()
    this.#waiters = []
    this.#writing = new Set(keys)
    try {
      await this.db.transaction((client) => this.write(client, keys))
      this.#writing = new Set()
      for (const waiter of waiters) waiter.resolve()
      return true
    } catch (error) {
      this.#writing = new Set()
      for (const key of keys) this.#dirty.add(key)
      for (const waiter of waiters) waiter.reject(error as Error)
      this.#scheduleRetry()
      return false
    }
  }

  #scheduleRetry(): void {
    if (this.#retry !== undefined || this.#closed) return
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      this.barrier().catch(() => {})
    }, RETRY_MS)
    this.#retry.unref()
  }

  async close(): Promise<void> {
    await this.barrier().catch(() => {})
    this.#closed = true
    if (this.#retry !== undefined) clearTimeout(this.#retry)
  }
}
