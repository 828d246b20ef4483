// CursorStore over a KvLog: every mutation is applied to memory synchronously (readers see it at once) and
// appended as one small binary entry; the returned promise resolves when that entry is durable.
// If the write fails the caller gets DISK_FULL/IO_ERROR, but memory keeps the mutation: the outcome of a
// failed write is indeterminate (it may still reach disk through a later snapshot). Every mutation is
// idempotent (assign or set union), so retrying is always safe.
//
// Entries (first byte = type; keys and metadata are length-prefixed UTF-8; numbers are varints):
//   COMMIT  key, offset (zig-zag), metadata
//   ACK     key, run count, runs as (gap from previous end | first start, length)
//   FLOOR   key, floor
//   DELETE  key
//   COUNTS  key, pair count, pairs as (gap from previous offset | first offset, delivery count; 0 forgets)
//   CURSOR  key, flags, [offset, metadata], [floor, range count, ranges as gaps+lengths], [counts as in COUNTS]
//           (snapshots only)
// Delivery counts live beside the acks of the same key: acking an offset forgets its count in memory, so
// replaying ACK/FLOOR entries drops them as well and snapshots keep only counts of unacked offsets.
import { WharfError } from '../../../util/errors.js'
import type { CursorStore, Durability } from '../../api.js'
import { KvReader, KvWriter } from '../kvlog/codec.js'
import { KvLog, type KvState } from '../kvlog/kvlog.js'
import { AckSet, forgetRuns, normalizeCounts, offsetsToRuns } from './acks.js'

export interface KvStoreOptions {
  durability?: Durability
  flushIntervalMs?: number
  logger?: (msg: string) => void
  /** Smallest log size that triggers a snapshot (default 1 MiB). */
  compactMinBytes?: number
}

enum Op {
  Commit = 1,
  Ack = 2,
  Floor = 3,
  Delete = 4,
  Cursor = 5,
  Counts = 6,
}

const HAS_COMMIT = 1
const HAS_ACKS = 2
const HAS_COUNTS = 4

interface Cursor {
  commit: Readonly<{ offset: number; metadata: string }> | undefined
  acks: AckSet | undefined
  /** Delivery count per unacked offset; absent when there is none. */
  counts: Map<number, number> | undefined
}

/** Offsets stay below 2^52 so that zig-zag varints and range ends remain exact (safe) integers. */
const MAX_OFFSET = 2 ** 52 - 1

export function checkOffset(offset: number, min: number): void {
  if (!Number.isSafeInteger(offset) || offset < min || offset > MAX_OFFSET) {
    throw new WharfError('INVALID_ARGUMENT', `offset must be an integer in [${min}, 2^52), got ${offset}`)
  }
}

/** The in-memory cursor table and its entry codec (the KvState the log replays into). */
export class CursorTable implements KvState {
  readonly cursors = new Map<string, Cursor>()

  private cursor(key: string): Cursor {
    let cursor = this.cursors.get(key)
    if (cursor === undefined) {
      cursor = { commit: undefined, acks: undefined, counts: undefined }
      this.cursors.set(key, cursor)
    }
    return cursor
  }

  private acks(key: string): AckSet {
    const cursor = this.cursor(key)
    cursor.acks ??= new AckSet()
    return cursor.acks
  }

  commit(key: string, offset: number, metadata: string): boolean {
    const old = this.cursors.get(key)?.commit
    if (old !== undefined && old.offset === offset && old.metadata === metadata) return false
    this.cursor(key).commit = Object.freeze({ offset, metadata })
    return true
  }

  /** runs: flat sorted [start, end) pairs. */
  ack(key: string, runs: readonly number[]): boolean {
    const set = this.acks(key)
    let changed = false
    for (let i = 0; i < runs.length; i += 2) changed = set.add(runs[i]!, runs[i + 1]!) || changed
    if (changed) this.forget(key, runs)
    return changed
  }

  advanceFloor(key: string, floor: number): boolean {
    const existed = this.cursors.get(key)?.acks !== undefined
    const changed = this.acks(key).advanceFloor(floor) || !existed
    if (changed) this.forget(key, [0, this.acks(key).floor])
    return changed
  }

  /** pairs: sorted unique [offset, count] (normalizeCounts); counts of acked offsets are not kept. */
  setCounts(key: string, pairs: readonly number[]): boolean {
    const existing = this.cursors.get(key)
    let counts = existing?.counts
    let changed = false
    for (let i = 0; i < pairs.length; i += 2) {
      const offset = pairs[i]!
      const count = pairs[i + 1]!
      if (count === 0) {
        if (counts?.delete(offset)) changed = true
      } else if (counts?.get(offset) !== count && !(existing?.acks?.has(offset) ?? false)) {
        if (counts === undefined) {
          counts = new Map()
          this.cursor(key).counts = counts
        }
        counts.set(offset, count)
        changed = true
      }
    }
    if (counts !== undefined && counts.size === 0) this.dropCounts(key)
    return changed
  }

