// The memory log (transient streams) keeps the PartitionLog contract of the disk log: dense offsets in call
// order, whole-batch reads, retention, deleteRecordsBefore, timestamp lookup, typed errors. It never
// creates files. The memory cursor store keeps the CursorStore contract without persisting anything.
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { decodeBatch, splitBatches } from '../../src/record/index.ts'
import type { PartitionLog } from '../../src/storage/api.ts'
import { openStorage } from '../../src/storage/local/index.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { batchOf, tempDir } from './helpers.ts'

async function values(log: PartitionLog, from: number): Promise<string[]> {
  const out: string[] = []
  let offset = from
  while (offset < log.highWatermark) {
    const result = await log.read(offset, 1024)
    for (const chunk of result.chunks)
      for (const batch of splitBatches(chunk))
        for (const r of decodeBatch(batch).records)
          if (r.offset >= offset) out.push(`${r.offset}=${r.value?.toString().split(':').slice(0, 2).join(':')}`)
    offset = result.nextOffset
  }
  return out
}

test('memory log: offsets, reads, onAppend, retention and no files on disk', async (t) => {
  const dir = tempDir(t)
  const engine = await openStorage(dir, { retentionCheckMs: 0, compactionCheckMs: 0 })
  t.after(() => engine.close())
  const log = engine.openMemoryLog('m-1-0', {})
  const woken: number[] = []
  log.onAppend((next) => woken.push(next))

  const first = await log.append([batchOf('a', 3), batchOf('b', 2)])
  assert.deepEqual([first.baseOffset, first.lastOffset], [0, 4])
  const second = await log.append([batchOf('c', 1)])
  assert.deepEqual([second.baseOffset, second.lastOffset], [5, 5])
  assert.deepEqual(woken, [5, 6])
  assert.equal(log.highWatermark, 6)
  assert.deepEqual(await values(log, 0), ['0=a:0', '1=a:1', '2=a:2', '3=b:0', '4=b:1', '5=c:0'])
  // A read from the middle of a batch returns that whole batch (callers skip earlier records).
  const mid = await log.read(4, 1)
  assert.equal(mid.chunks.length, 1)
  assert.equal(mid.nextOffset, 5)
  assert.equal((await log.read(6, 1024)).chunks.length, 0)

  assert.equal(await log.deleteRecordsBefore(4), 4)
  assert.equal(log.logStartOffset, 4)
  assert.deepEqual(await values(log, 4), ['4=b:1', '5=c:0'])
  await assert.rejects(log.read(2, 1024), (e) => isWharfError(e) && e.code === 'OFFSET_OUT_OF_RANGE')
  await assert.rejects(log.deleteRecordsBefore(99), (e) => isWharfError(e) && e.code === 'OFFSET_OUT_OF_RANGE')

  // Size retention drops whole batches from the front, never the last one's worth past the limit.
  log.updateConfig({ retentionBytes: 1 })
  assert.equal(await log.enforceRetention(), 1)
  assert.equal(log.logStartOffset, 5)
  assert.equal(log.segmentCount, 1)

  assert.deepEqual(readdirSync(join(dir, 'logs')), [], 'a memory log creates no files')
  await engine.deleteLog('m-1-0')
  await assert.rejects(log.append([batchOf('d')]), (e) => isWharfError(e) && e.code === 'LOG_CLOSED')
})

