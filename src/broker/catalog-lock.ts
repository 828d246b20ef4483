// Catalog changes (create, alter, delete of streams and queues) run one at a time, so concurrent declares stay
// consistent; applying another member's committed change takes the same lock. On a cluster a change resolves
// only once every live member has applied it (ClusterLinkHooks.settled), waited for out of the lock, since a
// member catching up may be waiting for this broker's lock in turn.
import type { MetadataStore } from '../storage/api.js'
import type { ClusterLinkHooks } from './cluster-link.js'

export class CatalogLock {
  readonly #metadata: MetadataStore
  readonly #link: ClusterLinkHooks
  #tail: Promise<unknown> = Promise.resolve()

  constructor(metadata: MetadataStore, link: ClusterLinkHooks) {
    this.#metadata = metadata
    this.#link = link
  }

  /** Runs work holding the lock. */
  locked<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work)
    this.#tail = run.catch(() => {})
    return run
  }

  /** A change in turn with the others; on a cluster, every live member has applied it when it resolves. */
  change<T>(work: () => Promise<T>): Promise<T> {
    return this.#link.settled(this.locked(work))
  }

  /** Every change other members committed before the call is applied here (what settling waits for). */
  async caughtUp(): Promise<void> {
    await this.#metadata.caughtUp?.()
    await this.locked(async () => {})
  }

  /** Resolves when the changes under way have ended. */
  idle(): Promise<unknown> {
    return this.#tail
  }
}
