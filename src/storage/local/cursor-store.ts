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
//   CURSOR  key, flags, [offset, metadata], [floor, range count, ranges as gaps+lengths]   (snapshots only)
import { WharfError } from '../../util/errors.js'
import type { CursorStore, Durability } from '../api.js'
import { AckSet, offsetsToRuns } from './cursor-acks.js'
import { KvReader, KvWriter } from './kvcodec.js'
import { KvLog, type KvState } from './kvlog.js'

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
}

const HAS_COMMIT = 1
const HAS_ACKS = 2

interface Cursor {
  commit: Readonly<{ offset: number; metadata: string }> | undefined
  acks: AckSet | undefined
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
      cursor = { commit: undefined, acks: undefined }
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
    return changed
  }

  advanceFloor(key: string, floor: number): boolean {
    const existed = this.cursors.get(key)?.acks !== undefined
    return this.acks(key).advanceFloor(floor) || !existed
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
      case Op.Cursor: {
        const flags = reader.u8()
        const cursor: Cursor = { commit: undefined, acks: undefined }
        if (flags & HAS_COMMIT) cursor.commit = Object.freeze({ offset: reader.svarint(), metadata: reader.string() })
        if (flags & HAS_ACKS) {
          const floor = reader.uvarint()
          cursor.acks = AckSet.from(floor, readRuns(reader, floor))
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
    for (const [key, cursor] of this.cursors) {
      const w = new KvWriter(32 + key.length + (cursor.acks?.r.length ?? 0) * 4).u8(Op.Cursor).string(key)
      w.u8((cursor.commit ? HAS_COMMIT : 0) | (cursor.acks ? HAS_ACKS : 0))
      if (cursor.commit) w.svarint(cursor.commit.offset).string(cursor.commit.metadata)
      if (cursor.acks) writeRuns(w.uvarint(cursor.acks.floor), cursor.acks.r, cursor.acks.floor)
      out.push(w.finish())
    }
    return out
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
