// The local storage engine: one directory holds every partition log (logs/<name>/), the cursor store
// (cursors/) and the catalog (meta/). A lock file keeps a second process off the same directory.
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { WharfError } from '../../util/errors.js'
import {
  type Durability,
  defaultLogConfig,
  type LogConfig,
  type PartitionLog,
  type StorageEngine,
  validateLogConfig,
} from '../api.js'
import { openCursorStore } from './cursors/cursor-store.js'
import { FilePool } from './file-pool.js'
import { checkDataFormat } from './format.js'
import { MemoryCursorStore } from './memory/cursors.js'
import { MemoryLogs } from './memory/logs.js'
import { openMetadataStore } from './metadata-store.js'
import { LocalPartitionLog } from './partition-log/partition-log.js'
import { RESERVE_BYTES_DEFAULT, SpaceReserve } from './reserve.js'

export interface LocalStorageOptions {
  /** Upper bound of open file descriptors across all logs. */
  maxOpenFiles?: number
  /** How often time/size retention runs (ms); 0 disables the timer. */
  retentionCheckMs?: number
  /** How often compacted logs are cleaned (ms); 0 disables the timer. */
  compactionCheckMs?: number
  /** Durability of cursor and catalog writes. */
  storeDurability?: Durability
  /** Bytes of emergency space held for deletes on a full disk (reserve.ts); 0 holds none. */
  reserveBytes?: number
  warn?: (message: string, details?: Record<string, unknown>) => void
  /** Told how long each fdatasync of a partition log took (seconds): group commits, rolls, interval flushes. */
  onFsync?: (seconds: number) => void
  /** Told of retention and compaction runs that removed something, for the operator's log. */
  info?: (message: string, details?: Record<string, unknown>) => void
}

const LOG_NAME = /^[A-Za-z0-9._-]{1,200}$/

export class LocalStorage implements StorageEngine {
  readonly dataDir: string
  readonly #pool: FilePool
  readonly #logs = new Map<string, Promise<LocalPartitionLog>>()
  readonly #memoryLogs = new MemoryLogs()
  readonly memoryCursors = new MemoryCursorStore()
  readonly #options: Required<Omit<LocalStorageOptions, 'warn' | 'info' | 'onFsync'>> &
    Pick<LocalStorageOptions, 'warn' | 'info' | 'onFsync'>
  readonly #timers: NodeJS.Timeout[] = []
  #closed = false
  #reserve!: SpaceReserve
  cursors!: StorageEngine['cursors']
  metadata!: StorageEngine['metadata']

