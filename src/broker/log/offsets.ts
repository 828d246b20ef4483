// Log-mode plumbing shared by the broker facade: committed offsets in the cursor store (keys
// g\0group\0stream\0partition), the coordinator's OffsetStore view of them, and event-driven waits for data.
import type { CursorStore, PartitionLog } from '../../storage/api.js'
import type { OffsetStore } from '../groups/index.js'

export function groupKey(group: string, stream: string, partition: number): string {
  return `g\u0000${group}\u0000${stream}\u0000${partition}`
}

/** The prefix of every committed-offset key of a group. */
export function groupPrefix(group: string): string {
  return `g\u0000${group}\u0000`
}

function parseGroupKey(key: string): { group: string; topic: string; partition: number } {
  const [, group, topic, partition] = key.split('\u0000')
  return { group: group!, topic: topic!, partition: Number(partition) }
}

/** The group coordinator's view of committed offsets. */
export function offsetStoreOver(
  cursors: CursorStore,
  partitionsOf: (topic: string) => number | undefined,
): OffsetStore {
  return {
    commit: (group, topic, partition, offset, metadata) =>
      cursors.commitOffset(groupKey(group, topic, partition), offset, metadata),
    fetch: (group, topic, partition) => cursors.getOffset(groupKey(group, topic, partition)),
    listPartitions: (group) =>
      cursors.keys(groupPrefix(group)).map((key) => {
        const { topic, partition } = parseGroupKey(key)
        return { topic, partition }
      }),
    listGroups: () => [...new Set(cursors.keys('g\u0000').map((k) => parseGroupKey(k).group))],
    deleteGroup: async (group) => {
      for (const key of cursors.keys(groupPrefix(group))) await cursors.delete(key)
    },
    topicExists: (topic, partition) => {
      const count = partitionsOf(topic)
      return count !== undefined && Number.isInteger(partition) && partition >= 0 && partition < count
    },
  }
}

/** Resolves true once the log has data at or beyond `offset`, false after timeoutMs or an abort. */
export function waitForLogData(
  log: PartitionLog,
  offset: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (log.highWatermark > offset) return Promise.resolve(true)
  if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer)
      off()
      signal?.removeEventListener('abort', onAbort)
      resolve(value)
    }
    const onAbort = () => done(false)
    const off = log.onAppend((hw) => {
      if (hw > offset) done(true)
    })
    const timer = setTimeout(() => done(false), timeoutMs)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Calls wake once the log has data beyond `offset` (at once if it already has); returns an unsubscribe. */
export function onLogData(log: PartitionLog, offset: number, wake: () => void): () => void {
  if (log.highWatermark > offset) {
    queueMicrotask(wake)
    return () => {}
  }
  const off = log.onAppend((hw) => {
    if (hw > offset) {
      off()
      wake()
    }
  })
  return off
}
