// Message-id dedup windows per stream, rebuilt after a restart from the records of the last window
// (their `wharf.dedup` headers), so a retry shortly after a crash is still recognised.

import { LoadOnce } from '../../util/load-once.js'
import { headerText, Reserved } from '../message.js'
import type { Stream } from '../stream/stream.js'
import { DedupWindow } from './window.js'

const REBUILD_CHUNK_BYTES = 1024 * 1024

export class DedupManager {
  readonly #windows = new LoadOnce<Stream, number, DedupWindow>((stream, now) => this.#rebuild(stream, now))

  windowFor(stream: Stream, now: number): Promise<DedupWindow> {
    return this.#windows.get(stream, now)
  }

  async #rebuild(stream: Stream, now: number): Promise<DedupWindow> {
    const window = new DedupWindow({ windowMs: stream.config.dedupWindowMs })
    const since = now - stream.config.dedupWindowMs
    const entries = []
    for (const [partition, log] of stream.partitions.entries()) {
      let offset = (await log.offsetForTimestamp(since)) ?? log.highWatermark
      while (offset < log.highWatermark) {
        const { records, nextOffset } = await log.readRecords(offset, REBUILD_CHUNK_BYTES)
        if (nextOffset <= offset) break
        for (const record of records) {
          const id = headerText(record.headers, Reserved.dedupId)
          if (id !== undefined) entries.push({ id, partition, offset: record.offset, timestamp: record.timestamp })
        }
        offset = nextOffset
      }
    }
    window.rebuild(entries, now)
    return window
  }

  forget(stream: Stream): void {
    this.#windows.delete(stream)
  }

  async expireAll(now: number): Promise<void> {
    for (const pending of this.#windows.values()) (await pending.catch(() => null))?.expire(now)
  }
}
