// What the stream and queue catalogs share: their open objects by name, looked up (optionally, or required
// with the catalog's not-found error) and listed in name order.
import { type ErrorCode, WharfError } from '../util/errors.js'

export class NamedCatalog<T extends { readonly name: string }> {
  /** The open objects by name; the catalog adds and removes them as it opens and destroys them. */
  protected readonly byName = new Map<string, T>()
  readonly #kind: 'queue' | 'stream'
  readonly #notFound: ErrorCode

  constructor(kind: 'queue' | 'stream', notFound: ErrorCode) {
    this.#kind = kind
    this.#notFound = notFound
  }

  get(name: string): T | undefined {
    return this.byName.get(name)
  }

  has(name: string): boolean {
    return this.byName.has(name)
  }

  values(): IterableIterator<T> {
    return this.byName.values()
  }

  list(): T[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** The open object called `name`, or the catalog's not-found error. */
  protected required(name: string): T {
    const item = this.byName.get(name)
    if (item === undefined)
      throw new WharfError(this.#notFound, `${this.#kind} '${name}' does not exist`, {
        detail: { [this.#kind]: name },
      })
    return item
  }
}