  /** Forgets the counts of offsets in runs (flat [start, end) pairs) once they are acked. */
  private forget(key: string, runs: readonly number[]): void {
    const counts = this.cursors.get(key)?.counts
    if (counts === undefined) return
    forgetRuns(counts, runs)
    if (counts.size === 0) this.dropCounts(key)
  }

  private dropCounts(key: string): void {
    const cursor = this.cursors.get(key)!
    cursor.counts = undefined
    if (cursor.commit === undefined && cursor.acks === undefined) this.cursors.delete(key)
  }

  delete(key: string): boolean {
    return this.cursors.delete(key)
  }

  apply(payload: Buffer): void {
    const reader = new KvReader(payload)
    const op = reader.u8()
    const key = reader.string()
    switch (op) {
      case Op.Commit:
        this.commit(key, reader.svarint(), reader.string())
        break
      case Op.Ack:
        this.ack(key, readRuns(reader, 0))
        break
      case Op.Floor:
        this.advanceFloor(key, reader.uvarint())
        break
      case Op.Delete:
        this.delete(key)
        break
      case Op.Counts:
        this.setCounts(key, readCounts(reader))
        break
      case Op.Cursor: {
        const flags = reader.u8()
        const cursor: Cursor = { commit: undefined, acks: undefined, counts: undefined }
        if (flags & HAS_COMMIT) cursor.commit = Object.freeze({ offset: reader.svarint(), metadata: reader.string() })
        if (flags & HAS_ACKS) {
          const floor = reader.uvarint()
          cursor.acks = AckSet.from(floor, readRuns(reader, floor))
        }
        if (flags & HAS_COUNTS) {
          const pairs = readCounts(reader)
          if (pairs.length > 0) cursor.counts = new Map()
          for (let i = 0; i < pairs.length; i += 2) cursor.counts!.set(pairs[i]!, pairs[i + 1]!)
        }
        this.cursors.set(key, cursor)
        break
      }
      default:
        throw new WharfError('STORE_CORRUPT', `unknown cursor entry type ${op}`)
    }
    reader.end()
  }

  snapshot(): Buffer[] {
    const out: Buffer[] = []
    for (const key of this.cursors.keys()) out.push(this.encode(key)!)
    return out
  }

  /** One cursor as a CURSOR entry (what apply() restores), or undefined when the key has none. */
  encode(key: string): Buffer | undefined {
    const cursor = this.cursors.get(key)
    if (cursor === undefined) return undefined
    const size = 32 + key.length + (cursor.acks?.r.length ?? 0) * 4 + (cursor.counts?.size ?? 0) * 4
    const w = new KvWriter(size).u8(Op.Cursor).string(key)
    w.u8((cursor.commit ? HAS_COMMIT : 0) | (cursor.acks ? HAS_ACKS : 0) | (cursor.counts ? HAS_COUNTS : 0))
    if (cursor.commit) w.svarint(cursor.commit.offset).string(cursor.commit.metadata)
    if (cursor.acks) writeRuns(w.uvarint(cursor.acks.floor), cursor.acks.r, cursor.acks.floor)
    if (cursor.counts) writeCounts(w, [...cursor.counts].sort((a, b) => a[0] - b[0]).flat())
    return w.finish()
  }
}

/** Runs are sorted and disjoint, so each is stored as (gap after the previous end, length): small varints. */
function writeRuns(w: KvWriter, runs: readonly number[], origin: number): KvWriter {
  w.uvarint(runs.length >> 1)
  let prev = origin
  for (let i = 0; i < runs.length; i += 2) {
    w.uvarint(runs[i]! - prev).uvarint(runs[i + 1]! - runs[i]!)
    prev = runs[i + 1]!
  }
  return w
}

function readRuns(reader: KvReader, origin: number): number[] {
  const count = reader.uvarint()
  const runs: number[] = []
  let prev = origin
  for (let i = 0; i < count; i++) {
    const start = prev + reader.uvarint()
    const end = start + reader.uvarint()
    if (!Number.isSafeInteger(end) || end <= start) throw new WharfError('STORE_CORRUPT', 'bad ack run')
    runs.push(start, end)
    prev = end
  }
  return runs
}

/** pairs: sorted unique [offset, count]; offsets as gaps (the first from 0), so runs of neighbours stay small. */
function writeCounts(w: KvWriter, pairs: readonly number[]): KvWriter {
  w.uvarint(pairs.length >> 1)
  let prev = 0
  for (let i = 0; i < pairs.length; i += 2) {
    w.uvarint(pairs[i]! - prev).uvarint(pairs[i + 1]!)
    prev = pairs[i]!
  }
  return w
}

function readCounts(reader: KvReader): number[] {
  const n = reader.uvarint()
  const pairs: number[] = []
  let prev = 0
  for (let i = 0; i < n; i++) {
    const gap = reader.uvarint()
    const offset = prev + gap
    if ((i > 0 && gap === 0) || !Number.isSafeInteger(offset))
      throw new WharfError('STORE_CORRUPT', 'bad delivery count')
    pairs.push(offset, reader.uvarint())
    prev = offset
  }
  return pairs
}

