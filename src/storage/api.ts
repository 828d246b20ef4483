// The storage interface: everything upper layers may know about storage. A scale-out backend can replace
// the local implementation (src/storage/local) behind these types. Storage stores bytes and cursors and
// says when they are durable; it knows nothing of what subscriptions or streams mean.
import type { Record, RecordInput } from '../record/index.js'
import { WharfError } from '../util/errors.js'

export type Durability = 'always' | 'interval' | 'never'

export interface LogConfig {
  /** Roll the active segment once it holds this many bytes. */
  segmentBytes: number
  /** Roll the active segment once its first batch is this old (ms). */
  segmentMs: number
  /** One sparse offset/time index entry per this many log bytes. */
  indexIntervalBytes: number
  /** always: resolve appends after fdatasync (group commit); interval: fdatasync every flushIntervalMs; never: page cache only. */
  durability: Durability
  flushIntervalMs: number
  /** Delete whole segments whose newest record is older than this (ms); -1 keeps forever. */
  retentionMs: number
  /** Delete oldest segments while the partition is larger than this; -1 means unlimited. */
  retentionBytes: number
  /** Keep only the latest record per key in sealed segments (tombstones kept for deleteRetentionMs). */
  compact: boolean
  deleteRetentionMs: number
  /** Largest single batch append accepts. */
  maxBatchBytes: number
}

export const defaultLogConfig: LogConfig = {
  segmentBytes: 64 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  durability: 'always',
  flushIntervalMs: 1000,
  retentionMs: -1,
  retentionBytes: -1,
  compact: false,
  deleteRetentionMs: 24 * 3600 * 1000,
  maxBatchBytes: 8 * 1024 * 1024,
}

/** Checks a log config's bounds (every engine: the broker hands the same config to whichever runs). */
export function validateLogConfig(config: LogConfig): LogConfig {
  const positive = ['segmentBytes', 'segmentMs', 'indexIntervalBytes', 'flushIntervalMs', 'maxBatchBytes'] as const
  for (const key of positive) {
    if (!Number.isSafeInteger(config[key]) || config[key] <= 0) {
      throw new WharfError('INVALID_CONFIG', `${key} must be a positive integer`)
    }
  }
  if (config.segmentBytes > 1024 * 1024 * 1024)
    throw new WharfError('INVALID_CONFIG', 'segmentBytes must be at most 1 GiB')
  for (const key of ['retentionMs', 'retentionBytes', 'deleteRetentionMs'] as const) {
    if (!Number.isSafeInteger(config[key]) || config[key] < -1)
      throw new WharfError('INVALID_CONFIG', `${key} must be -1 or >= 0`)
  }
  if (!['always', 'interval', 'never'].includes(config.durability)) {
    throw new WharfError('INVALID_CONFIG', 'durability must be always, interval or never')
  }
  return config
}

export interface AppendResult {
  /** Offset assigned to the first record of the first batch. */
  baseOffset: number
  /** Offset of the last record of the last batch. */
  lastOffset: number
  /** Wall-clock time (ms) at which the log accepted the batches. */
  appendTime: number
}

export interface ReadResult {
  /**
   * Stored RecordBatch bytes, untouched: whole batches, the first one being the batch that contains
   * fromOffset (callers skip earlier records, as Kafka clients do). At least one whole batch is returned
   * when any exists at or after fromOffset, even if it exceeds maxBytes.
   */
  chunks: Buffer[]
  bytes: number
  /** Offset after the last record returned (next fetch position), or fromOffset when nothing was read. */
  nextOffset: number
  logStartOffset: number
  highWatermark: number
}

export interface CompactionResult {
  segmentsRewritten: number
  recordsRemoved: number
  bytesBefore: number
  bytesAfter: number
}

