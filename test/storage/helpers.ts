// Storage test helpers: a temp dir removed after the test, the kvlog snapshot check, and record batches to append.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { encodeBatch } from '../../src/record/index.ts'

export function tempDir(t: TestContext, prefix = 'wharf-storage-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Closes a kvlog-backed store whose writes were enough to compact, and checks that dir now holds a snapshot. */
export async function closeWithSnapshot(store: { close(): Promise<void> }, dir: string): Promise<void> {
  await store.close()
  const files = readdirSync(dir)
  assert.ok(
    files.some((f) => f.startsWith('snapshot-')),
    `expected a snapshot: ${files.join()}`,
  )
}

/** A batch of `count` records whose values are `tag:index` padded to `size` bytes. */
export function batchOf(
  tag: string,
  count = 1,
  size = 100,
  timestamp = Date.now(),
  key?: (i: number) => string | null,
): Buffer {
  const records = []
  for (let i = 0; i < count; i++) {
    const text = `${tag}:${i}:`
    const value = Buffer.alloc(Math.max(size, text.length), 'x')
    value.write(text)
    const k = key?.(i)
    records.push({ key: k == null ? null : Buffer.from(k), value, timestamp: timestamp + i })
  }
  return encodeBatch(records)
}
