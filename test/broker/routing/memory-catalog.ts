// In-memory catalog double for router tests. Values go through JSON as the real MetadataStore's do,
// so a value JSON cannot hold (a bigint) fails here too. failNext makes the next write reject.
import type { RouterCatalog } from '../../../src/broker/routing/router.ts'

export class MemoryCatalog implements RouterCatalog {
  readonly kinds = new Map<string, Map<string, string>>()
  failNext = false
  writes = 0

  async put(kind: string, name: string, value: unknown): Promise<void> {
    this.#maybeFail()
    let docs = this.kinds.get(kind)
    if (docs === undefined) {
      docs = new Map()
      this.kinds.set(kind, docs)
    }
    docs.set(name, JSON.stringify(value))
  }

  async delete(kind: string, name: string): Promise<void> {
    this.#maybeFail()
    this.kinds.get(kind)?.delete(name)
  }

  list<T = unknown>(kind: string): Array<[string, T]> {
    return [...(this.kinds.get(kind) ?? [])].map(([name, json]) => [name, JSON.parse(json) as T])
  }

  count(kind: string): number {
    return this.kinds.get(kind)?.size ?? 0
  }

  #maybeFail(): void {
    this.writes++
    if (this.failNext) {
      this.failNext = false
      throw new Error('injected catalog failure')
    }
  }
}