export interface PartitionLog {
  readonly name: string
  /** First offset still readable. */
  readonly logStartOffset: number
  /** Offset the next appended record gets (log end offset; includes appends not yet durable). */
  readonly nextOffset: number
  /**
   * Offset below which records are readable: appends become visible only once durable per the log's
   * durability setting, so a reader never sees a record that a crash could take back.
   */
  readonly highWatermark: number
  readonly sizeBytes: number
  readonly segmentCount: number
  /**
   * In cluster mode, the owner epoch under which this broker appends to the log, undefined while it does not
   * own it (and always for a single broker). State a broker derives from the log's contents (producer
   * sequences) is whole only while this stays the same: under another epoch another broker appended.
   */
  readonly ownerEpoch?: number
  /**
   * Appends complete RecordBatch v2 buffers (validated by the caller with src/record) as one unit.
   * Rewrites each batch's baseOffset and partitionLeaderEpoch in place (both are outside the CRC).
   * Offsets are assigned synchronously, in call order; the promise resolves when the batches are
   * durable per the log's durability setting.
   */
  append(batches: Buffer[]): Promise<AppendResult>
  /**
   * Appends records as one unit (one uncompressed batch on disk). A memory log keeps the objects as they
   * are, so a transient queue never encodes what its consumers read back as objects.
   */
  appendRecords(records: RecordInput[]): Promise<AppendResult>
  read(fromOffset: number, maxBytes: number): Promise<ReadResult>
  /**
   * Decoded records at or after fromOffset (control batches skipped), about maxBytes worth but at least
   * one batch; nextOffset as in read().
   */
  readRecords(fromOffset: number, maxBytes: number): Promise<{ records: Record[]; nextOffset: number }>
  /** First offset whose batch maxTimestamp >= timestamp, or null if none. */
  offsetForTimestamp(timestamp: number): Promise<number | null>
  /** Moves logStartOffset forward (Kafka DeleteRecords) and deletes segments wholly below it. */
  deleteRecordsBefore(offset: number): Promise<number>
  /** Applies time/size retention now (also runs on a timer owned by the engine). */
  enforceRetention(now?: number): Promise<number>
  /** Runs one compaction pass over sealed segments (no-op unless config.compact). */
  compact(now?: number): Promise<CompactionResult>
  /** Called after every append becomes readable (readers tail the log without polling). */
  onAppend(listener: (nextOffset: number) => void): () => void
  updateConfig(config: Partial<LogConfig>): void
  readonly config: Readonly<LogConfig>
  /** Forces everything appended so far to disk. */
  flush(): Promise<void>
  close(): Promise<void>
}

/** Durable consumer positions. Keys are opaque to storage (the broker chooses them). */
export interface CursorStore {
  /** Log mode: the committed offset of a key, with its opaque metadata string. */
  getOffset(key: string): { offset: number; metadata: string } | undefined
  commitOffset(key: string, offset: number, metadata?: string): Promise<void>
  /**
   * Queue mode: records individual acks. State is a floor (every offset below it is acked) plus acked
   * ranges above it; the floor advances over contiguous acks automatically.
   */
  ack(key: string, offsets: readonly number[]): Promise<void>
  /** Marks everything below floor as acked (purge, retention, seek). Never moves the floor backwards. */
  advanceFloor(key: string, floor: number): Promise<void>
  getAcks(key: string): { floor: number; ranges: ReadonlyArray<readonly [number, number]> } | undefined
  isAcked(key: string, offset: number): boolean
  /**
   * Queue mode: delivery counts of unacked offsets (queues with a delivery limit), kept under the same key
   * as the acks. counts: flat [offset, count, ...]; a count of 0 forgets the offset. Counts of acked offsets
   * are ignored, and acking an offset (or moving the floor past it) forgets its count, so settled messages
   * leave nothing behind; delete(key) drops them with the acks.
   */
  setDeliveryCounts(key: string, counts: readonly number[]): Promise<void>
  getDeliveryCounts(key: string): ReadonlyMap<number, number> | undefined
  delete(key: string): Promise<void>
  keys(prefix?: string): string[]
  /**
   * Engines several brokers share: re-reads the cursors whose keys start with prefix (all without one) from
   * storage, as another broker left them. Called when this broker takes over what they belong to (a consumer
   * group, a queue); a cursor changed here and not yet durable keeps its local state.
   */
  refresh?(prefix?: string): Promise<void>
  flush(): Promise<void>
  close(): Promise<void>
}

/** The catalog: small JSON documents by kind and name, all held in memory, persisted crash-safely. */
export interface MetadataStore {
  get<T = unknown>(kind: string, name: string): T | undefined
  list<T = unknown>(kind: string): Array<[string, T]>
  put(kind: string, name: string, value: unknown): Promise<void>
  delete(kind: string, name: string): Promise<void>
  /**
   * Engines several brokers share: calls listener after another broker's committed put or delete of a
   * document has been applied here (get and list already return it). Changes missed while the engine could
   * not listen are found by re-reading and reported the same way; this store's own writes are not reported.
   * Returns the listener's removal. The local engine has no other writers and leaves it out.
   */
  watch?(listener: (kind: string, name: string) => void): () => void
  /**
   * Engines several brokers share: re-reads one document from the shared store now, for a decision that must
   * not rest on a copy another broker's committed change has not reached yet; a change found is applied and
   * reported to the watchers as any other. The local engine has no other writers and leaves it out.
   */
  refresh?(kind: string, name: string): Promise<void>
  /**
   * Engines several brokers share: resolves once every change other brokers committed before the call is
   * applied here and reported to the watchers (bounded: a store that cannot hear the database gives up after
   * seconds). The local engine leaves it out.
   */
  caughtUp?(): Promise<void>
  /**
   * Takes the next value (1, 2, 3...) of the named counter, kept as the document ('counter', counter): the next
   * value to hand out. On an engine several brokers share the take is atomic in the shared store, so no two
   * brokers ever get the same value; resolves once the counter's new value is durable.
   */
  nextId(counter: string): Promise<number>
  flush(): Promise<void>
  close(): Promise<void>
}

