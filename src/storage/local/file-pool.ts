// A bounded pool of open file handles shared by all logs of an engine: with many partitions the number
// of segments is unbounded, the number of open descriptors must not be. Handles in use are pinned by a
// reference count; idle ones are closed least-recently-used first once the pool is over its limit.
import { constants, promises as fs } from 'node:fs'
import { assert } from '../../util/assert.js'

interface Entry {
  path: string
  handle: Promise<fs.FileHandle>
  refs: number
  /** Monotonic use stamp for LRU eviction. */
  used: number
}

export interface PooledHandle {
  readonly handle: fs.FileHandle
  release(): void
}

export class FilePool {
  readonly #entries = new Map<string, Entry>()
  readonly #maxOpen: number
  #clock = 0

  constructor(maxOpen = 1024) {
    assert(maxOpen >= 4, 'file pool needs at least 4 handles')
    this.#maxOpen = maxOpen
  }

  get openCount(): number {
    return this.#entries.size
  }

  /** Opens (or reuses) a read-write handle; `create` makes the file if missing. */
  async acquire(path: string, create = false): Promise<PooledHandle> {
    let entry = this.#entries.get(path)
    if (entry === undefined) {
      const flags = constants.O_RDWR | (create ? constants.O_CREAT : 0)
      entry = { path, handle: fs.open(path, flags, 0o644), refs: 0, used: 0 }
      this.#entries.set(path, entry)
      entry.handle.catch(() => {
        if (this.#entries.get(path) === entry) this.#entries.delete(path)
      })
    }
    entry.refs++
    entry.used = ++this.#clock
    this.#evict()
    let handle: fs.FileHandle
    try {
      handle = await entry.handle
    } catch (error) {
      entry.refs--
      throw error
    }
    let released = false
    const owner = entry
    return {
      handle,
      release: () => {
        assert(!released, 'pooled handle released twice')
        released = true
        owner.refs--
        if (owner.refs === 0 && !this.#entries.has(owner.path)) void this.#close(owner)
        else this.#evict()
      },
    }
  }

  /** Closes the pooled handle of a file (before delete/rename); waits for nothing but pins. */
  async forget(path: string): Promise<void> {
    const entry = this.#entries.get(path)
    if (entry === undefined) return
    this.#entries.delete(path)
    if (entry.refs === 0) await this.#close(entry)
    // A pinned entry is closed by its last release().
  }

  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()]
    this.#entries.clear()
    await Promise.all(entries.map((entry) => this.#close(entry)))
  }

  #evict(): void {
    if (this.#entries.size <= this.#maxOpen) return
    const idle = [...this.#entries.values()].filter((e) => e.refs === 0).sort((a, b) => a.used - b.used)
    for (const entry of idle) {
      if (this.#entries.size <= this.#maxOpen) break
      this.#entries.delete(entry.path)
      void this.#close(entry)
    }
  }

  async #close(entry: Entry): Promise<void> {
    try {
      await (await entry.handle).close()
    } catch {
      // Already closed or never opened: nothing to release.
    }
  }
}

/** Makes a directory entry (new or renamed file) durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
