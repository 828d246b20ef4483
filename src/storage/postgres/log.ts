// A PartitionLog in PostgreSQL: one wharf_chunk row per group commit (the RecordBatch bytes of every append
// that joined it, untouched), and the wharf_log row whose next_offset every commit moves forward.
// Appends get offsets synchronously in call order and wait in a queue; each group commit takes the queue (up
// to GROUP_BYTES) into one statement that moves the log row only if next_offset is what this process believes
// (a commit reported lost but done is noticed, not overwritten) and inserts the chunk. An append resolves,
// and its records become readable (high watermark), only after COMMIT. Index and tail cache: chunk-index.ts;
// the SQL: log-rows.ts. In cluster mode (a fence) only the owner appends, and its statement also requires the
// owner and epoch it loaded its state under; a log gained reloads its state first, and a log not owned catches
// up with the owner's rows when a read asks past its known end. Compaction: compaction.ts.
import { encodeBatch, type Record, type RecordInput } from '../../record/index.js'
import { WharfError } from '../../util/errors.js'
import type { AppendResult, CompactionResult, LogConfig, PartitionLog, ReadResult } from '../api.js'
import { assignOffsets, decodeRecords } from '../local/partition-log/append-check.js'
import { type Chunk, ChunkIndex, skipBatchesBefore } from './chunk-index.js'
import type { LogFence } from './cluster/fence.js'
import { LogOwner } from './cluster/log-owner.js'
import { compactChunks } from './compaction.js'
import type { Database } from './connection.js'
import { synchronousCommit } from './durability.js'
import type { InFlight, PendingAppend } from './log-appends.js'
import * as rows from './log-rows.js'

/** Most bytes one group commit (one chunk row) takes, beyond its first append. */
const GROUP_BYTES = 4 * 1024 * 1024
/**
 * Group commits in flight per log at once. A second statement waits on the log row's lock until the first
 * commits, so only its transfer overlaps; measured (bench/postgres.ts) it cost more CPU than it saved.
 */
const PIPELINE_DEPTH = 1

export interface PostgresLogOptions {
  /** Bytes of the newest chunks kept in memory per log (default 4 MiB). */
  tailCacheBytes: number
  /** Cluster mode: who owns which log; absent on a single broker, which owns every log. */
  fence?: LogFence
  /** Told how long each group commit's statement took up to its COMMIT (the durable point), in seconds. */
  committed?: (seconds: number) => void
}

export class PostgresPartitionLog implements PartitionLog {
  readonly name: string
  readonly #db: Database
  readonly #id: number
  #config: LogConfig
  readonly #index: ChunkIndex
  #logStartOffset: number
  /** End of what is committed (high watermark). */
  #committedEnd: number
  #nextOffset: number
  #pending: PendingAppend[] = []
  #flushing: Promise<void> | undefined
  /** Set after a commit failed: its outcome is unknown, so the next commit first re-reads the log row. */
  #resync = false
  #closed = false
  readonly #listeners = new Set<(nextOffset: number) => void>()
  /** Cluster mode: whether this broker owns the log (absent on a single broker, which owns every log). */
  #owner: LogOwner | undefined
  #reloading: Promise<unknown> = Promise.resolve()
  readonly #committed: ((seconds: number) => void) | undefined

  private constructor(
    db: Database,
    id: number,
    name: string,
    config: LogConfig,
    options: PostgresLogOptions,
    logStart: number,
    next: number,
  ) {
    this.#db = db
    this.#id = id
    this.name = name
    this.#config = config
    this.#logStartOffset = logStart
    this.#committedEnd = this.#nextOffset = next
    this.#index = new ChunkIndex(options.tailCacheBytes)
    this.#committed = options.committed
  }

