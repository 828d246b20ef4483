import assert from 'node:assert/strict'
import { appendFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { openMetadataStore } from '../../src/storage/local/metadata-store.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { closeWithSnapshot, tempDir } from './helpers.ts'

test('put/get/list/delete persist across close/reopen; list is sorted by name', async (t) => {
  const dir = tempDir(t)
  const a = await openMetadataStore(dir)
  await a.put('stream', 'orders', { partitions: 3, config: { retentionMs: -1 } })
  await a.put('stream', 'audit', { partitions: 1 })
  await a.put('stream', 'zeta', { partitions: 9 })
  await a.put('user', 'admin', { role: 'admin' })
  await a.put('stream', 'orders', { partitions: 6, config: { retentionMs: 1000 } })
  await a.delete('stream', 'zeta')
  await a.delete('stream', 'never-existed')
  await a.close()

  const b = await openMetadataStore(dir)
  assert.deepEqual(b.list('stream'), [
    ['audit', { partitions: 1 }],
    ['orders', { partitions: 6, config: { retentionMs: 1000 } }],
  ])
  assert.deepEqual(b.get('user', 'admin'), { role: 'admin' })
  assert.equal(b.get('stream', 'zeta'), undefined)
  assert.deepEqual(b.list('nothing'), [])
  await b.close()
})

test('values are stored as JSON and handed out frozen; callers mutating their object change nothing', async (t) => {
  const store = await openMetadataStore(tempDir(t))
  const value = { tags: ['a'], when: new Date(0) }
  await store.put('k', 'n', value)
  value.tags.push('b')
  const got = store.get<{ tags: string[]; when: string }>('k', 'n')!
  assert.deepEqual(got, { tags: ['a'], when: '1970-01-01T00:00:00.000Z' })
  assert.throws(() => got.tags.push('c'), TypeError)
  await assert.rejects(store.put('k', 'bad', undefined), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
  await assert.rejects(store.put('k', 'bad', { n: 1n }), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
  assert.equal(store.get('k', 'bad'), undefined)
  await store.close()
  assert.throws(
    () => store.get('k', 'n'),
    (e) => isWharfError(e, 'LOG_CLOSED'),
  )
  await assert.rejects(store.put('k', 'n', 1), (e) => isWharfError(e, 'LOG_CLOSED'))
})

test('snapshots compact the catalog; garbage at the log tail is cut on reopen', async (t) => {
  const dir = tempDir(t)
  const a = await openMetadataStore(dir, { compactMinBytes: 2048 })
  for (let i = 0; i < 500; i++) await a.put('sub', `s${i % 50}`, { version: i })
  await closeWithSnapshot(a, dir)
  const log = readdirSync(dir).find((f) => f.startsWith('log-'))!
  appendFileSync(join(dir, log), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]))
  const warnings: string[] = []
  const b = await openMetadataStore(dir, { logger: (m) => warnings.push(m) })
  const listed = b.list<{ version: number }>('sub')
  assert.equal(listed.length, 50)
  assert.deepEqual(listed[0], ['s0', { version: 450 }])
  assert.deepEqual(b.get('sub', 's49'), { version: 499 })
  assert.equal(warnings.length, 1)
  await b.close()
})