/** Validates [offset, count, ...] from a caller and sorts it (last count of an offset wins). */
export function checkedCounts(counts: readonly number[]): number[] {
  if (counts.length % 2 !== 0) throw new WharfError('INVALID_ARGUMENT', 'delivery counts must be [offset, count] pairs')
  for (let i = 0; i < counts.length; i += 2) {
    checkOffset(counts[i]!, 0)
    const count = counts[i + 1]!
    if (!Number.isSafeInteger(count) || count < 0 || count > MAX_OFFSET) {
      throw new WharfError('INVALID_ARGUMENT', `delivery count must be a non-negative integer, got ${count}`)
    }
  }
  return normalizeCounts(counts)
}

/** The read side of a cursor store, over its in-memory table (shared by the durable and the memory store). */
export abstract class CursorTableReads {
  constructor(protected readonly table: CursorTable) {}

  protected abstract check(): void

  getOffset(key: string): { offset: number; metadata: string } | undefined {
    this.check()
    return this.table.cursors.get(key)?.commit
  }

  getAcks(key: string): { floor: number; ranges: ReadonlyArray<readonly [number, number]> } | undefined {
    this.check()
    const acks = this.table.cursors.get(key)?.acks
    return acks === undefined ? undefined : { floor: acks.floor, ranges: acks.toRanges() }
  }

  isAcked(key: string, offset: number): boolean {
    this.check()
    return this.table.cursors.get(key)?.acks?.has(offset) ?? false
  }

  /** A live read-only view (no copy: callers read it once, at open). */
  getDeliveryCounts(key: string): ReadonlyMap<number, number> | undefined {
    this.check()
    return this.table.cursors.get(key)?.counts
  }

  keys(prefix = ''): string[] {
    this.check()
    const out: string[] = []
    for (const key of this.table.cursors.keys()) if (key.startsWith(prefix)) out.push(key)
    return out.sort()
  }
}

class LocalCursorStore extends CursorTableReads implements CursorStore {
  constructor(
    table: CursorTable,
    private readonly log: KvLog,
  ) {
    super(table)
  }

  protected check(): void {
    if (this.log.closed) throw new WharfError('LOG_CLOSED', 'cursor store is closed')
  }

  /**
   * Persists entry for a mutation already applied to memory. A no-op mutation writes nothing but still
   * waits for earlier entries, since the one that made it a no-op may not be durable yet.
   */
  private mutate(entry: Buffer, apply: () => boolean): Promise<void> {
    this.log.checkEntry(entry)
    return apply() ? this.log.append(entry) : this.log.barrier()
  }

  async commitOffset(key: string, offset: number, metadata = ''): Promise<void> {
    this.check()
    checkOffset(offset, -MAX_OFFSET)
    const entry = new KvWriter(16 + key.length + metadata.length).u8(Op.Commit).string(key).svarint(offset)
    return this.mutate(entry.string(metadata).finish(), () => this.table.commit(key, offset, metadata))
  }

  async ack(key: string, offsets: readonly number[]): Promise<void> {
    this.check()
    if (offsets.length === 0) return this.log.barrier()
    for (const offset of offsets) checkOffset(offset, 0)
    const runs = offsetsToRuns(offsets)
    const entry = writeRuns(new KvWriter(16 + key.length + runs.length * 3).u8(Op.Ack).string(key), runs, 0)
    return this.mutate(entry.finish(), () => this.table.ack(key, runs))
  }

  async advanceFloor(key: string, floor: number): Promise<void> {
    this.check()
    checkOffset(floor, 0)
    const entry = new KvWriter(16 + key.length).u8(Op.Floor).string(key).uvarint(floor).finish()
    return this.mutate(entry, () => this.table.advanceFloor(key, floor))
  }

  async setDeliveryCounts(key: string, counts: readonly number[]): Promise<void> {
    this.check()
    if (counts.length === 0) return this.log.barrier()
    const pairs = checkedCounts(counts)
    const entry = writeCounts(new KvWriter(16 + key.length + pairs.length * 3).u8(Op.Counts).string(key), pairs)
    return this.mutate(entry.finish(), () => this.table.setCounts(key, pairs))
  }

  async delete(key: string): Promise<void> {
    this.check()
    return this.mutate(new KvWriter(8 + key.length).u8(Op.Delete).string(key).finish(), () => this.table.delete(key))
  }

  flush(): Promise<void> {
    return this.log.flush()
  }

  close(): Promise<void> {
    return this.log.close()
  }
}

/** Opens (creating if needed) the cursor store kept in dir (e.g. `<dataDir>/cursors`). */
export async function openCursorStore(dir: string, options: KvStoreOptions = {}): Promise<CursorStore> {
  const table = new CursorTable()
  const log = await KvLog.open(dir, table, options)
  return new LocalCursorStore(table, log)
}