  private constructor(dataDir: string, options: LocalStorageOptions) {
    this.dataDir = dataDir
    this.#options = {
      maxOpenFiles: options.maxOpenFiles ?? 1024,
      retentionCheckMs: options.retentionCheckMs ?? 5 * 60_000,
      compactionCheckMs: options.compactionCheckMs ?? 60_000,
      storeDurability: options.storeDurability ?? 'always',
      reserveBytes: options.reserveBytes ?? RESERVE_BYTES_DEFAULT,
      warn: options.warn,
      onFsync: options.onFsync,
      info: options.info,
    }
    this.#pool = new FilePool(this.#options.maxOpenFiles)
  }

  static async open(dataDir: string, options: LocalStorageOptions = {}): Promise<LocalStorage> {
    const engine = new LocalStorage(dataDir, options)
    await fs.mkdir(join(dataDir, 'logs'), { recursive: true })
    await acquireLock(join(dataDir, 'wharf.lock'))
    try {
      await checkDataFormat(dataDir)
    } catch (error) {
      await fs.rm(join(dataDir, 'wharf.lock'), { force: true })
      throw error
    }
    const storeOptions = { durability: engine.#options.storeDurability, logger: (m: string) => engine.#warn(m) }
    engine.cursors = await openCursorStore(join(dataDir, 'cursors'), storeOptions)
    engine.metadata = await openMetadataStore(join(dataDir, 'meta'), storeOptions)
    engine.#reserve = new SpaceReserve(join(dataDir, 'reserve.bin'), engine.#options.reserveBytes)
    await engine.#reserve.ensure()
    engine.#every(engine.#options.retentionCheckMs, async () => {
      const removed = (log: PartitionLog, segments: number) => {
        if (segments > 0) engine.#options.info?.('retention removed segments', { log: log.name, segments })
      }
      for (const log of engine.#memoryLogs.values()) removed(log, await log.enforceRetention())
      await engine.#forEachLog(async (log) => removed(log, await log.enforceRetention()))
      // Retention may have made room for a reserve given back earlier.
      await engine.#reserve.ensure()
    })
    engine.#every(engine.#options.compactionCheckMs, () =>
      engine.#forEachLog(async (log) => {
        const result = await log.compact()
        if (result.recordsRemoved > 0)
          engine.#options.info?.('compaction removed records', { log: log.name, ...result })
      }),
    )
    return engine
  }

  async freeingSpace<T>(work: () => Promise<T>, roomBytes = 0): Promise<T> {
    if (await this.#reserve.releaseIfLow().catch(() => false))
      this.#warn('disk nearly full: emergency reserve released for a delete')
    if (roomBytes > 0) {
      const free = await this.#reserve.freeBytes().catch(() => Number.POSITIVE_INFINITY)
      if (free < roomBytes)
        throw new WharfError(
          'DISK_FULL',
          `${free} bytes free, ${roomBytes} needed to record the change: nothing was changed`,
        )
    }
    try {
      return await work()
    } finally {
      // The delete usually made room for it again; otherwise the next one retries.
      await this.#reserve.ensure()
    }
  }

  #warn(message: string, details?: Record<string, unknown>): void {
    this.#options.warn?.(message, details)
  }

  #every(ms: number, work: () => Promise<void>): void {
    if (ms <= 0) return
    let running = false
    const timer = setInterval(() => {
      if (running || this.#closed) return
      running = true
      work()
        .catch((error) => this.#warn('storage maintenance failed', { error: String(error) }))
        .finally(() => {
          running = false
        })
    }, ms)
    timer.unref()
    this.#timers.push(timer)
  }

  async #forEachLog(work: (log: LocalPartitionLog) => Promise<unknown>): Promise<void> {
    for (const pending of [...this.#logs.values()]) {
      const log = await pending.catch(() => null)
      if (log !== null) await work(log)
    }
  }

  openLog(name: string, config: Partial<LogConfig> = {}): Promise<PartitionLog> {
    if (this.#closed) return Promise.reject(new WharfError('LOG_CLOSED', 'storage is closed'))
    if (!LOG_NAME.test(name) || name === '.' || name === '..') {
      return Promise.reject(new WharfError('INVALID_ARGUMENT', `invalid log name '${name}'`))
    }
    let log = this.#logs.get(name)
    if (log === undefined) {
      const full = validateLogConfig({ ...defaultLogConfig, ...config })
      log = LocalPartitionLog.open(join(this.dataDir, 'logs', name), name, full, this.#pool, {
        warn: (message, details) => this.#warn(message, details),
        synced: this.#options.onFsync,
      })
      this.#logs.set(name, log)
      log.catch(() => this.#logs.delete(name))
    } else {
      void log.then((open) => open.updateConfig(config))
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
    if (pending !== undefined) await (await pending).destroy()
    else await fs.rm(join(this.dataDir, 'logs', name), { recursive: true, force: true })
  }

  async listLogs(): Promise<string[]> {
    return (await fs.readdir(join(this.dataDir, 'logs'))).sort()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const timer of this.#timers) clearInterval(timer)
    for (const pending of this.#logs.values()) {
      const log = await pending.catch(() => null)
      await log?.close()
    }
    this.#logs.clear()
    await this.#memoryLogs.closeAll()
    await this.memoryCursors.close()
    await this.cursors.close()
    await this.metadata.close()
    await this.#pool.closeAll()
    await fs.rm(join(this.dataDir, 'wharf.lock'), { force: true })
  }
}

/** Takes an exclusive lock on the data dir; a lock left by a dead process is taken over. */
async function acquireLock(path: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(path, String(process.pid), { flag: 'wx' })
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = Number(await fs.readFile(path, 'utf8').catch(() => ''))
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new WharfError('RESOURCE_LOCKED', `data directory is in use by process ${owner} (${path})`)
      }
      await fs.rm(path, { force: true })
    }
  }
  throw new WharfError('RESOURCE_LOCKED', `cannot lock ${path}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function openStorage(dataDir: string, options?: LocalStorageOptions): Promise<LocalStorage> {
  return LocalStorage.open(dataDir, options)
}
