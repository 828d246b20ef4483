// The PostgreSQL storage engine: partition logs, cursors and the catalog in tables of one database (schema.ts),
// so the broker keeps nothing on local disk but what must not outlive it (memory logs and their cursors,
// the same as the local engine's). Durability is PostgreSQL's: an append or a cursor write resolves after
// COMMIT, which with synchronous_commit=on (and synchronous standbys) is on disk (on several machines).
import { WharfError } from '../../util/errors.js'
import { defaultLogConfig, type LogConfig, type PartitionLog, type StorageEngine, validateLogConfig } from '../api.js'
import { MemoryCursorStore } from '../local/memory/cursors.js'
import { MemoryLogs } from '../local/memory/logs.js'
import { type ClusterOptions, PostgresCluster } from './cluster/index.js'
import { Database, type DatabaseOptions, redactedUrl } from './connection.js'
import { PostgresCursorStore } from './cursors.js'
import { PostgresPartitionLog } from './log.js'
import { PostgresMetadataStore } from './metadata.js'
import { migrate } from './schema.js'

export { isPostgresUrl, parseStorageUrl } from './connection.js'

export interface PostgresStorageOptions extends DatabaseOptions {
  /** How often time/size retention runs (ms); 0 disables the timer. */
  retentionCheckMs?: number
  /** How often compacted logs (cleanup.policy=compact) are compacted (ms, default 60000); 0 disables the timer. */
  compactionCheckMs?: number
  /** Bytes of each log's newest chunks kept in memory for readers (default 4 MiB). */
  tailCacheBytes?: number
  info?: (message: string, details?: Record<string, unknown>) => void
  /**
   * Told how long each append's transaction took up to its COMMIT, in seconds: the durable point, as the local
   * engine's onFsync reports each fdatasync (the server's wharf_storage_fsync_seconds).
   */
  onFsync?: (seconds: number) => void
  /**
   * How long close() waits for the database (ms, default 5000): past it, what is not written yet (never
   * acknowledged) is logged and dropped, and close() fails, so a stop with the database down ends.
   */
  closeTimeoutMs?: number
  /**
   * Cluster mode: several brokers share this database. Each registers under its node id, one of them (by lease)
   * assigns the durable logs to live brokers, and only a log's owner appends to it (fenced by epoch).
   */
  cluster?: ClusterOptions
}

const LOG_NAME = /^[A-Za-z0-9._-]{1,200}$/

export class PostgresStorage implements StorageEngine {
  /** Not a directory: the database, password left out (for logs and the admin API). */
  readonly dataDir: string
  readonly #db: Database
  readonly #options: PostgresStorageOptions
  readonly #logs = new Map<string, Promise<PostgresPartitionLog>>()
  readonly #memoryLogs = new MemoryLogs()
  readonly memoryCursors = new MemoryCursorStore()
  cursors!: PostgresCursorStore
  metadata!: PostgresMetadataStore
  /** Set in cluster mode. */
  declare cluster?: PostgresCluster
  readonly #timers: NodeJS.Timeout[] = []
  #closed = false

  private constructor(db: Database, options: PostgresStorageOptions) {
    this.#db = db
    this.#options = options
    this.dataDir = redactedUrl(db.url)
  }

  static async open(url: string, options: PostgresStorageOptions = {}): Promise<PostgresStorage> {
    const db = new Database(url, options)
    try {
      await migrate(db)
      const engine = new PostgresStorage(db, options)
      engine.cursors = await PostgresCursorStore.open(db)
      engine.metadata = await PostgresMetadataStore.open(db, options.warn)
      if (options.cluster !== undefined) {
        engine.cluster = await PostgresCluster.join(db, options.cluster, options).catch(async (error) => {
          await engine.cursors.close()
          await engine.metadata.close()
          throw error
        })
        engine.cluster.openLog = (name) => engine.openLog(name)
      }
      engine.#every(options.retentionCheckMs ?? 5 * 60_000, () => engine.#retentionPass())
      engine.#every(options.compactionCheckMs ?? 60_000, () => engine.#compactionPass())
      return engine
    } catch (error) {
      await db.close()
      throw error
    }
  }