test('memory log: timestamp lookup, bad batches rejected, large views copied', async (t) => {
  const engine = await openStorage(tempDir(t), { retentionCheckMs: 0, compactionCheckMs: 0 })
  t.after(() => engine.close())
  const log = engine.openMemoryLog('m-2-0', { maxBatchBytes: 4096 })
  await log.append([batchOf('t', 3, 10, 1000)]) // timestamps 1000, 1001, 1002
  await log.append([batchOf('u', 2, 10, 2000)])
  assert.equal(await log.offsetForTimestamp(1001), 1)
  assert.equal(await log.offsetForTimestamp(1500), 3)
  assert.equal(await log.offsetForTimestamp(5000), null)

  await assert.rejects(log.append([Buffer.alloc(70)]), (e) => isWharfError(e) && e.code === 'CORRUPT_RECORD')
  await assert.rejects(log.append([batchOf('big', 1, 8000)]), (e) => isWharfError(e) && e.code === 'RECORD_TOO_LARGE')
  await assert.rejects(log.append([]), (e) => isWharfError(e) && e.code === 'INVALID_ARGUMENT')
  assert.equal(log.highWatermark, 5, 'rejected appends assign no offsets')

  // A batch that is a view into a big buffer (a socket read) is stored as its own copy.
  const batch = batchOf('v', 1, 10)
  const big = Buffer.alloc(batch.length + 256 * 1024)
  batch.copy(big)
  const view = big.subarray(0, batch.length)
  await log.append([view])
  big.fill(0)
  assert.deepEqual(await values(log, 5), ['5=v:0'])
})

test('appendRecords/readRecords: objects kept as they are in memory, encoded once for byte readers', async (t) => {
  const dir = tempDir(t)
  const engine = await openStorage(dir, { retentionCheckMs: 0, compactionCheckMs: 0 })
  t.after(() => engine.close())
  const records = [0, 1, 2].map((i) => ({
    key: null,
    value: Buffer.from(`r${i}`),
    headers: [{ key: 'h', value: Buffer.from(String(i)) }],
    timestamp: 5000 + i,
  }))
  for (const log of [engine.openMemoryLog('m-3-0'), await engine.openLog('d-3-0')]) {
    assert.deepEqual(await log.appendRecords(records.slice(0, 2)).then((r) => [r.baseOffset, r.lastOffset]), [0, 1])
    await log.append([batchOf('b', 2)])
    await log.appendRecords(records.slice(2))
    const read = await log.readRecords(1, 1024 * 1024)
    assert.deepEqual(
      read.records.map((r) => `${r.offset}:${r.value?.toString().split(':')[0]}:${r.headers[0]?.value ?? '-'}`),
      ['1:r1:1', '2:b:-', '3:b:-', '4:r2:2'],
      log.name,
    )
    assert.equal(read.nextOffset, 5)
    // Byte readers (Kafka fetch, browse) see the same records as RecordBatch bytes.
    assert.deepEqual(await values(log, 0), ['0=r0', '1=r1', '2=b:0', '3=b:1', '4=r2'])
    assert.equal(await log.offsetForTimestamp(5001), 1)
  }
})

test('memory cursor store: acks, floors, commits and keys without persistence', async (t) => {
  const dir = tempDir(t)
  const engine = await openStorage(dir, { retentionCheckMs: 0, compactionCheckMs: 0 })
  const cursors = engine.memoryCursors
  await cursors.ack('q', [0, 1, 3])
  assert.deepEqual(cursors.getAcks('q'), { floor: 2, ranges: [[3, 4]] })
  assert.equal(cursors.isAcked('q', 3), true)
  assert.equal(cursors.isAcked('q', 2), false)
  await cursors.advanceFloor('q', 5)
  assert.deepEqual(cursors.getAcks('q'), { floor: 5, ranges: [] })
  await cursors.commitOffset('q\u0000d', 7, 'm')
  assert.deepEqual(cursors.getOffset('q\u0000d'), { offset: 7, metadata: 'm' })
  assert.deepEqual(cursors.keys('q'), ['q', 'q\u0000d'])
  await assert.rejects(cursors.ack('q', [-1]), (e) => isWharfError(e) && e.code === 'INVALID_ARGUMENT')
  await cursors.delete('q')
  assert.equal(cursors.getAcks('q'), undefined)
  await engine.close()
  const reopened = await openStorage(dir, { retentionCheckMs: 0, compactionCheckMs: 0 })
  t.after(() => reopened.close())
  assert.deepEqual(reopened.memoryCursors.keys(), [], 'nothing survives the process')
  assert.deepEqual(reopened.cursors.keys(), [], 'nothing leaked into the durable store')
})
