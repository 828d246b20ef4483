// An in-memory MetadataStore double. Values are deep-copied through JSON on put and get, as a real store
// persists JSON, so a test cannot pass by sharing object references with the store under test.
import assert from 'node:assert/strict'
import { SchemaRegistryError } from '../../../src/broker/schema/index.ts'
import type { MetadataStore } from '../../../src/storage/api.ts'
import { isWharfError } from '../../../src/util/errors.ts'

export class MemoryMetadata implements MetadataStore {
  readonly data = new Map<string, Map<string, string>>()
  puts = 0
  /** When set, the next put/delete rejects with this error (then clears). */
  failNext: Error | undefined

  get<T = unknown>(kind: string, name: string): T | undefined {
    const raw = this.data.get(kind)?.get(name)
    return raw === undefined ? undefined : (JSON.parse(raw) as T)
  }

  list<T = unknown>(kind: string): Array<[string, T]> {
    return [...(this.data.get(kind) ?? new Map<string, string>())].map(([k, v]) => [k, JSON.parse(v) as T])
  }

  async put(kind: string, name: string, value: unknown): Promise<void> {
    this.maybeFail()
    this.puts++
    let m = this.data.get(kind)
    if (m === undefined) {
      m = new Map()
      this.data.set(kind, m)
    }
    m.set(name, JSON.stringify(value))
  }

  async delete(kind: string, name: string): Promise<void> {
    this.maybeFail()
    this.data.get(kind)?.delete(name)
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}

  private maybeFail(): void {
    const error = this.failNext
    if (error !== undefined) {
      this.failNext = undefined
      throw error
    }
  }
}

/** Asserts a WharfError with `code` (and Confluent `registryCode` when given). */
export function expectCode(error: unknown, code: string, registryCode?: number): true {
  assert.ok(isWharfError(error), `expected a WharfError, got ${String(error)}`)
  assert.equal(error.code, code, error.message)
  if (registryCode !== undefined) {
    assert.ok(error instanceof SchemaRegistryError, 'expected a SchemaRegistryError')
    assert.equal(error.registryCode, registryCode, error.message)
  }
  return true
}

export const throwsCode = (fn: () => unknown, code: string, registryCode?: number) =>
  assert.throws(fn, (e: unknown) => expectCode(e, code, registryCode))

export const rejectsCode = (p: Promise<unknown>, code: string, registryCode?: number) =>
  assert.rejects(p, (e: unknown) => expectCode(e, code, registryCode))

/** Avro record schema text with the given fields. */
export function avroRecord(fields: unknown[], name = 'User'): string {
  return JSON.stringify({ type: 'record', name, namespace: 'com.example', fields })
}
