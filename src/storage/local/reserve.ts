// Emergency space: a file of zeros kept in the data directory while the disk has room, given back when it
// has not, so that operations which free space (deleting a queue or stream, purging) can still write the
// small cursor and catalog tombstones they begin with. Without it a full disk refuses the very deletes that
// would empty it, and a delete that fails after changing memory is left half-applied. The bytes are written,
// not a sparse length: a hole reserves nothing.
import { promises as fs } from 'node:fs'
import { dirname } from 'node:path'

/** Room for thousands of tombstones (tens of bytes each) and the catalog snapshot a kvlog may write meanwhile. */
export const RESERVE_BYTES_DEFAULT = 1024 * 1024

export class SpaceReserve {
  readonly #path: string
  readonly #bytes: number
  #held = false
  /** One create or release at a time. */
  #busy: Promise<unknown> = Promise.resolve()

  constructor(path: string, bytes: number) {
    this.#path = path
    this.#bytes = bytes
  }

  get held(): boolean {
    return this.#held
  }

  /** Free bytes of the file system for an unprivileged writer. */
  async freeBytes(): Promise<number> {
    const s = await fs.statfs(dirname(this.#path))
    return s.bavail * s.bsize
  }

  /** Creates the reserve when it is missing and the disk has room for it twice over; never throws. */
  ensure(): Promise<void> {
    return this.#serial(async () => {
      if (this.#bytes <= 0) return
      if (!this.#held) {
        const existing = await fs.stat(this.#path).catch(() => undefined)
        if (existing?.size === this.#bytes) {
          this.#held = true
          return
        }
      }
      if (this.#held || (await this.freeBytes()) < 2 * this.#bytes) return
      try {
        await fs.writeFile(this.#path, Buffer.alloc(this.#bytes), { flush: true })
        this.#held = true
      } catch {
        await fs.rm(this.#path, { force: true }).catch(() => {})
      }
    })
  }

  /** Deletes the reserve when the disk has less free space than it holds; true if it was given back. */
  releaseIfLow(): Promise<boolean> {
    return this.#serial(async () => {
      if (!this.#held || (await this.freeBytes()) >= this.#bytes) return false
      await fs.rm(this.#path, { force: true })
      this.#held = false
      return true
    })
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(work, work)
    this.#busy = run.catch(() => {})
    return run
  }
}
