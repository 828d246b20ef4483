// The storage contract every StorageEngine keeps (partition logs, cursors, catalog), run against each engine:
// test/storage/contract.test.ts (local) and test/storage/postgres/contract.test.ts (PostgreSQL). `reopenable`
// gives a fresh, empty store and returns how to open (and reopen) an engine on it.
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { crc32c } from '@node-rs/crc32'
import { decodeBatch, splitBatches } from '../../src/record/index.ts'
import type { LogConfig, PartitionLog, StorageEngine } from '../../src/storage/api.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { batchOf } from './helpers.ts'

export type OpenEngine = () => Promise<StorageEngine>
export type Register = (name: string, fn: (t: TestContext) => Promise<void>) => unknown

async function withLog(open: OpenEngine, config: Partial<LogConfig>, run: (log: PartitionLog) => Promise<void>) {
  const engine = await open()
  try {
    await run(await engine.openLog('p-0', config))
  } finally {
    await engine.close()
  }
}

export async function readAll(log: PartitionLog, from = log.logStartOffset) {
  const records = []
  let offset = from
  while (offset < log.highWatermark) {
    const result = await log.read(offset, 64 * 1024)
    if (result.bytes === 0) break
    for (const chunk of result.chunks) {
      for (const batch of splitBatches(chunk)) {
        for (const record of decodeBatch(batch).records) if (record.offset >= offset) records.push(record)
      }
    }
    offset = result.nextOffset
  }
  return records
}

