// Changes other brokers make to the shared catalog, applied to this broker's in-memory table. Every metadata
// transaction announces the documents it wrote (NOTIFY wharf_catalog, sent on COMMIT only; catalog-notify.ts);
// this listens, re-reads the announced rows (batched: one query for whatever arrived meanwhile), applies to
// the table what differs from memory, then tells the watchers. A notification can be lost while the listening
// connection is down, so after every (re)connection the whole table is re-read and compared the same way.
//
// What is not re-read: this broker's own writes. Their announcements are recognised by the backend pid the
// write transaction ran on and skipped without a query (an echo the skip misses finds memory equal to the row
// and reports nothing). A document this broker changed and has not committed yet keeps the local version: its
// commit comes later and overwrites the row, so the other broker's version is already superseded.
//
// Catching up (caughtUp): PostgreSQL delivers notifications in the order their transactions committed, so a
// marker this broker notifies arrives after the announcement of every change committed before it was sent;
// once the re-read that follows the marker's arrival is applied, so is every such change.
import { randomBytes } from 'node:crypto'
import { WharfError } from '../../util/errors.js'
import { type MetadataTable, toDoc } from '../local/metadata-store.js'
import { CATALOG_CHANNEL, decodeChange } from './catalog-notify.js'
import type { Database } from './connection.js'
import { Listener } from './listener.js'

export type CatalogListener = (kind: string, name: string) => void

/** kind and name joined (kinds never contain NUL). */
export const SEP = '\u0000'

/** An own announcement not seen back after this long is forgotten (its transaction may never have committed). */
const ECHO_TTL_MS = 60_000

/** A caughtUp marker's payload: never a change's, since no catalog kind starts with '#'. */
const MARKER = '#caught-up/'
/** How long caughtUp waits for its marker to come back (the listening connection may be down). */
const CAUGHT_UP_TIMEOUT_MS = 4000

export interface CatalogWatchHost {
  readonly table: MetadataTable
  readonly db: Database
  /** A local change of this key (kind SEP name) is not committed yet. */
  pending(key: string): boolean
  warn?: (message: string, details?: Record<string, unknown>) => void
}

interface Row {
  kind: Buffer
  name: Buffer
  json: string
}

export class CatalogWatch {
  readonly #host: CatalogWatchHost
  readonly #listener: Listener
  readonly #watchers = new Set<CatalogListener>()
  /** Own announcements expected back: `pid SEP payload` → when sent, how many. */
  readonly #echoes = new Map<string, { at: number; count: number }>()
  // What to re-read next: everything, whole kinds, single documents.
  #all = false
  #kinds = new Set<string>()
  #keys = new Set<string>()
  #draining: Promise<void> | undefined
  /** Keys changed locally while a re-read is under way: its rows may predate the change, so they are skipped. */
  #touched: Set<string> | undefined
  /** refresh() callers, by key: resolved when a re-read that took their key has ended. */
  readonly #refreshing = new Map<string, Array<() => void>>()
  /** caughtUp() markers sent and not heard back yet, by token. */
  readonly #markers = new Map<string, () => void>()
  /** caughtUp() callers whose marker arrived: resolved when the next re-read has been applied. */
  #afterNextDrain: Array<() => void> = []
  #started = false
  #closed = false

