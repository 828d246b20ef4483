// Log-mode consumption behind the broker facade: committed offsets of consumer groups (Kafka groups,
// broker-assigned groups, REST) over the cursor store's offset keys, the group coordinator's OffsetStore
// view of them, the broker-assigned groups, and reads and waits by offset.
import type { CursorStore } from '../../storage/api.js'
import type { OffsetStore } from '../groups/index.js'
import type { StoredMessage } from '../message.js'
import { readStored } from '../stream/stored.js'
import type { Stream } from '../stream/stream.js'
import type { LogMember, LogMemberOptions } from './assigned-group.js'
import { LogCursor, type LogCursorOptions, type LogSource } from './cursor.js'
import { groupLag, LogGroups, type PartitionLag } from './groups.js'
import { groupKey, groupPrefix, offsetStoreOver, onLogData, waitForLogData } from './offsets.js'

/** Decoded messages from an offset, and the offset to read next. */
export interface LogRead {
  messages: StoredMessage[]
  nextOffset: number
}

export interface StreamLookup {
  get(name: string): Stream | undefined
  /** The named stream, else STREAM_NOT_FOUND. */
  stream(name: string): Stream
}

export class LogMode {
  readonly store: OffsetStore
  readonly #cursors: CursorStore
  readonly #streams: StreamLookup
  readonly #groups: LogGroups

  constructor(
    cursors: CursorStore,
    streams: StreamLookup,
    warn: (message: string, details?: Record<string, unknown>) => void,
  ) {
    this.#cursors = cursors
    this.#streams = streams
    this.store = offsetStoreOver(cursors, (topic) => streams.get(topic)?.partitions.length)
    this.#groups = new LogGroups({
      stream: (name) => streams.stream(name),
      committed: (g, s, p) => this.get(g, s, p)?.offset,
      commit: (g, s, p, offset) => this.commit(g, s, p, offset, ''),
      source: (s, p) => this.#source(s, p),
      warn,
    })
  }

  /** Decoded messages of a partition from an offset (clamped to the log start), up to about maxBytes. */
  read(stream: string, partition: number, offset: number, maxBytes: number): Promise<LogRead> {
    return readStored(stream, partition, this.#streams.stream(stream).partitionLog(partition), offset, maxBytes)
  }

  /** Resolves true once the partition has data at or beyond `offset`, false after the timeout or an abort. */
  waitForData(stream: string, partition: number, offset: number, timeoutMs: number, signal?: AbortSignal) {
    return waitForLogData(this.#streams.stream(stream).partitionLog(partition), offset, timeoutMs, signal)
  }

  /** A credit-bounded reader of one partition (LogCursor); the partition must exist. */
  cursor(stream: string, partition: number, options: LogCursorOptions): LogCursor {
    this.#streams.stream(stream).partitionLog(partition)
    return new LogCursor(this.#source(stream, partition), options)
  }

  /** A partition as log cursors read it; the stream is looked up per read, so a deleted one fails the read. */
  #source(stream: string, partition: number): LogSource {
    return {
      read: (offset, maxBytes) => this.read(stream, partition, offset, maxBytes),
      onData: (offset, wake) => onLogData(this.#streams.stream(stream).partitionLog(partition), offset, wake),
    }
  }

  /** Joins a broker-assigned group on a stream (LogGroups.join). */
  join(stream: string, group: string, options: LogMemberOptions): LogMember {
    this.#streams.stream(stream)
    return this.#groups.join(stream, group, options)
  }

  get(group: string, stream: string, partition: number): { offset: number; metadata: string } | undefined {
    return this.#cursors.getOffset(groupKey(group, stream, partition))
  }

  /** Commits once the partition exists (else STREAM_NOT_FOUND / PARTITION_NOT_FOUND); resolves when durable. */
  async commit(group: string, stream: string, partition: number, offset: number, metadata: string): Promise<void> {
    this.#streams.stream(stream).partitionLog(partition)
    await this.#cursors.commitOffset(groupKey(group, stream, partition), offset, metadata)
  }

  /**
   * Re-reads a group's committed offsets from storage that several brokers share (a no-op on one broker):
   * what the group committed through the broker that coordinated it before this one.
   */
  async reloadGroup(group: string): Promise<void> {
    await this.#cursors.refresh?.(groupPrefix(group))
  }

  /** Groups with committed offsets, whether or not they have members. */
  groups(): string[] {
    return this.store.listGroups()
  }

  /** The stream partitions a group has committed offsets for. */
  partitions(group: string): Array<{ stream: string; partition: number }> {
    return this.store.listPartitions(group).map(({ topic, partition }) => ({ stream: topic, partition }))
  }

  /** Per-partition lag of a group: high watermark minus committed offset (or log start when none). */
  lag(group: string, streamName: string): PartitionLag[] {
    return groupLag(this.#streams.stream(streamName), (p) => this.get(group, streamName, p)?.offset)
  }
}