/** Registers the contract tests with `it`; `store(t)` makes an empty store for one test. */
export function storageContract(it: Register, store: (t: TestContext) => Promise<OpenEngine>): unknown[] {
  return [
    it('appends get dense offsets and read back byte-identical (CRC unchanged)', async (t) => {
      await withLog(await store(t), {}, async (log) => {
        const a = batchOf('a', 3)
        const b = batchOf('b', 2)
        const crcA = a.readUInt32BE(17)
        const first = await log.append([a])
        const second = await log.append([b])
        assert.deepEqual([first.baseOffset, first.lastOffset, second.baseOffset, second.lastOffset], [0, 2, 3, 4])
        assert.equal(log.nextOffset, 5)
        assert.equal(log.highWatermark, 5)
        const read = await log.read(0, 1 << 20)
        assert.equal(read.nextOffset, 5)
        const stored = splitBatches(Buffer.concat(read.chunks))
        assert.equal(stored.length, 2)
        assert.equal(stored[0]!.readUInt32BE(17), crcA)
        assert.equal(crc32c(stored[0]!.subarray(21)), crcA, 'CRC still valid after offset rewrite')
        assert.equal(Number(stored[1]!.readBigInt64BE(0)), 3)
        assert.deepEqual(stored[0]!.subarray(12), a.subarray(12))
        const records = await readAll(log)
        assert.deepEqual(
          records.map((r) => r.offset),
          [0, 1, 2, 3, 4],
        )
        assert.equal(records[4]!.value!.toString().slice(0, 4), 'b:1:')
      })
    }),

    it('read starts at the batch containing the offset, respects maxBytes but returns at least one batch', async (t) => {
      await withLog(await store(t), {}, async (log) => {
        for (let i = 0; i < 10; i++) await log.append([batchOf(`b${i}`, 4, 200)])
        const mid = await log.read(6, 1)
        const batches = splitBatches(Buffer.concat(mid.chunks))
        assert.equal(batches.length, 1, 'one whole batch even though maxBytes is 1')
        assert.equal(Number(batches[0]!.readBigInt64BE(0)), 4, 'the batch containing offset 6 starts at 4')
        assert.equal(mid.nextOffset, 8)
        const two = await log.read(0, batches[0]!.length * 2 + 10)
        assert.equal(splitBatches(Buffer.concat(two.chunks)).length, 2)
        const end = await log.read(40, 100)
        assert.equal(end.bytes, 0)
        await assert.rejects(log.read(41, 100), (e) => isWharfError(e, 'OFFSET_OUT_OF_RANGE'))
        await assert.rejects(log.read(-1, 100), (e) => isWharfError(e, 'OFFSET_OUT_OF_RANGE'))
      })
    }),

    it('concurrent appends are group-committed in call order with dense offsets; reopen keeps them', async (t) => {
      const open = await store(t)
      let expected = 0
      await withLog(open, {}, async (log) => {
        const results = await Promise.all(
          Array.from({ length: 300 }, (_, i) => log.append([batchOf(`c${i}`, 1 + (i % 3))])),
        )
        for (const [i, r] of results.entries()) {
          assert.equal(r.baseOffset, expected, `append ${i}`)
          expected = r.lastOffset + 1
        }
        const records = await readAll(log)
        assert.equal(records.length, expected)
        assert.ok(records.every((r, i) => r.offset === i))
        // A read from inside a group starts at the batch holding the offset.
        const inside = await log.read(expected - 2, 1)
        assert.ok(Number(splitBatches(inside.chunks[0]!)[0]!.readBigInt64BE(0)) <= expected - 2)
      })
      await withLog(open, {}, async (log) => {
        assert.equal(log.nextOffset, expected)
        assert.equal(log.highWatermark, expected)
        const records = await readAll(log)
        assert.ok(records.length === expected && records.every((r, i) => r.offset === i))
        assert.equal((await log.append([batchOf('after')])).baseOffset, expected)
      })
    }),

    it('retention by size and time deletes old data and moves logStartOffset', async (t) => {
      const old = Date.now() - 3_600_000
      await withLog(await store(t), { segmentBytes: 2048 }, async (log) => {
        for (let i = 0; i < 20; i++) await log.append([batchOf(`o${i}`, 1, 400, old)])
        for (let i = 0; i < 5; i++) await log.append([batchOf(`n${i}`, 1, 400)])
        const segments = log.segmentCount
        log.updateConfig({ retentionMs: 60_000 })
        const deleted = await log.enforceRetention()
        assert.ok(deleted > 0 && log.segmentCount === segments - deleted)
        assert.ok(log.logStartOffset > 0 && log.logStartOffset <= 20)
        const records = await readAll(log)
        assert.ok(records.every((r) => r.offset >= log.logStartOffset))
        assert.ok(records.some((r) => r.value!.toString().startsWith('n4:')))
        await assert.rejects(log.read(0, 10), (e) => isWharfError(e, 'OFFSET_OUT_OF_RANGE'))
        log.updateConfig({ retentionMs: -1, retentionBytes: 2048 })
        await log.enforceRetention()
        assert.ok(log.sizeBytes <= 2048 + 2048, `size ${log.sizeBytes} bounded by retention + active segment`)
      })
    }),

    it('deleteRecordsBefore moves the start, deletes covered data and survives reopen', async (t) => {
      const open = await store(t)
      await withLog(open, { segmentBytes: 2048 }, async (log) => {
        for (let i = 0; i < 20; i++) await log.append([batchOf(`d${i}`, 1, 400)])
        const before = log.segmentCount
        assert.equal(await log.deleteRecordsBefore(13), 13)
        assert.ok(log.segmentCount < before)
        await assert.rejects(log.read(12, 10), (e) => isWharfError(e, 'OFFSET_OUT_OF_RANGE'))
        await assert.rejects(log.deleteRecordsBefore(21), (e) => isWharfError(e, 'OFFSET_OUT_OF_RANGE'))
      })
      await withLog(open, { segmentBytes: 2048 }, async (log) => {
        assert.equal(log.logStartOffset, 13)
        assert.equal((await readAll(log))[0]!.offset, 13)
      })
    }),

    it('offsetForTimestamp finds the first record at or after a time', async (t) => {
      await withLog(await store(t), { segmentBytes: 2048, indexIntervalBytes: 256 }, async (log) => {
        const base = 1_700_000_000_000
        for (let i = 0; i < 30; i++) await log.append([batchOf(`ts${i}`, 2, 100, base + i * 1000)])
        assert.equal(await log.offsetForTimestamp(base), 0)
        assert.equal(await log.offsetForTimestamp(base + 1), 1)
        assert.equal(await log.offsetForTimestamp(base + 10_000), 20)
        assert.equal(await log.offsetForTimestamp(base + 10_001), 21)
        assert.equal(await log.offsetForTimestamp(base + 10_500), 22)
        assert.equal(await log.offsetForTimestamp(base + 100_000), null)
      })
    }),

    it('compaction keeps the newest record per key (offsets kept, recent tombstones kept) and survives reopen', async (t) => {
      const open = await store(t)
      const config = { segmentBytes: 1024, compact: true, deleteRetentionMs: 60_000 }
      const now = Date.now()
      let after: Awaited<ReturnType<typeof readAll>> = []
      await withLog(open, config, async (log) => {
        // Ten rounds over keys k0..k4, one batch each; then an expired tombstone for k0, a recent one for k1.
        for (let round = 0; round < 10; round++) await log.append([batchOf(`r${round}`, 5, 100, now, (i) => `k${i}`)])
        await log.appendRecords([{ key: Buffer.from('k0'), value: null, timestamp: now - 3_600_000 }])
        await log.appendRecords([{ key: Buffer.from('k1'), value: null, timestamp: now }])
        // Newest part (the local engine's active segment, the PostgreSQL engine's newest row): other keys.
        for (let i = 0; i < 3; i++) await log.append([batchOf(`tail${i}`, 1, 2000, now, () => `t${i}`)])
        const before = await readAll(log)
        const result = await log.compact(now)
        after = await readAll(log)
        assert.equal(result.recordsRemoved, before.length - after.length)
        const keyed = after.filter((r) => r.key!.toString().startsWith('k'))
        assert.deepEqual(
          keyed.map((r) => `${r.key}@${r.offset}=${r.value === null ? 'null' : r.value.toString().slice(0, 5)}`),
          ['k2@47=r9:2:', 'k3@48=r9:3:', 'k4@49=r9:4:', 'k1@51=null'],
        )
        assert.deepEqual(
          after.filter((r) => r.key!.toString().startsWith('t')).map((r) => r.offset),
          [52, 53, 54],
        )
        const byOffset = new Map(before.map((r) => [r.offset, r.value?.toString() ?? null]))
        for (const r of after) assert.equal(r.value?.toString() ?? null, byOffset.get(r.offset), `offset ${r.offset}`)
        // A read from inside what was removed starts at the next record kept.
        assert.equal((await readAll(log, 10))[0]!.offset, 47)
        assert.equal(log.highWatermark, 55)
        assert.equal((await log.compact(now)).recordsRemoved, 0, 'a second pass finds nothing more')
      })
      await withLog(open, config, async (log) => {
        assert.deepEqual(
          (await readAll(log)).map((r) => r.offset),
          after.map((r) => r.offset),
        )
        assert.equal((await log.append([batchOf('more', 1, 10, now, () => 'k2')])).baseOffset, 55)
      })
    }),

    it('onAppend wakes tailing readers', async (t) => {
      await withLog(await store(t), {}, async (log) => {
        const seen: number[] = []
        const off = log.onAppend((next) => seen.push(next))
        await log.append([batchOf('x', 2)])
        await log.append([batchOf('y', 1)])
        off()
        await log.append([batchOf('z', 1)])
        assert.deepEqual(seen, [2, 3])
      })
    }),

    it('invalid input is rejected with typed errors and the log stays usable; logs are listed and deleted', async (t) => {
      const open = await store(t)
      await withLog(open, { maxBatchBytes: 4096 }, async (log) => {
        await assert.rejects(log.append([Buffer.from('nope')]), (e) => isWharfError(e, 'CORRUPT_RECORD'))
        await assert.rejects(log.append([batchOf('big', 1, 8000)]), (e) => isWharfError(e, 'RECORD_TOO_LARGE'))
        await assert.rejects(log.append([]), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
        assert.equal((await log.append([batchOf('ok')])).baseOffset, 0)
        assert.equal((await log.appendRecords([{ value: Buffer.from('rec') }])).baseOffset, 1)
        const { records } = await log.readRecords(1, 1024)
        assert.equal(records[0]!.value!.toString(), 'rec')
      })
      const engine = await open()
      try {
        await assert.rejects(engine.openLog('../escape'), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
        await engine.openLog('p-1')
        assert.deepEqual(await engine.listLogs(), ['p-0', 'p-1'])
        await engine.deleteLog('p-0')
        assert.deepEqual(await engine.listLogs(), ['p-1'])
        const fresh = await engine.openLog('p-0')
        assert.equal(fresh.nextOffset, 0, 'a deleted log starts again from 0')
      } finally {
        await engine.close()
      }
    }),

    it('cursors: commits, acks, floors, delivery counts and deletes persist across close/reopen', async (t) => {
      const open = await store(t)
      const engine = await open()
      const a = engine.cursors
      await a.commitOffset('g1/orders/0', 42, 'meta')
      await a.commitOffset('g1/orders/1', -1)
      await a.ack('q/jobs/0', [0, 1, 2, 5, 9, 6])
      await a.advanceFloor('q/other/0', 100)
      await a.ack('q/other/0', [150])
      await a.setDeliveryCounts('q/other/0', [160, 2, 170, 1])
      await a.ack('q/other/0', [170])
      await a.commitOffset('g\u0000group\u0000topic\u00000', 7) // the broker's keys hold NUL
      await a.commitOffset('gone', 1)
      await a.delete('gone')
      assert.deepEqual(a.getOffset('g1/orders/0'), { offset: 42, metadata: 'meta' })
      await assert.rejects(a.ack('k', [-1]), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
      await engine.close()

      const again = await open()
      const b = again.cursors
      try {
        assert.deepEqual(b.getOffset('g1/orders/0'), { offset: 42, metadata: 'meta' })
        assert.deepEqual(b.getOffset('g1/orders/1'), { offset: -1, metadata: '' })
        assert.equal(b.getOffset('gone'), undefined)
        assert.deepEqual(b.getOffset('g\u0000group\u0000topic\u00000'), { offset: 7, metadata: '' })
        assert.deepEqual(b.getAcks('q/jobs/0'), {
          floor: 3,
          ranges: [
            [5, 7],
            [9, 10],
          ],
        })
        assert.deepEqual(b.getAcks('q/other/0'), {
          floor: 100,
          ranges: [
            [150, 151],
            [170, 171],
          ],
        })
        assert.deepEqual([...(b.getDeliveryCounts('q/other/0') ?? [])], [[160, 2]])
        assert.ok(b.isAcked('q/jobs/0', 2) && b.isAcked('q/jobs/0', 6) && !b.isAcked('q/jobs/0', 7))
        assert.deepEqual(b.keys(), [
          'g\u0000group\u0000topic\u00000',
          'g1/orders/0',
          'g1/orders/1',
          'q/jobs/0',
          'q/other/0',
        ])
        assert.deepEqual(b.keys('g1/'), ['g1/orders/0', 'g1/orders/1'])
      } finally {
        await again.close()
      }
    }),

    it('catalog: put/get/list/delete persist across close/reopen, values handed out frozen', async (t) => {
      const open = await store(t)
      const engine = await open()
      const a = engine.metadata
      await a.put('stream', 'orders', { partitions: 3, config: { retentionMs: -1 } })
      await a.put('stream', 'audit', { partitions: 1 })
      await a.put('stream', 'zeta', { partitions: 9 })
      await a.put('user', 'admin', { role: 'admin' })
      await a.put('exchange', 'odd\u0000name', { type: 'fanout' })
      await a.put('stream', 'orders', { partitions: 6, config: { retentionMs: 1000 } })
      await a.delete('stream', 'zeta')
      await a.delete('stream', 'never-existed')
      await assert.rejects(a.put('k', 'bad', { n: 1n }), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
      assert.throws(() => a.get<{ partitions: number }>('stream', 'audit')!.partitions++, TypeError)
      await engine.close()

      const again = await open()
      const b = again.metadata
      try {
        assert.deepEqual(b.list('stream'), [
          ['audit', { partitions: 1 }],
          ['orders', { partitions: 6, config: { retentionMs: 1000 } }],
        ])
        assert.deepEqual(b.get('user', 'admin'), { role: 'admin' })
        assert.deepEqual(b.get('exchange', 'odd\u0000name'), { type: 'fanout' })
        assert.equal(b.get('stream', 'zeta'), undefined)
        assert.deepEqual(b.list('nothing'), [])
      } finally {
        await again.close()
      }
    }),

    it('catalog counters: nextId hands out 1, 2, 3... once each, continues a counter document, survives reopen', async (t) => {
      const open = await store(t)
      const engine = await open()
      const a = engine.metadata
      const taken = await Promise.all(Array.from({ length: 5 }, () => a.nextId('things')))
      assert.deepEqual([...taken].sort(), [1, 2, 3, 4, 5])
      assert.equal(a.get('counter', 'things'), 6)
      // A counter kept as a plain document (as catalogs before nextId wrote it) continues from its value.
      await a.put('counter', 'older', 41)
      assert.equal(await a.nextId('older'), 41)
      await engine.close()

      const again = await open()
      try {
        assert.equal(await again.metadata.nextId('things'), 6)
        assert.equal(await again.metadata.nextId('older'), 42)
      } finally {
        await again.close()
      }
    }),
  ]
}
