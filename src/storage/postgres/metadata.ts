// MetadataStore over PostgreSQL: the whole catalog is loaded at open into the local store's in-memory table
// (documents handed out deep-frozen, as persisted), and puts and deletes are written through to
// wharf_metadata by a write-behind group commit; the promise resolves after COMMIT. The same transaction
// announces the names it wrote (NOTIFY wharf_catalog), so brokers sharing the database apply each other's
// changes (catalog-watch.ts) and tell their watchers.
import { WharfError } from '../../util/errors.js'
import type { MetadataStore } from '../api.js'
import { MetadataTable, toDoc } from '../local/metadata-store.js'
import { CATALOG_CHANNEL, encodeChange } from './catalog-notify.js'
import { type CatalogListener, CatalogWatch, SEP } from './catalog-watch.js'
import type { Database } from './connection.js'
import { WriteBehind } from './write-behind.js'

export class PostgresMetadataStore implements MetadataStore {
  readonly #table: MetadataTable
  readonly #writes: WriteBehind
  readonly #watch: CatalogWatch
  readonly #db: Database
  #closed = false

  private constructor(
    table: MetadataTable,
    db: Database,
    warn?: (message: string, details?: Record<string, unknown>) => void,
  ) {
    this.#table = table
    this.#db = db
    this.#watch = new CatalogWatch({ table, db, pending: (key) => this.#writes.pending(key), warn })
    this.#writes = new WriteBehind(db, async (client, keys) => {
      const payloads = new Set<string>()
      const put: [Buffer[], Buffer[], string[]] = [[], [], []]
      const gone: [Buffer[], Buffer[]] = [[], []]
      for (const key of keys) {
        const at = key.indexOf(SEP)
        const kind = key.slice(0, at)
        const name = key.slice(at + 1)
        payloads.add(encodeChange(kind, name))
        const doc = table.kinds.get(kind)?.get(name)
        if (doc === undefined) {
          gone[0].push(Buffer.from(kind))
          gone[1].push(Buffer.from(name))
        } else {
          put[0].push(Buffer.from(kind))
          put[1].push(Buffer.from(name))
          put[2].push(doc.json)
        }
      }
      if (put[0].length > 0)
        await client.query(
          `INSERT INTO wharf_metadata (kind, name, json) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::text[])
           ON CONFLICT (kind, name) DO UPDATE SET json = excluded.json`,
          put,
        )
      if (gone[0].length > 0)
        await client.query(
          `DELETE FROM wharf_metadata m USING unnest($1::bytea[], $2::bytea[]) AS g (kind, name)
           WHERE m.kind = g.kind AND m.name = g.name`,
          gone,
        )
      // Delivered to listeners only if this transaction commits; expected back from this backend, so skipped.
      await client.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [CATALOG_CHANNEL, [...payloads]])
      this.#watch.expectEcho((client as unknown as { processID: number }).processID, payloads)
    })
  }

  static async open(
    db: Database,
    warn?: (message: string, details?: Record<string, unknown>) => void,
  ): Promise<PostgresMetadataStore> {
    const table = new MetadataTable()
    const { rows } = await db.query<{ kind: Buffer; name: Buffer; json: string }>(
      'SELECT kind, name, json FROM wharf_metadata',
    )
    for (const row of rows) {
      const kind = row.kind.toString()
      const name = row.name.toString()
      try {
        table.put(kind, name, toDoc(row.json))
      } catch {
        throw new WharfError('STORE_CORRUPT', `metadata ${kind}/${name}: unparsable JSON`)
      }
    }
    return new PostgresMetadataStore(table, db, warn)
  }

  #check(): void {
    if (this.#closed) throw new WharfError('LOG_CLOSED', 'metadata store is closed')
  }

  get<T = unknown>(kind: string, name: string): T | undefined {
    this.#check()
    return this.#table.kinds.get(kind)?.get(name)?.value as T | undefined
  }

  list<T = unknown>(kind: string): Array<[string, T]> {
    this.#check()
    const docs = this.#table.kinds.get(kind)
    if (docs === undefined) return []
    const out: Array<[string, T]> = []
    for (const [name, doc] of docs) out.push([name, doc.value as T])
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  async put(kind: string, name: string, value: unknown): Promise<void> {
    this.#check()
    if (kind.includes(SEP)) throw new WharfError('INVALID_ARGUMENT', 'metadata kind must not contain NUL')
    let json: string | undefined
    try {
      json = JSON.stringify(value)
    } catch (error) {
      throw new WharfError('INVALID_ARGUMENT', `metadata ${kind}/${name}: ${(error as Error).message}`)
    }
    if (json === undefined) throw new WharfError('INVALID_ARGUMENT', `metadata ${kind}/${name}: not JSON-serializable`)
    if (!this.#table.put(kind, name, toDoc(json))) return this.#writes.barrier()
    this.#watch.localChange(kind + SEP + name)
    return this.#writes.touch(kind + SEP + name)
  }

  /**
   * One statement takes the value and moves the counter in the database (the row lock orders brokers taking
   * at once), so it never depends on this broker's copy being current; the copy is then updated.
   */
  async nextId(counter: string): Promise<number> {
    this.#check()
    const { rows } = await this.#db.query<{ json: string }>(
      `INSERT INTO wharf_metadata (kind, name, json) VALUES ($1, $2, '2')
       ON CONFLICT (kind, name) DO UPDATE SET json = (wharf_metadata.json::bigint + 1)::text
       RETURNING json`,
      [Buffer.from('counter'), Buffer.from(counter)],
    )
    const next = Number(rows[0]!.json)
    this.#table.put('counter', counter, toDoc(String(next)))
    return next - 1
  }

  async delete(kind: string, name: string): Promise<void> {
    this.#check()
    if (!this.#table.delete(kind, name)) return this.#writes.barrier()
    this.#watch.localChange(kind + SEP + name)
    return this.#writes.touch(kind + SEP + name)
  }

  /**
   * Calls listener after another broker's committed change of a document is applied here (get and list
   * return it already); starts listening on the first watcher. Returns the watcher's removal.
   */
  watch(listener: CatalogListener): () => void {
    this.#check()
    return this.#watch.add(listener)
  }

  refresh(kind: string, name: string): Promise<void> {
    this.#check()
    return this.#watch.refresh(kind, name)
  }

  caughtUp(): Promise<void> {
    return this.#watch.caughtUp()
  }

  /** Resolves once listening and caught up with the database (tests). */
  watching(): Promise<void> {
    return this.#watch.settled()
  }

  /** The backend pid of the listening connection, while connected (tests terminate it). */
  get listenerProcessId(): number | undefined {
    return this.#watch.listenerProcessId
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
    await this.#watch.close()
    await this.#writes.close()
  }
}
