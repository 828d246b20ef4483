// Per-key state loaded lazily and at most once: concurrent first callers share one pending load, and a
// failed load is forgotten so that the next caller tries again. The loader is given once, so a lookup
// allocates nothing once the key is loaded.

export class LoadOnce<K, A, V> {
  readonly #loads = new Map<K, Promise<V>>()
  readonly #load: (key: K, arg: A) => Promise<V>

  constructor(load: (key: K, arg: A) => Promise<V>) {
    this.#load = load
  }

  /** The value for key, loading it with arg on first use. */
  get(key: K, arg: A): Promise<V> {
    let value = this.#loads.get(key)
    if (value === undefined) {
      value = this.#load(key, arg)
      this.#loads.set(key, value)
      value.catch(() => this.#loads.delete(key))
    }
    return value
  }

  /** Forgets key: the next get loads it again. */
  delete(key: K): void {
    this.#loads.delete(key)
  }

  entries(): IterableIterator<[K, Promise<V>]> {
    return this.#loads.entries()
  }

  values(): IterableIterator<Promise<V>> {
    return this.#loads.values()
  }
}