  constructor(host: CatalogWatchHost) {
    this.#host = host
    this.#listener = new Listener(host.db, CATALOG_CHANNEL, {
      onNotification: (payload, pid) => this.#notified(payload, pid),
      onConnected: () => {
        this.#all = true
        // Markers sent while nobody listened are lost; the whole re-read covers what they waited for.
        this.#afterNextDrain.push(...this.#markers.values())
        this.#markers.clear()
        this.#kick()
      },
      warn: host.warn,
    })
  }

  /** Adds a watcher (starting to listen on the first); returns its removal. */
  add(watcher: CatalogListener): () => void {
    this.#watchers.add(watcher)
    if (!this.#started && !this.#closed) {
      this.#started = true
      void this.#listener.start()
    }
    return () => this.#watchers.delete(watcher)
  }

  /** Resolves once listening and the re-read that follows (re)connecting is applied (tests). */
  async settled(): Promise<void> {
    await this.#listener.start()
    while (this.#draining !== undefined) await this.#draining
  }

  get listenerProcessId(): number | undefined {
    return this.#listener.processId
  }

  /** The write transaction on backend `pid` announced `payloads`; called before its COMMIT. */
  expectEcho(pid: number, payloads: Iterable<string>): void {
    const now = Date.now()
    if (this.#echoes.size > 10_000) {
      for (const [key, echo] of this.#echoes) if (now - echo.at > ECHO_TTL_MS) this.#echoes.delete(key)
    }
    for (const payload of payloads) {
      const key = pid + SEP + payload
      const echo = this.#echoes.get(key)
      if (echo === undefined) this.#echoes.set(key, { at: now, count: 1 })
      else {
        echo.at = now
        echo.count++
      }
    }
  }

  /** Re-reads one document now; resolves once it is applied (or the re-read failed: memory stays as it was). */
  refresh(kind: string, name: string): Promise<void> {
    if (this.#closed || this.#watchers.size === 0) return Promise.resolve()
    const key = kind + SEP + name
    const done = new Promise<void>((resolve) => {
      const waiting = this.#refreshing.get(key)
      if (waiting === undefined) this.#refreshing.set(key, [resolve])
      else waiting.push(resolve)
    })
    this.#keys.add(key)
    this.#kick()
    return done
  }

  /**
   * Resolves once every change another broker committed before this call is applied here and its watchers
   * told (or after CAUGHT_UP_TIMEOUT_MS, or at once when the database cannot be reached).
   */
  async caughtUp(): Promise<void> {
    if (this.#closed || this.#watchers.size === 0) return
    const token = randomBytes(12).toString('base64url')
    let timer: NodeJS.Timeout | undefined
    const heard = new Promise<void>((resolve) => {
      this.#markers.set(token, resolve)
      timer = setTimeout(() => {
        this.#markers.delete(token)
        resolve()
      }, CAUGHT_UP_TIMEOUT_MS)
    })
    try {
      await this.#host.db.query('SELECT pg_notify($1, $2)', [CATALOG_CHANNEL, MARKER + token])
    } catch {
      this.#markers.get(token)?.()
      this.#markers.delete(token)
    }
    await heard
    clearTimeout(timer)
  }

  #refreshed(keys: Iterable<string>): void {
    for (const key of keys) {
      for (const resolve of this.#refreshing.get(key) ?? []) resolve()
      this.#refreshing.delete(key)
    }
  }

  /** A local put or delete of key (memory already changed). */
  localChange(key: string): void {
    this.#touched?.add(key)
  }

  #notified(payload: string, pid: number): void {
    if (payload.startsWith(MARKER)) {
      // Other brokers' markers are theirs to wait for.
      const token = payload.slice(MARKER.length)
      const caughtUp = this.#markers.get(token)
      if (caughtUp === undefined) return
      this.#markers.delete(token)
      this.#afterNextDrain.push(caughtUp)
      this.#kick()
      return
    }
    const echoKey = pid + SEP + payload
    const echo = this.#echoes.get(echoKey)
    if (echo !== undefined) {
      if (--echo.count === 0) this.#echoes.delete(echoKey)
      return
    }
    const change = decodeChange(payload)
    if (change.kind === undefined) this.#all = true
    else if (change.name === undefined) this.#kinds.add(change.kind)
    else this.#keys.add(change.kind + SEP + change.name)
    this.#kick()
  }

  #kick(): void {
    if (this.#draining !== undefined || this.#closed || this.#watchers.size === 0) return
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined
      if (this.#all || this.#kinds.size > 0 || this.#keys.size > 0 || this.#afterNextDrain.length > 0) this.#kick()
    })
  }

  async #drain(): Promise<void> {
    // Let the notifications of one burst join one query.
    await new Promise((resolve) => setImmediate(resolve))
    const all = this.#all
    const kinds = this.#kinds
    const keys = this.#keys
    const caughtUp = this.#afterNextDrain
    this.#all = false
    this.#kinds = new Set()
    this.#keys = new Set()
    this.#afterNextDrain = []
    this.#touched = new Set()
    let rows: Row[]
    try {
      rows = await this.#read(all, kinds, keys)
    } catch (error) {
      // The database is unreachable: the listening connection drops too, and its reconnection re-reads all.
      this.#host.warn?.('catalog re-read failed', { error: (error as Error).message })
      this.#touched = undefined
      this.#refreshed(keys)
      for (const resolve of caughtUp) resolve()
      return
    }
    const touched = this.#touched
    this.#touched = undefined
    const changed = this.#apply(all, kinds, keys, rows, touched)
    for (const key of changed) {
      const at = key.indexOf(SEP)
      for (const watcher of [...this.#watchers]) {
        try {
          watcher(key.slice(0, at), key.slice(at + 1))
        } catch (error) {
          this.#host.warn?.('catalog watcher failed', { error: String(error) })
        }
      }
    }
    this.#refreshed(keys)
    for (const resolve of caughtUp) resolve()
  }

  async #read(all: boolean, kinds: Set<string>, keys: Set<string>): Promise<Row[]> {
    const db = this.#host.db
    if (all) return (await db.query<Row>('SELECT kind, name, json FROM wharf_metadata')).rows
    const rows: Row[] = []
    if (kinds.size > 0) {
      const wanted = [...kinds].map((kind) => Buffer.from(kind))
      rows.push(
        ...(await db.query<Row>('SELECT kind, name, json FROM wharf_metadata WHERE kind = ANY($1::bytea[])', [wanted]))
          .rows,
      )
    }
    const single = [...keys].filter((key) => !kinds.has(key.slice(0, key.indexOf(SEP))))
    if (single.length > 0) {
      const k: Buffer[] = []
      const n: Buffer[] = []
      for (const key of single) {
        const at = key.indexOf(SEP)
        k.push(Buffer.from(key.slice(0, at)))
        n.push(Buffer.from(key.slice(at + 1)))
      }
      const { rows: found } = await db.query<Row>(
        `SELECT m.kind, m.name, m.json FROM wharf_metadata m JOIN unnest($1::bytea[], $2::bytea[]) AS w (kind, name)
         ON m.kind = w.kind AND m.name = w.name`,
        [k, n],
      )
      rows.push(...found)
    }
    return rows
  }

  /** Makes memory equal to the rows read, within what was read; returns the keys that changed. */
  #apply(all: boolean, kinds: Set<string>, keys: Set<string>, rows: Row[], touched: Set<string>): string[] {
    const table = this.#host.table
    const read = new Map<string, string>()
    for (const row of rows) read.set(row.kind.toString() + SEP + row.name.toString(), row.json)
    // Every key the read covered: those found, and those memory holds in its scope (absent rows = deleted).
    const scope = new Set<string>([...read.keys(), ...keys])
    for (const [kind, docs] of table.kinds) {
      if (!all && !kinds.has(kind)) continue
      for (const name of docs.keys()) scope.add(kind + SEP + name)
    }
    const changed: string[] = []
    for (const key of scope) {
      if (touched.has(key) || this.#host.pending(key)) continue
      const at = key.indexOf(SEP)
      const kind = key.slice(0, at)
      const name = key.slice(at + 1)
      const json = read.get(key)
      const current = table.kinds.get(kind)?.get(name)
      if (json === current?.json) continue
      if (json === undefined) table.delete(kind, name)
      else {
        try {
          table.put(kind, name, toDoc(json))
        } catch {
          this.#host.warn?.('catalog row from another broker is not JSON; ignored', {
            error: new WharfError('STORE_CORRUPT', `metadata ${kind}/${name}: unparsable JSON`).message,
          })
          continue
        }
      }
      changed.push(key)
    }
    return changed
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#refreshed([...this.#refreshing.keys()])
    for (const resolve of [...this.#markers.values(), ...this.#afterNextDrain]) resolve()
    this.#markers.clear()
    this.#afterNextDrain = []
    await this.#listener.close()
    await this.#draining?.catch(() => {})
  }
}