  static async open(db: Database, name: string, config: LogConfig, options: PostgresLogOptions) {
    const row = await rows.openLogRow(db, name, options.fence?.nodeId)
    if (row === undefined) throw new WharfError('IO_ERROR', `log ${name} vanished while opening`)
    const log = new PostgresPartitionLog(db, row.id, name, config, options, row.logStart, row.next)
    await log.#loadIndex(0)
    const owned = { name, reload: () => log.#reload(), flush: () => log.flush() }
    if (options.fence !== undefined) log.#owner = new LogOwner(options.fence, owned, row)
    return log
  }

  /** Adds the rows at or after fromOffset to the index (at open, and after a commit of unknown outcome). */
  async #loadIndex(fromOffset: number): Promise<void> {
    for (const chunk of await rows.chunkEntries(this.#db, this.#id, fromOffset)) this.#index.push(chunk)
  }

  /**
   * Reads the log row and the chunk rows past the known end (another owner's, or a commit of unknown outcome),
   * one reload at a time. Appends waiting have offsets from the old end: only a resync (which fails them) moves it.
   */
  #reload(pendingFail = false): Promise<rows.LogRow> {
    const next = this.#reloading.then(async () => {
      const row = await rows.readLogRow(this.#db, this.#id)
      if (row === undefined) throw new WharfError('IO_ERROR', `log ${this.name} is gone from the database`)
      if (row.next > this.#committedEnd && (pendingFail || this.#nextOffset === this.#committedEnd)) {
        await this.#loadIndex(this.#committedEnd)
        this.#committedEnd = row.next
        this.#nextOffset = row.next
        for (const listener of this.#listeners) listener(row.next)
      }
      if (row.logStart > this.#logStartOffset) {
        this.#index.dropBefore(this.#index.indexFor(row.logStart))
        this.#logStartOffset = row.logStart
      }
      this.#resync = false
      return row
    })
    this.#reloading = next.catch(() => {})
    return next
  }

  get logStartOffset(): number {
    return this.#logStartOffset
  }
  get nextOffset(): number {
    return this.#nextOffset
  }
  get highWatermark(): number {
    return this.#committedEnd
  }
  get ownerEpoch(): number | undefined {
    return this.#owner?.epoch
  }
  get sizeBytes(): number {
    return this.#index.bytes
  }
  get segmentCount(): number {
    return this.#index.count
  }
  get config(): Readonly<LogConfig> {
    return this.#config
  }

  append(batches: Buffer[]): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new WharfError('LOG_CLOSED', `log ${this.name} is closed`))
    const redirected = this.#owner?.redirect(batches, () => this.append(batches))
    if (redirected !== undefined) return redirected
    let infos: ReturnType<typeof assignOffsets>
    try {
      infos = assignOffsets(batches, this.#nextOffset, this.#config.maxBatchBytes)
    } catch (error) {
      return Promise.reject(error)
    }
    let bytes = 0
    let maxTimestamp = -1
    for (const info of infos) {
      bytes += info.size
      if (info.maxTimestamp > maxTimestamp) maxTimestamp = info.maxTimestamp
    }
    const result: AppendResult = {
      baseOffset: this.#nextOffset,
      lastOffset: infos[infos.length - 1]!.lastOffset,
      appendTime: Date.now(),
    }
    this.#nextOffset = result.lastOffset + 1
    return new Promise((resolve, reject) => {
      this.#pending.push({ batches, bytes, maxTimestamp, result, resolve, reject })
      this.#kick()
    })
  }

  appendRecords(records: RecordInput[]): Promise<AppendResult> {
    try {
      return this.append([encodeBatch(records)])
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #kick(): void {
    if (this.#flushing !== undefined || this.#pending.length === 0) return
    this.#flushing = this.#commitLoop().finally(() => {
      this.#flushing = undefined
      this.#kick()
    })
  }

  /** Takes the next group off the queue (up to GROUP_BYTES, at least one append) and sends its statement. */
  #issue(): InFlight {
    let take = 1
    let bytes = this.#pending[0]!.bytes
    while (take < this.#pending.length && bytes + this.#pending[take]!.bytes <= GROUP_BYTES)
      bytes += this.#pending[take++]!.bytes
    const group = this.#pending.splice(0, take)
    const baseOffset = group[0]!.result.baseOffset
    const lastOffset = group[group.length - 1]!.result.lastOffset
    let maxTimestamp = -1
    for (const append of group) if (append.maxTimestamp > maxTimestamp) maxTimestamp = append.maxTimestamp
    const data = Buffer.concat(group.flatMap((append) => append.batches))
    // A second statement in flight waits on the log row's lock for the first's COMMIT and then finds
    // next_offset where it expects it (or, if the first failed, not: 0 rows).
    const done = this.#commit({ baseOffset, lastOffset, maxTimestamp, data })
    done.catch(() => {}) // awaited in order by the loop
    return { group, chunk: { baseOffset, lastOffset, maxTimestamp, bytes: data.length, data }, done }
  }

