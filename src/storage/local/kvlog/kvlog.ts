// A crash-safe append-only mutation log with periodic snapshots, for small in-memory state machines
// (cursor positions, the catalog). Files in its directory:
//   snapshot-<g>.bin  full state as of the start of log-<g>.bin (absent for g = 0: empty state)
//   log-<g>.bin       mutations after that snapshot
// Recovery loads the newest valid snapshot and replays every log from its generation on, in order.
//
// Writers apply their mutation to memory first, then append() its encoded entry. Appends are grouped:
// while one group is being written, new entries collect into the next, which goes out as one write and
// (durability 'always') one fdatasync; every append of a group resolves together.
//
// Compaction: once the current log outgrows max(compactMinBytes, 2 x last snapshot), the state is encoded
// synchronously (that is the in-memory copy), new entries are assigned to the next generation's log, and the
// image is written to snapshot-<g+1>.bin.tmp, fsynced and renamed in the background. Only then are the older
// generations deleted. The writer finishes and syncs log-<g> before it writes anything to log-<g+1>, so a
// crash at any point leaves a chain that replays to the acknowledged state.
import { constants } from 'node:fs'
import { type FileHandle, mkdir, open, readdir, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { toStorageError, WharfError } from '../../../util/errors.js'
import type { Durability } from '../../api.js'
import {
  encodeSnapshot,
  FRAME_HEADER_BYTES,
  frameHeader,
  fsyncDir,
  logName,
  MAX_ENTRY_BYTES,
  snapshotName,
} from './format.js'
import { recoverKvDir } from './recovery.js'

export interface KvLogOptions {
  durability?: Durability
  /** durability 'interval': fdatasync at most this often (ms). */
  flushIntervalMs?: number
  logger?: (msg: string) => void
  /** Smallest log size that triggers a snapshot (default 1 MiB; tests lower it). */
  compactMinBytes?: number
  /** Test hook: return an error to make the next such operation fail ('write' leaves half the group on disk). */
  faultInjector?: (op: 'write' | 'sync' | 'snapshot') => Error | undefined
}

/** The state machine a KvLog persists. */
export interface KvState {
  /** Applies one entry from a snapshot or a log; throws if the payload is malformed. */
  apply(payload: Buffer): void
  /** Encodes the whole current state as entries that rebuild it when applied to an empty state. */
  snapshot(): Buffer[]
}

export interface KvLogStats {
  appends: number
  writes: number
  syncs: number
  snapshots: number
}

interface Waiter {
  resolve: () => void
  reject: (error: unknown) => void
}

interface Group {
  gen: number
  chunks: Buffer[]
  bytes: number
  waiters: Waiter[]
  /** fdatasync after writing even when durability is not 'always' (flush, close). */
  sync: boolean
}

const DEFAULT_COMPACT_MIN_BYTES = 1024 * 1024

export class KvLog {
  readonly stats: KvLogStats = { appends: 0, writes: 0, syncs: 0, snapshots: 0 }
  private readonly durability: Durability
  private readonly log: (msg: string) => void
  private readonly compactMinBytes: number
  private readonly fault: KvLogOptions['faultInjector']
  private readonly timer: NodeJS.Timeout | undefined
  /** Groups not yet started, oldest first; the last one collects new appends. */
  private readonly queue: Group[] = []
  private inflight: Group | undefined
  private running = false
  /** Generation of the open file, and bytes of it known to hold whole entries. */
  private gen: number
  private fileSize: number
  /** A failed write could not be cut off yet: truncate to fileSize before writing again. */
  private needsTruncate = false
  /** Written but not yet fdatasynced bytes exist. */
  private dirty = false
  /** Generation new entries are assigned to, and how many bytes were assigned to it. */
  private assignGen: number
  private assignedBytes: number
  private snapshotBytes: number
  private compaction: Promise<void> | undefined
  private closing = false
  private closePromise: Promise<void> | undefined

  private constructor(
    readonly dir: string,
    private readonly state: KvState,
    private fd: FileHandle,
    recovered: { gen: number; fileSize: number; replayedBytes: number; snapshotBytes: number },
    options: KvLogOptions,
  ) {
    this.durability = options.durability ?? 'always'
    this.log = options.logger ?? (() => {})
    this.compactMinBytes = options.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES
    this.fault = options.faultInjector
    this.gen = recovered.gen
    this.assignGen = recovered.gen
    this.fileSize = recovered.fileSize
    this.assignedBytes = recovered.replayedBytes
    this.snapshotBytes = recovered.snapshotBytes
    if (this.durability === 'interval') {
      const ms = Math.max(1, options.flushIntervalMs ?? 1000)
      this.timer = setInterval(() => {
        if (this.dirty && !this.closing)
          this.flush().catch((e) => this.log(`kvlog ${dir}: interval flush failed: ${e}`))
      }, ms)
      this.timer.unref()
    }
  }

  /** Opens (creating if needed) the log in dir, replaying snapshot and logs into state. */
  static async open(dir: string, state: KvState, options: KvLogOptions = {}): Promise<KvLog> {
    const log = options.logger ?? (() => {})
    try {
      await mkdir(dir, { recursive: true })
      const recovered = await recoverKvDir(dir, state, log)
      // Not O_APPEND: writes are positional so a cut-off tail can be overwritten.
      const fd = await open(join(dir, logName(recovered.gen)), constants.O_RDWR | constants.O_CREAT)
      try {
        const fileSize = (await fd.stat()).size
        if (fileSize === 0) await fsyncDir(dir)
        return new KvLog(dir, state, fd, { ...recovered, fileSize }, options)
      } catch (error) {
        await fd.close().catch(() => {})
        throw error
      }
    } catch (error) {
      throw toStorageError(error, `kvlog ${dir}: open`)
    }
  }

  get closed(): boolean {
    return this.closing
  }

  /**
   * Throws unless payload can be appended. Stores call this before changing memory, so that an entry that
   * could never be written (or read back from a snapshot) is refused instead of half-applied.
   */
  checkEntry(payload: Buffer): void {
    if (this.closing) throw new WharfError('LOG_CLOSED')
    if (payload.length === 0 || payload.length > MAX_ENTRY_BYTES) {
      throw new WharfError('LIMIT_EXCEEDED', `kvlog entry of ${payload.length} bytes (max ${MAX_ENTRY_BYTES})`)
    }
  }

  /** Appends one entry; resolves once it is durable per the durability setting. */
  append(payload: Buffer): Promise<void> {
    try {
      this.checkEntry(payload)
    } catch (error) {
      return Promise.reject(error)
    }
    const group = this.openGroup()
    group.chunks.push(frameHeader(payload), payload)
    group.bytes += FRAME_HEADER_BYTES + payload.length
    this.assignedBytes += FRAME_HEADER_BYTES + payload.length
    this.stats.appends++
    const done = new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }))
    this.maybeCompact()
    this.kick()
    return done
  }

  /**
   * Resolves once everything appended so far is durable per the durability setting. Writers whose
   * mutation turned out to be a no-op await this instead of appending, since the entry that made it a
   * no-op may still be in flight.
   */
  barrier(): Promise<void> {
    if (this.closing) return Promise.reject(new WharfError('LOG_CLOSED'))
    const group = this.queue.at(-1) ?? this.inflight
    if (group === undefined) return Promise.resolve()
    return new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }))
  }

  /** Forces everything appended so far to disk (fdatasync), whatever the durability setting. */
  flush(): Promise<void> {
    if (this.closing) return Promise.reject(new WharfError('LOG_CLOSED'))
    return this.syncAll()
  }

  /** Flushes, waits for a running snapshot and closes the file; later calls return the same promise. */
  close(): Promise<void> {
    this.closePromise ??= this.shutdown()
    return this.closePromise
  }

  private async shutdown(): Promise<void> {
    this.closing = true
    if (this.timer !== undefined) clearInterval(this.timer)
    let failure: unknown
    try {
      await this.syncAll()
    } catch (error) {
      failure = error
    }
    await this.compaction
    try {
      await this.fd.close()
    } catch (error) {
      failure ??= toStorageError(error, `kvlog ${this.dir}: close`)
    }
    if (failure !== undefined) throw failure
  }

  private syncAll(): Promise<void> {
    const group = this.openGroup()
    group.sync = true
    const done = new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }))
    this.kick()
    return done
  }

  /** The group new appends join: the last queued one if it is for the current generation. */
  private openGroup(): Group {
    const last = this.queue.at(-1)
    if (last !== undefined && last.gen === this.assignGen) return last
    const group: Group = { gen: this.assignGen, chunks: [], bytes: 0, waiters: [], sync: false }
    this.queue.push(group)
    return group
  }

  private kick(): void {
    if (this.running) return
    this.running = true
    // Start on a microtask so appends made in the same tick share the first write.
    queueMicrotask(() => void this.run())
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.shift()!
      this.inflight = group
      let failure: unknown
      try {
        await this.writeGroup(group)
      } catch (error) {
        failure = toStorageError(error, `kvlog ${this.dir}: write`)
      }
      this.inflight = undefined
      for (const waiter of group.waiters) {
        if (failure === undefined) waiter.resolve()
        else waiter.reject(failure)
      }
    }
    this.running = false
  }

  private async writeGroup(group: Group): Promise<void> {
    if (group.gen !== this.gen) await this.rotate(group.gen)
    if (this.needsTruncate) {
      await this.fd.truncate(this.fileSize)
      this.needsTruncate = false
    }
    const start = this.fileSize
    try {
      if (group.bytes > 0) {
        const buf = group.chunks.length === 1 ? group.chunks[0]! : Buffer.concat(group.chunks, group.bytes)
        await this.writeAll(buf, start)
        this.stats.writes++
        this.dirty = true
      }
      if (this.dirty && (group.sync || this.durability === 'always')) {
        const injected = this.fault?.('sync')
        if (injected) throw injected
        await this.fd.datasync()
        this.stats.syncs++
        this.dirty = false
      }
      this.fileSize = start + group.bytes
    } catch (error) {
      // Cut off whatever part of the group reached the file, so the next group follows the last whole entry
      // instead of a torn one (recovery would stop there and drop everything after it).
      this.fileSize = start
      try {
        await this.fd.truncate(start)
      } catch {
        this.needsTruncate = true
      }
      throw error
    }
  }

  private async writeAll(buf: Buffer, position: number): Promise<void> {
    const injected = this.fault?.('write')
    if (injected) {
      await this.fd.write(buf, 0, buf.length >> 1, position)
      throw injected
    }
    let done = 0
    while (done < buf.length) {
      const { bytesWritten } = await this.fd.write(buf, done, buf.length - done, position + done)
      done += bytesWritten
    }
  }

  /** Moves the writer to generation gen's log; the old one is synced first so logs replay as a chain. */
  private async rotate(gen: number): Promise<void> {
    if (this.dirty) {
      await this.fd.datasync()
      this.stats.syncs++
      this.dirty = false
    }
    const next = await open(join(this.dir, logName(gen)), 'w+')
    try {
      await fsyncDir(this.dir)
    } catch (error) {
      await next.close()
      throw error
    }
    const old = this.fd
    this.fd = next
    this.gen = gen
    this.fileSize = 0
    this.needsTruncate = false
    await old.close().catch(() => {})
  }

  private maybeCompact(): void {
    if (this.compaction !== undefined || this.closing) return
    if (this.assignedBytes <= Math.max(this.compactMinBytes, 2 * this.snapshotBytes)) return
    const gen = this.assignGen + 1
    const image = encodeSnapshot(this.state.snapshot())
    this.assignGen = gen
    this.assignedBytes = 0
    this.openGroup() // an empty group for the new generation makes the writer rotate promptly
    this.kick()
    this.compaction = this.writeSnapshot(gen, image)
      .catch((error) => this.log(`kvlog ${this.dir}: snapshot ${gen} failed, keeping older files: ${error}`))
      .finally(() => {
        this.compaction = undefined
      })
  }

  private async writeSnapshot(gen: number, image: Buffer): Promise<void> {
    const final = join(this.dir, snapshotName(gen))
    const tmp = `${final}.tmp`
    const handle = await open(tmp, 'w')
    try {
      const injected = this.fault?.('snapshot')
      if (injected) throw injected
      await handle.writeFile(image)
      await handle.sync()
    } catch (error) {
      await handle.close().catch(() => {})
      await unlink(tmp).catch(() => {})
      throw error
    }
    await handle.close()
    await rename(tmp, final)
    await fsyncDir(this.dir)
    this.snapshotBytes = image.length
    this.stats.snapshots++
    // Older generations are now unreachable by recovery. Unlinking a log the writer still has open is
    // harmless: its remaining entries are already in this snapshot.
    for (const name of await readdir(this.dir)) {
      const match = /^(?:snapshot|log)-(\d+)\.bin$/.exec(name)
      if (match && Number(match[1]) < gen) await unlink(join(this.dir, name)).catch(() => {})
    }
  }
}
