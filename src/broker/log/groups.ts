// The broker's log-mode groups (Broker.subscribeLog), one per (group, stream), and group lag. The groups
// reach streams, committed offsets and reads through the broker.

import type { Stream } from '../stream/stream.js'
import { LogGroup, type LogGroupHost, type LogMember, type LogMemberOptions } from './assigned-group.js'

/** What the groups need from the broker: the rest of LogGroupHost is derived from the stream. */
export type LogGroupsHost = Pick<LogGroupHost, 'committed' | 'commit' | 'source' | 'warn'> & {
  stream(name: string): Stream
}

export interface PartitionLag {
  partition: number
  committed: number | null
  highWatermark: number
  lag: number
}

export class LogGroups {
  readonly #groups = new Map<string, LogGroup>()
  /** Shared by every group. */
  readonly #host: LogGroupHost

  constructor(host: LogGroupsHost) {
    this.#host = {
      partitionCount: (s) => host.stream(s).partitions.length,
      committed: (g, s, p) => host.committed(g, s, p),
      commit: (g, s, p, offset) => host.commit(g, s, p, offset),
      startOffset: (s, p, from) => {
        const log = host.stream(s).partitionLog(p)
        return from === 'earliest' ? log.logStartOffset : log.highWatermark
      },
      source: (s, p) => host.source(s, p),
      warn: (message, details) => host.warn(message, details),
    }
  }

  /** Joins (creating on first use) the group of `group` on `streamName`. */
  join(streamName: string, group: string, options: LogMemberOptions): LogMember {
    const key = `${group}\u0000${streamName}`
    let logGroup = this.#groups.get(key)
    if (logGroup === undefined) {
      logGroup = new LogGroup(group, streamName, this.#host)
      this.#groups.set(key, logGroup)
    }
    return logGroup.join(options)
  }
}

/** Per-partition lag of a group: high watermark minus committed offset (or log start when none). */
export function groupLag(stream: Stream, committed: (partition: number) => number | undefined): PartitionLag[] {
  return stream.partitions.map((log, partition) => {
    const offset = committed(partition) ?? null
    return {
      partition,
      committed: offset,
      highWatermark: log.highWatermark,
      lag: log.highWatermark - (offset ?? log.logStartOffset),
    }
  })
}