  async #commit(chunk: { baseOffset: number; lastOffset: number; maxTimestamp: number; data: Buffer }) {
    const fence = this.#owner?.statementFence()
    if (
      await rows.commitChunk(this.#db, this.#id, {
        ...chunk,
        fence,
        synchronousCommit: synchronousCommit(this.#config),
        committed: this.#committed,
      })
    )
      return
    const fenced = fence && this.#owner!.fenced(fence.epoch, await rows.readLogRow(this.#db, this.#id))
    if (fenced) throw fenced
    throw new WharfError('IO_ERROR', `log ${this.name}: the database moved on (another writer?); retry`)
  }

  /**
   * Keeps up to PIPELINE_DEPTH group commits in flight and settles them in offset order: the next group's
   * statement travels while the previous one's COMMIT is being flushed to the WAL.
   */
  async #commitLoop(): Promise<void> {
    // Let every append issued in this tick join the first group.
    await Promise.resolve()
    const inflight: InFlight[] = []
    try {
      if (this.#resync) await this.#resyncWithDatabase()
      while (this.#pending.length > 0 || inflight.length > 0) {
        if (this.#pending.length > 0 && inflight.length < PIPELINE_DEPTH) {
          inflight.push(this.#issue())
          continue
        }
        const head = inflight[0]!
        await head.done
        inflight.shift()
        this.#index.push(head.chunk)
        this.#committedEnd = head.chunk.lastOffset + 1
        for (const append of head.group) append.resolve(append.result)
        for (const listener of this.#listeners) listener(this.#committedEnd)
      }
    } catch (error) {
      // Later appends have offsets after the failed group's: fail them all (in flight too, once done) and hand
      // out offsets again from the committed end. What really committed is re-read (#resync) before the next.
      this.#resync = true
      await Promise.allSettled(inflight.map((i) => i.done))
      const failed = [...inflight.flatMap((i) => i.group), ...this.#pending]
      this.#pending = []
      this.#nextOffset = this.#committedEnd
      const wrapped =
        error instanceof WharfError ? error : new WharfError('IO_ERROR', `PostgreSQL: ${(error as Error).message}`)
      for (const append of failed) append.reject(wrapped)
    }
  }

  /**
   * After a commit of unknown outcome: if it did happen, its chunk joins the index (not acknowledged, so a retry
   * may store it twice, as at-least-once allows) and appends queued since (offsets now taken) fail, to be retried.
   */
  async #resyncWithDatabase(): Promise<void> {
    const end = this.#committedEnd
    if ((await this.#reload(true)).next !== end)
      throw new WharfError('IO_ERROR', `log ${this.name}: an earlier commit was found to have succeeded; retry`)
  }

  #checkReadable(fromOffset: number): void {
    if (this.#closed) throw new WharfError('LOG_CLOSED', `log ${this.name} is closed`)
    if (!Number.isSafeInteger(fromOffset) || fromOffset < this.#logStartOffset || fromOffset > this.#committedEnd) {
      throw new WharfError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${fromOffset} is outside [${this.#logStartOffset}, ${this.#committedEnd}] of ${this.name}`,
      )
    }
  }

  /** The chunks from index i on that fit maxBytes (at least one), with their bytes (from cache or one query). */
  #chunksFrom(i: number, maxBytes: number): Promise<Array<{ chunk: Chunk; data: Buffer }>> {
    const fetch = (from: number, to: number) => rows.chunkBytes(this.#db, this.#id, from, to)
    return this.#index.pick(i, maxBytes, this.#committedEnd, fetch)
  }

  async read(fromOffset: number, maxBytes: number): Promise<ReadResult> {
    await this.#owner?.catchUp(fromOffset, this.#committedEnd)
    this.#checkReadable(fromOffset)
    const found = await this.#chunksFrom(this.#index.indexFor(fromOffset), maxBytes)
    const chunks: Buffer[] = []
    let bytes = 0
    let nextOffset = fromOffset
    for (const { chunk, data } of found) {
      // A row holds several batches: start at the one containing fromOffset, as the contract says.
      const view = chunk.baseOffset < fromOffset ? skipBatchesBefore(data, fromOffset) : data
      chunks.push(view)
      bytes += view.length
      nextOffset = chunk.lastOffset + 1
    }
    return { chunks, bytes, nextOffset, logStartOffset: this.#logStartOffset, highWatermark: this.#committedEnd }
  }

  async readRecords(fromOffset: number, maxBytes: number): Promise<{ records: Record[]; nextOffset: number }> {
    await this.#owner?.catchUp(fromOffset, this.#committedEnd)
    this.#checkReadable(fromOffset)
    const found = await this.#chunksFrom(this.#index.indexFor(fromOffset), maxBytes)
    const records: Record[] = []
    let nextOffset = fromOffset
    for (const { chunk, data } of found) {
      for (const record of decodeRecords([data], fromOffset)) records.push(record)
      nextOffset = chunk.lastOffset + 1
    }
    return { records, nextOffset }
  }

  async offsetForTimestamp(timestamp: number): Promise<number | null> {
    await this.#owner?.catchUp(this.#committedEnd, this.#committedEnd)
    const all = this.#index.chunks
    for (let i = this.#index.head; i < all.length; i++) {
      const chunk = all[i]!
      if (chunk.maxTimestamp < timestamp || chunk.baseOffset >= this.#committedEnd) continue
      const [found] = await this.#chunksFrom(i, 0)
      if (found === undefined) continue
      for (const record of decodeRecords([found.data], this.#logStartOffset)) {
        if (record.timestamp >= timestamp) return record.offset
      }
    }
    return null
  }

  async deleteRecordsBefore(offset: number): Promise<number> {
    const refused = this.#owner?.refusal()
    if (refused !== undefined) throw refused
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.#committedEnd) {
      throw new WharfError(
        'OFFSET_OUT_OF_RANGE',
        `cannot delete records before ${offset}: high watermark is ${this.#committedEnd}`,
      )
    }
    if (offset <= this.#logStartOffset) return this.#logStartOffset
    const all = this.#index.chunks
    let drop = this.#index.head
    while (drop < all.length && all[drop]!.lastOffset < offset) drop++
    await this.#deleteBelow(offset, drop)
    return this.#logStartOffset
  }

  async enforceRetention(now = Date.now()): Promise<number> {
    const { retentionMs, retentionBytes } = this.#config
    if ((retentionMs < 0 && retentionBytes < 0) || this.#owner?.refusal() !== undefined) return 0
    const all = this.#index.chunks
    let drop = this.#index.head
    let bytes = this.#index.bytes
    while (drop < all.length) {
      const chunk = all[drop]!
      if (chunk.baseOffset >= this.#committedEnd) break
      const expired = retentionMs >= 0 && chunk.maxTimestamp >= 0 && chunk.maxTimestamp < now - retentionMs
      const tooBig = retentionBytes >= 0 && bytes - chunk.bytes >= retentionBytes
      if (!expired && !tooBig) break
      bytes -= chunk.bytes
      drop++
    }
    const dropped = drop - this.#index.head
    if (dropped > 0) await this.#deleteBelow(all[drop - 1]!.lastOffset + 1, drop)
    return dropped
  }

  /** Moves log_start to start and deletes the rows of the chunks before index drop, in one transaction. */
  async #deleteBelow(start: number, drop: number): Promise<void> {
    await rows.deleteChunksBelow(this.#db, this.#id, start)
    this.#logStartOffset = Math.max(this.#logStartOffset, start)
    this.#index.dropBefore(drop)
  }

  compact(now = Date.now()): Promise<CompactionResult> {
    const owned = this.#owner?.refusal() === undefined
    return compactChunks(this.#db, this.#id, this.#index, this.#config, () => this.#committedEnd, now, owned)
  }

  onAppend(listener: (nextOffset: number) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  updateConfig(config: Partial<LogConfig>): void {
    this.#config = { ...this.#config, ...config }
  }

  /** Waits until every append issued so far has committed (or failed). */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing
  }

  async close(): Promise<void> {
    if (this.#closed) return
    await this.flush()
    this.#closed = true
    this.#owner?.close()
    this.#listeners.clear()
    this.#index.clear()
  }
}