/** What a queue delete or purge may write (tombstones for dozens of partitions and bindings), with margin. */
export const TOMBSTONE_ROOM_BYTES = 64 * 1024

/** A broker of a cluster that shares one storage (PostgreSQL), as the membership table lists it. */
export interface ClusterMember {
  /** The broker's node id (`--node-id`): a non-negative integer, so that Kafka can name it. */
  id: number
  /** Where clients reach it, by listener name (`kafka`, `amqp`, `mqtt`, `http`, ...): what it advertises. */
  endpoints: { [listener: string]: { host: string; port: number } }
}

/** Who may append to a durable log, and the fencing epoch every append of that owner carries. */
export interface LogOwnership {
  owner: number
  epoch: number
}

/**
 * Present on engines several brokers share: the live members and the owner of each durable log. Only the
 * owner appends to a log; an append elsewhere, or by an owner whose epoch was bumped by a takeover, is
 * rejected with NOT_OWNER and changes nothing. Any member may read any log. Memory logs are always local.
 */
export interface ClusterView {
  readonly nodeId: number
  /** Live members (lease not expired), ordered by id. */
  members(): ClusterMember[]
  /**
   * Live members as the storage has them now, read for this call (members() is the view as last re-read): for
   * a decision that must not rest on a view another broker's change has already made stale.
   */
  readMembers(): Promise<ClusterMember[]>
  /** The owner of a durable log; undefined while no live broker has been assigned it. */
  ownerOf(logName: string): LogOwnership | undefined
  /** Calls back after membership or ownership changed, with the names of the logs whose owner changed. */
  onChange(listener: (changedLogs: readonly string[]) => void): () => void
  /** Publishes this broker's endpoints in its membership row (the server knows its ports once listening). */
  advertise(endpoints: ClusterMember['endpoints']): Promise<void>
  /** The cluster's shared secret (made once, kept in the storage): members authenticate their links with it. */
  linkSecret(): Promise<Buffer>
  /**
   * Sends appends to logs another member owns through `forward` (the broker-to-broker link) instead of
   * failing them with NOT_OWNER. `retry` appends again here, for when the view changes while forwarding.
   */
  forwardAppends(forward: AppendForwarder | null): void
  /**
   * Appends that another member forwarded, as that member saw this broker's ownership (`epoch`): refused with
   * NOT_OWNER unless this broker owns the log at that epoch; durable per the log's setting when it resolves.
   */
  appendForwarded(logName: string, epoch: number, batches: Buffer[]): Promise<AppendResult>
}

export type AppendForwarder = (
  logName: string,
  owner: LogOwnership,
  batches: Buffer[],
  retry: () => Promise<AppendResult>,
) => Promise<AppendResult>

export interface StorageEngine {
  /** Set when several brokers share this storage (cluster mode); absent on a single broker. */
  readonly cluster?: ClusterView
  readonly dataDir: string
  /** Opens (creating if needed) the log in directory `name` (letters, digits, '.', '_', '-'). */
  openLog(name: string, config?: Partial<LogConfig>): Promise<PartitionLog>
  /** Closes and removes a log and its files. */
  deleteLog(name: string): Promise<void>
  /**
   * Opens (creating if needed) a log held only in memory, gone when the process ends: for streams that must
   * not outlive it (non-durable queues). Same contract as openLog, except that appends never touch disk.
   */
  openMemoryLog(name: string, config?: Partial<LogConfig>): PartitionLog
  listLogs(): Promise<string[]>
  readonly cursors: CursorStore
  /** Cursors of subscriptions over memory logs: same contract, nothing persisted. */
  readonly memoryCursors: CursorStore
  readonly metadata: MetadataStore
  /**
   * Runs an operation that frees space (a delete, a purge). On a nearly full disk the engine first gives
   * back its emergency reserve, so the operation's own small writes succeed; the reserve is taken again
   * once there is room. With `roomBytes`, work that changes memory before it writes is refused (DISK_FULL,
   * nothing changed) when even then fewer bytes are free: refused whole rather than left half-applied.
   */
  freeingSpace<T>(work: () => Promise<T>, roomBytes?: number): Promise<T>
  /**
   * Writes what is pending and releases everything. Rejects (IO_ERROR) when something could not be written,
   * e.g. a shared database down past the engine's close bound: only work never acknowledged is dropped then.
   */
  close(): Promise<void>
}
