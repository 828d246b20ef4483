// The transaction log: one internal partition log (`__wharf_transactions`, opened straight from storage, so no
// stream catalog, listing or protocol ever sees it) holding one commit record per committed transaction. A
// commit record is ONE RecordBatch, appended with fsync: its first record (key `commit`) is a JSON summary —
// the transaction id, each destination partition with the high watermark it had before the commit and how
// many records go there, the durable acks — and the records that follow are the messages, exactly as they
// will be appended, grouped by destination in summary order. One batch is written whole or not at all, so
// the fsynced batch is the commit point. "Applied up to" is a committed offset in the cursor store.
import {
  decodeBatch,
  encodeBatch,
  type Record,
  type RecordHeader,
  type RecordInput,
  splitBatches,
} from '../../record/index.js'
import type { CursorStore, PartitionLog, StorageEngine } from '../../storage/api.js'

export const TRANSACTION_LOG = '__wharf_transactions'
/** The cursor-store key of the "applied up to" marker (outside the `g`/`q` key spaces of groups and queues). */
export const APPLIED_KEY = 't\u0000applied'
/** The reserved header each appended transactional record carries: the transaction id (recovery counts them). */
export const TX_HEADER = 'wharf.tx'
const COMMIT_KEY = Buffer.from('commit')
const MARKER_EVERY_MS = 1000

/** One destination partition of a commit. */
export interface CommitTarget {
  stream: string
  streamId: number
  partition: number
  /** The partition's high watermark before the commit: the transaction's records are at or after it. */
  from: number
  count: number
}

/** An ack a commit makes durable: the queue partition's cursor key and the offset. */
export interface CommitAck {
  key: string
  offset: number
}

export interface CommitSummary {
  id: string
  targets: CommitTarget[]
  acks: CommitAck[]
}

export interface CommitRecord {
  /** The commit record's offset in the transaction log. */
  offset: number
  summary: CommitSummary
  /** The messages of each target, in target order. */
  records: RecordInput[][]
}

export function txHeader(id: string): RecordHeader {
  return { key: TX_HEADER, value: Buffer.from(id) }
}

/** Whether a stored record belongs to transaction `id`. */
export function isOf(record: Record, id: Buffer): boolean {
  for (const h of record.headers) if (h.key === TX_HEADER) return h.value?.equals(id) === true
  return false
}

export class CommitLog {
  readonly #log: PartitionLog
  readonly #cursors: CursorStore
  readonly #maxBatchBytes: number
  /** Offsets of commit records whose operations are not all applied yet. */
  readonly #unapplied = new Set<number>()
  #stored = -1
  #storing: Promise<void> | null = null
  #timer: NodeJS.Timeout | null = null
  /** Closing: no more timed stores. */
  #settled = false

  private constructor(log: PartitionLog, cursors: CursorStore, maxBatchBytes: number) {
    this.#log = log
    this.#cursors = cursors
    this.#maxBatchBytes = maxBatchBytes
  }

  static async open(storage: StorageEngine, maxBatchBytes: number): Promise<CommitLog> {
    const log = await storage.openLog(TRANSACTION_LOG, {
      durability: 'always',
      maxBatchBytes,
      segmentBytes: 16 * 1024 * 1024,
      retentionMs: -1,
      retentionBytes: -1,
      compact: false,
    })
    return new CommitLog(log, storage.cursors, maxBatchBytes)
  }

  /** The applied-up-to marker: every commit record below it is applied. */
  get applied(): number {
    return Math.max(this.#cursors.getOffset(APPLIED_KEY)?.offset ?? 0, this.#log.logStartOffset)
  }

  /** Every commit record at or after the marker (recovery at open), oldest first. */
  async unappliedRecords(): Promise<CommitRecord[]> {
    const out: CommitRecord[] = []
    let offset = this.applied
    const end = this.#log.highWatermark
    while (offset < end) {
      const read = await this.#log.read(offset, 1024 * 1024)
      if (read.chunks.length === 0) break
      for (const chunk of read.chunks) {
        for (const batch of splitBatches(chunk, { maxBatchBytes: this.#maxBatchBytes })) {
          const { records } = decodeBatch(batch, { maxBatchBytes: this.#maxBatchBytes })
          const first = records[0]
          if (first === undefined || first.offset < offset) continue
          out.push(parse(records))
        }
      }
      offset = read.nextOffset
    }
    return out
  }

  /**
   * Appends a commit record; resolves with its offset once fsynced (the commit point). Until `applied(offset)`
   * the marker stays below it.
   */
  async append(summary: CommitSummary, records: RecordInput[][]): Promise<number> {
    const batch: RecordInput[] = [{ key: COMMIT_KEY, value: Buffer.from(JSON.stringify(summary)), headers: [] }]
    for (const group of records) batch.push(...group)
    const bytes = encodeBatch(batch)
    const offset = this.#log.nextOffset
    this.#unapplied.add(offset)
    try {
      await this.#log.append([bytes])
    } catch (error) {
      this.#unapplied.delete(offset)
      throw error
    }
    return offset
  }

  /**
   * A commit's operations are all durable: the marker may pass it. Stored at most once per MARKER_EVERY_MS
   * (not one more fsync per commit): a stale marker only makes recovery re-check commits already applied.
   */
  done(offset: number): void {
    this.#unapplied.delete(offset)
    this.#storeLater()
  }

  #storeLater(): void {
    if (this.#timer !== null || this.#settled) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#storeMarker()
    }, MARKER_EVERY_MS)
    this.#timer.unref()
  }

  /** Recovery applied everything up to the log's end. */
  async recovered(): Promise<void> {
    await this.#store(this.#log.nextOffset)
  }

  #marker(): number {
    let lowest = this.#log.nextOffset
    for (const offset of this.#unapplied) if (offset < lowest) lowest = offset
    return lowest
  }

  #storeMarker(): void {
    if (this.#storing !== null) return
    const marker = this.#marker()
    if (marker <= this.#stored) return
    let failed = false
    this.#storing = this.#store(marker)
      .catch(() => {
        failed = true
      })
      .finally(() => {
        this.#storing = null
        // A failed store (storage unreachable) is tried again on the timer, not at once: at once would spin
        // while storage is down, and keep settle() (broker close) waiting until it is back.
        if (failed) this.#storeLater()
        else if (this.#marker() > this.#stored) this.#storeMarker()
      })
  }

  async #store(marker: number): Promise<void> {
    await this.#cursors.commitOffset(APPLIED_KEY, marker)
    this.#stored = marker
    // Retention: commit records below the marker are never read again; whole segments go once one rolled.
    if (this.#log.segmentCount > 1 && marker > this.#log.logStartOffset) await this.#log.deleteRecordsBefore(marker)
  }

  /**
   * Stores the marker now and waits for it (broker close); if storage fails, the stale marker stays (recovery
   * re-checks the commits after it) and nothing is retried.
   */
  async settle(): Promise<void> {
    this.#settled = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#storeMarker()
    while (this.#storing !== null) await this.#storing
  }
}

function parse(records: Record[]): CommitRecord {
  const head = records[0]!
  const summary = JSON.parse(head.value!.toString()) as CommitSummary
  const groups: RecordInput[][] = []
  let at = 1
  for (const target of summary.targets) {
    groups.push(
      records
        .slice(at, at + target.count)
        .map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
    )
    at += target.count
  }
  return { offset: head.offset, summary, records: groups }
}
