// Message-id dedup windows per stream, rebuilt after a restart from the records of the last window
// (their `wharf.dedup` headers), so a retry shortly after a crash is still recognised. On a storage several
// brokers share, another broker may append to the same stream (a client retrying through it), so before each
// use a window also reads the records appended since it last looked.

import type { PartitionLog } from '../../storage/api.js'
import { LoadOnce } from '../../util/load-once.js'
import { headerText, Reserved } from '../message.js'
import type { Stream } from '../stream/stream.js'
import { type DedupEntry, DedupWindow } from './window.js'

const REBUILD_CHUNK_BYTES = 1024 * 1024

export class DedupManager {
  readonly #windows = new LoadOnce<Stream, number, DedupWindow>((stream, now) => this.#rebuild(stream, now))
  /** On a shared storage: the offset up to which each window has read each partition. */
  readonly #readTo: WeakMap<DedupWindow, number[]> | null

  /** shared: other brokers append to the same logs. */
  constructor(shared = false) {
    this.#readTo = shared ? new WeakMap() : null
  }

  async windowFor(stream: Stream, now: number): Promise<DedupWindow> {
    const window = await this.#windows.get(stream, now)
    const readTo = this.#readTo?.get(window)
    if (readTo !== undefined) {
      const entries: DedupEntry[] = []
      for (const [partition, log] of stream.partitions.entries())
        readTo[partition] = Math.max(readTo[partition] ?? 0, await readIds(entries, partition, log, readTo[partition]))
      window.absorb(entries, now)
    }
    return window
  }

  async #rebuild(stream: Stream, now: number): Promise<DedupWindow> {
    const window = new DedupWindow({ windowMs: stream.config.dedupWindowMs })
    const since = now - stream.config.dedupWindowMs
    const readTo: number[] = []
    const entries: DedupEntry[] = []
    for (const [partition, log] of stream.partitions.entries()) {
      const from = (await log.offsetForTimestamp(since)) ?? log.highWatermark
      readTo[partition] = await readIds(entries, partition, log, from)
    }
    window.rebuild(entries, now)
    this.#readTo?.set(window, readTo)
    return window
  }

  forget(stream: Stream): void {
    this.#windows.delete(stream)
  }

  async expireAll(now: number): Promise<void> {
    for (const pending of this.#windows.values()) (await pending.catch(() => null))?.expire(now)
  }
}

/**
 * Collects the dedup id of every record of one partition from `from` to its end as the log knows it (on a log
 * another broker owns, a read past the known end first catches up with the owner); returns where it stopped.
 */
async function readIds(entries: DedupEntry[], partition: number, log: PartitionLog, from = 0): Promise<number> {
  let offset = Math.max(from, log.logStartOffset)
  for (;;) {
    const { records, nextOffset } = await log.readRecords(offset, REBUILD_CHUNK_BYTES)
    if (nextOffset <= offset) return offset
    for (const record of records) {
      const id = headerText(record.headers, Reserved.dedupId)
      if (id !== undefined) entries.push({ id, partition, offset: record.offset, timestamp: record.timestamp })
    }
    offset = nextOffset
  }
}
