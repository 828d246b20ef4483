// Schema test helpers: assertions on registry error codes (WharfError code, Confluent error code) and an Avro
// record schema builder.
import assert from 'node:assert/strict'
import { SchemaRegistryError } from '../../../src/broker/schema/index.ts'
import { isWharfError } from '../../../src/util/errors.ts'

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