  /** Runs a maintenance pass every ms (0: never), one at a time. */
  #every(ms: number, pass: () => Promise<void>): void {
    if (ms <= 0) return
    let running = false
    const timer = setInterval(() => {
      if (running || this.#closed) return
      running = true
      pass()
        .catch((error) => this.#options.warn?.('storage maintenance failed', { error: String(error) }))
        .finally(() => {
          running = false
        })
    }, ms)
    timer.unref()
    this.#timers.push(timer)
  }

  async #retentionPass(): Promise<void> {
    const removed = (log: PartitionLog, chunks: number) => {
      if (chunks > 0) this.#options.info?.('retention removed chunks', { log: log.name, chunks })
    }
    for (const log of this.#memoryLogs.values()) removed(log, await log.enforceRetention())
    for (const pending of [...this.#logs.values()]) {
      const log = await pending.catch(() => null)
      if (log !== null) removed(log, await log.enforceRetention())
    }
  }

  async #compactionPass(): Promise<void> {
    for (const pending of [...this.#logs.values()]) {
      const log = await pending.catch(() => null)
      if (log === null || !log.config.compact) continue
      const result = await log.compact()
      if (result.recordsRemoved > 0) this.#options.info?.('compaction removed records', { log: log.name, ...result })
    }
  }

  openLog(name: string, config: Partial<LogConfig> = {}): Promise<PartitionLog> {
    if (this.#closed) return Promise.reject(new WharfError('LOG_CLOSED', 'storage is closed'))
    if (!LOG_NAME.test(name) || name === '.' || name === '..')
      return Promise.reject(new WharfError('INVALID_ARGUMENT', `invalid log name '${name}'`))
    let log = this.#logs.get(name)
    if (log === undefined) {
      let full: LogConfig
      try {
        full = validateLogConfig({ ...defaultLogConfig, ...config })
      } catch (error) {
        return Promise.reject(error)
      }
      log = PostgresPartitionLog.open(this.#db, name, full, {
        tailCacheBytes: this.#options.tailCacheBytes ?? 4 * 1024 * 1024,
        fence: this.cluster,
        committed: this.#options.onFsync,
      })
      this.#logs.set(name, log)
      log.catch(() => this.#logs.delete(name))
    } else {
      void log.then((open) => open.updateConfig(config)).catch(() => {})
    }
    return log
  }

  openMemoryLog(name: string, config: Partial<LogConfig> = {}): PartitionLog {
    return this.#memoryLogs.open(name, config, this.#closed)
  }

  async deleteLog(name: string): Promise<void> {
    if (await this.#memoryLogs.delete(name)) return
    const pending = this.#logs.get(name)
    this.#logs.delete(name)
    await (await pending?.catch(() => undefined))?.close()
    // The chunk rows go with the log row (ON DELETE CASCADE).
    await this.#db.query('DELETE FROM wharf_log WHERE name = $1', [name])
  }

  async listLogs(): Promise<string[]> {
    const { rows } = await this.#db.query<{ name: string }>('SELECT name FROM wharf_log ORDER BY name')
    return rows.map((row) => row.name)
  }

  /** Nothing to free on a local disk: the database manages its own space. */
  freeingSpace<T>(work: () => Promise<T>): Promise<T> {
    return work()
  }

  /**
   * Writes what is pending (each store tries once more), leaves the cluster and ends the pool, waiting for the
   * database at most closeTimeoutMs. Throws IO_ERROR, after logging it, when something could not be written:
   * only work never acknowledged (every acknowledgement follows a COMMIT) is dropped.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const timer of this.#timers) clearInterval(timer)
    const logs = (await Promise.all([...this.#logs.values()].map((log) => log.catch(() => null)))).filter(
      (log) => log !== null,
    )
    this.#logs.clear()
    await this.#memoryLogs.closeAll()
    await this.memoryCursors.close()
    const boundMs = this.#options.closeTimeoutMs ?? 5000
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), boundMs)
    })
    const closed = (async () => {
      for (const log of logs) await log.close()
      await this.cursors?.close()
      await this.metadata?.close()
      await this.cluster?.close()
      await this.#db.close()
    })()
    const outcome = await Promise.race([
      closed.then(
        () => 'closed' as const,
        () => 'failed' as const,
      ),
      bound,
    ])
    clearTimeout(timer)
    if (outcome !== 'closed') this.#db.abandon()
    const unflushed = {
      records: logs.reduce((sum, log) => sum + log.nextOffset - log.highWatermark, 0),
      cursors: this.cursors?.unflushed().length ?? 0,
      catalogDocuments: this.metadata?.unflushed().length ?? 0,
    }
    if (outcome === 'closed' && unflushed.records + unflushed.cursors + unflushed.catalogDocuments === 0) return
    const why = outcome === 'timeout' ? `the database did not answer within ${boundMs} ms` : 'the database failed'
    this.#options.warn?.(`storage closed without writing everything: ${why}; dropped (never acknowledged)`, {
      ...unflushed,
      cursorKeys: this.cursors?.unflushed().slice(0, 20).map(printable),
      catalogKeys: this.metadata?.unflushed().slice(0, 20).map(printable),
    })
    throw new WharfError('IO_ERROR', `PostgreSQL storage closed without writing everything: ${why}`)
  }
}

/** A cursor or catalog key for a log line (they hold NUL separators). */
function printable(key: string): string {
  return key.replaceAll('\u0000', '/')
}

export function openPostgresStorage(url: string, options?: PostgresStorageOptions): Promise<PostgresStorage> {
  return PostgresStorage.open(url, options)
}
