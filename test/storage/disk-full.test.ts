// Disk full on a real, tiny tmpfs: appends fail with a typed DISK_FULL error, every acknowledged append
// stays readable, reads keep working, and after a reopen the log is intact with dense offsets.
// Needs root (mount); skipped elsewhere.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeBatch, splitBatches } from '../../src/record/index.ts'
import { openStorage } from '../../src/storage/local/index.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { mountTmpfs, removeTmpfs } from '../fixtures/tmpfs.ts'
import { batchOf } from './helpers.ts'

test('disk full: typed DISK_FULL, acknowledged data intact, reads keep working', async (t) => {
  const dir = mountTmpfs(t, 'wharf-full-', '1m')
  if (dir === undefined) return
  try {
    await fillAndCheck(dir)
  } finally {
    removeTmpfs(dir)
  }
})

async function fillAndCheck(dir: string): Promise<void> {
  const engine = await openStorage(dir, { retentionCheckMs: 0, compactionCheckMs: 0 })
  const log = await engine.openLog('full-0', { segmentBytes: 4 * 1024 * 1024 })
  const acked: number[] = []
  let failure: unknown = null
  for (let i = 0; i < 2000 && failure === null; i++) {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, j) => log.append([batchOf(`f${i}-${j}`, 1, 2000)])),
    )
    for (const r of results) {
      if (r.status === 'fulfilled') acked.push(r.value.baseOffset)
      else failure = r.reason
    }
  }
  assert.ok(isWharfError(failure, 'DISK_FULL'), `expected DISK_FULL, got ${String(failure)}`)
  assert.ok(acked.length > 10)
  // Reads keep working after the failure.
  const read = await log.read(acked[0]!, 1 << 20)
  assert.ok(read.bytes > 0)
  // The failed write's pages are given back, so a small append may still fit there; then the disk stays full.
  let stillFull: unknown = null
  for (let i = 0; i < 50 && stillFull === null; i++) {
    try {
      acked.push((await log.append([batchOf(`still-full-${i}`, 1, 2000)])).baseOffset)
    } catch (error) {
      stillFull = error
    }
  }
  assert.ok(isWharfError(stillFull, 'DISK_FULL'), `expected DISK_FULL again, got ${String(stillFull)}`)
  await engine.close().catch(() => {})

  const again = await openStorage(dir, { retentionCheckMs: 0, compactionCheckMs: 0 })
  try {
    await checkIntact(again, acked)
  } finally {
    await again.close()
  }
}

async function checkIntact(again: Awaited<ReturnType<typeof openStorage>>, acked: number[]): Promise<void> {
  const reopened = await again.openLog('full-0')
  const offsets: number[] = []
  let offset = 0
  while (offset < reopened.highWatermark) {
    const r = await reopened.read(offset, 1 << 20)
    for (const b of splitBatches(Buffer.concat(r.chunks)))
      for (const rec of decodeBatch(b).records) offsets.push(rec.offset)
    offset = r.nextOffset
  }
  assert.deepEqual(
    offsets,
    Array.from({ length: offsets.length }, (_, i) => i),
    'dense offsets',
  )
  for (const o of acked) assert.ok(offsets.includes(o), `acknowledged offset ${o} survived`)
}
