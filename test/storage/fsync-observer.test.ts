// The storage's fsync observer (LocalStorageOptions.onFsync, what /metrics turns into
// wharf_storage_fsync_seconds): told once per fdatasync of a partition log under durability 'always', with
// the time it took; never under 'never', where appends are not synced.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { openStorage } from '../../src/storage/local/index.ts'
import { batchOf, tempDir } from './helpers.ts'

test('onFsync reports each partition-log fdatasync with its duration, and nothing when appends are not synced', async (t) => {
  const synced: number[] = []
  const storage = await openStorage(join(tempDir(t), 'data'), {
    onFsync: (seconds) => synced.push(seconds),
    retentionCheckMs: 0,
    compactionCheckMs: 0,
  })
  t.after(() => storage.close())
  const durable = await storage.openLog('durable-0', { durability: 'always' })
  for (let i = 0; i < 3; i++) await durable.append([batchOf(`a${i}`, 5)])
  assert.ok(synced.length >= 3, `one fdatasync per sequential append at least, got ${synced.length}`)
  for (const seconds of synced) assert.ok(seconds >= 0 && seconds < 60, `a duration in seconds: ${seconds}`)
  const before = synced.length
  const lazy = await storage.openLog('lazy-0', { durability: 'never' })
  for (let i = 0; i < 3; i++) await lazy.append([batchOf(`b${i}`, 5)])
  assert.equal(synced.length, before)
})
