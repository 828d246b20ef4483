import assert from 'node:assert/strict'
import { existsSync, promises as fs, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { decodeBatch, encodeBatch, splitBatches } from '../../src/record/index.ts'
import type { LogConfig, PartitionLog } from '../../src/storage/api.ts'
import { openStorage } from '../../src/storage/local/index.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { readAll } from './contract.ts'
import { batchOf, tempDir } from './helpers.ts'

async function withLog(
  dir: string,
  config: Partial<LogConfig>,
  run: (log: PartitionLog) => Promise<void>,
  options = {},
) {
  const engine = await openStorage(dir, { retentionCheckMs: 0, compactionCheckMs: 0, ...options })
  try {
    await run(await engine.openLog('p-0', config))
  } finally {
    await engine.close()
  }
}

test('segments roll by size and by age; sealed segments get index files; reopen keeps everything', async (t) => {
  const dir = tempDir(t)
  const config = { segmentBytes: 4096, indexIntervalBytes: 512 }
  await withLog(dir, config, async (log) => {
    for (let i = 0; i < 40; i++) await log.append([batchOf(`r${i}`, 2, 150)])
    assert.ok(log.segmentCount > 3, `rolled into ${log.segmentCount} segments`)
  })
  const files = readdirSync(join(dir, 'logs', 'p-0'))
  const logs = files.filter((f) => f.endsWith('.log'))
  assert.equal(files.filter((f) => f.endsWith('.index')).length, logs.length - 1, 'sealed segments have indexes')
  for (const f of logs) assert.ok(statSync(join(dir, 'logs', 'p-0', f)).size <= 4096)
  await withLog(dir, config, async (log) => {
    assert.equal(log.nextOffset, 80)
    const records = await readAll(log)
    assert.equal(records.length, 80)
    for (const offset of [0, 17, 41, 79]) {
      const r = await log.read(offset, 1)
      const first = decodeBatch(splitBatches(Buffer.concat(r.chunks))[0]!).records
      assert.ok(first.some((rec) => rec.offset === offset))
    }
  })
  await withLog(dir, { segmentMs: 1 }, async (log) => {
    const before = log.segmentCount
    await new Promise((r) => setTimeout(r, 5))
    await log.append([batchOf('late')])
    assert.equal(log.segmentCount, before + 1, 'an old active segment rolls on the next append')
  })
})

test('missing or corrupt index files are rebuilt', async (t) => {
  const dir = tempDir(t)
  const config = { segmentBytes: 2048, indexIntervalBytes: 256 }
  await withLog(dir, config, async (log) => {
    for (let i = 0; i < 30; i++) await log.append([batchOf(`i${i}`, 1, 200)])
  })
  const partDir = join(dir, 'logs', 'p-0')
  const indexes = readdirSync(partDir).filter((f) => f.endsWith('.index'))
  await fs.rm(join(partDir, indexes[0]!))
  await fs.writeFile(join(partDir, indexes[1]!), Buffer.from([1, 2, 3, 4, 5]))
  await fs.writeFile(join(partDir, indexes[2]!.replace('.index', '.timeindex')), Buffer.alloc(12 * 40, 0xff))
  await withLog(dir, config, async (log) => {
    const records = await readAll(log)
    assert.deepEqual(
      records.map((r) => r.offset),
      Array.from({ length: 30 }, (_, i) => i),
    )
  })
  assert.ok(existsSync(join(partDir, indexes[0]!)), 'rebuilt index written back')
})

for (const damage of ['truncate mid-batch', 'flip a byte in the last batch', 'zero-filled tail', 'garbage length']) {
  test(`recovery: ${damage} → log ends at the last good batch, nothing before it lost`, async (t) => {
    const dir = tempDir(t)
    const warnings: string[] = []
    await withLog(dir, {}, async (log) => {
      for (let i = 0; i < 20; i++) await log.append([batchOf(`t${i}`, 2, 300)])
    })
    const file = join(dir, 'logs', 'p-0', '00000000000000000000.log')
    const size = statSync(file).size
    const lastBatchSize = batchOf('t19', 2, 300).length
    if (damage === 'truncate mid-batch') await fs.truncate(file, size - 100)
    if (damage === 'flip a byte in the last batch') {
      const handle = await fs.open(file, 'r+')
      const at = size - 50
      const b = Buffer.alloc(1)
      await handle.read(b, 0, 1, at)
      b[0] = b[0]! ^ 0xff
      await handle.write(b, 0, 1, at)
      await handle.close()
    }
    if (damage === 'zero-filled tail') await fs.appendFile(file, Buffer.alloc(10_000))
    if (damage === 'garbage length') await fs.appendFile(file, Buffer.from('00000000000000ff7fffffff', 'hex'))
    await withLog(
      dir,
      {},
      async (log) => {
        const lost = damage === 'zero-filled tail' || damage === 'garbage length' ? 0 : 2
        assert.equal(log.nextOffset, 40 - lost)
        const records = await readAll(log)
        assert.equal(records.length, 40 - lost)
        assert.ok(records.every((r, i) => r.offset === i && r.value!.toString().startsWith(`t${i >> 1}:${i & 1}:`)))
        const next = await log.append([batchOf('after')])
        assert.equal(next.baseOffset, 40 - lost, 'appends continue densely after the cut')
      },
      { warn: (m: string) => warnings.push(m) },
    )
    assert.ok(statSync(file).size >= size - lastBatchSize)
    assert.deepEqual(warnings, ['truncated torn or corrupt log tail'])
  })
}

test('compaction keeps the newest record per key, preserves offsets, drops old tombstones', async (t) => {
  const dir = tempDir(t)
  const config = { segmentBytes: 1024, compact: true, deleteRetentionMs: 60_000 }
  const oldTime = Date.now() - 3_600_000
  await withLog(dir, config, async (log) => {
    for (let i = 0; i < 30; i++) {
      await log.append([batchOf(`k${i}`, 1, 50, oldTime + i, () => `key-${i % 3}`)])
    }
    // Tombstone for key-9 (old, droppable) and key-1 (kept: newest and recent? it is old too).
    await log.append([encodeBatch([{ key: Buffer.from('gone'), value: Buffer.from('v'), timestamp: oldTime }])])
    await log.append([encodeBatch([{ key: Buffer.from('gone'), value: null, timestamp: oldTime }])])
    await log.append([encodeBatch([{ key: Buffer.from('fresh-tomb'), value: null, timestamp: Date.now() }])])
    for (let i = 0; i < 10; i++) await log.append([batchOf(`pad${i}`, 1, 300, Date.now(), () => `pad-${i}`)])
    const before = await readAll(log)
    const result = await log.compact()
    assert.ok(result.segmentsRewritten > 0 && result.recordsRemoved > 0, JSON.stringify(result))
    const after = await readAll(log)
    assert.ok(after.length < before.length)
    const byKey = new Map<string, number[]>()
    for (const r of after) {
      const k = r.key?.toString() ?? ''
      byKey.set(k, [...(byKey.get(k) ?? []), r.offset])
    }
    for (const [key, offsets] of byKey) assert.equal(offsets.length, 1, `one record left for ${key}`)
    assert.equal(byKey.get('key-0')![0], 27)
    assert.equal(byKey.get('key-2')![0], 29)
    assert.ok(!byKey.has('gone'), 'old tombstone and its key dropped')
    assert.ok(byKey.has('fresh-tomb'), 'recent tombstone kept')
    for (const r of after) {
      const original = before.find((b) => b.offset === r.offset)!
      assert.deepEqual(r.value, original.value, 'offsets keep their records')
    }
    const next = await log.append([batchOf('post')])
    assert.equal(next.baseOffset, before[before.length - 1]!.offset + 1)
  })
  await withLog(dir, config, async (log) => {
    const again = await readAll(log)
    assert.equal(new Set(again.map((r) => r.key?.toString())).size, again.length)
  })
})

test('an interrupted compaction swap is completed on open', async (t) => {
  const dir = tempDir(t)
  await withLog(dir, { segmentBytes: 1024 }, async (log) => {
    for (let i = 0; i < 10; i++) await log.append([batchOf(`s${i}`, 1, 300)])
  })
  const partDir = join(dir, 'logs', 'p-0')
  const first = join(partDir, '00000000000000000000.log')
  const replacement = encodeBatch([{ value: Buffer.from('compacted'), timestamp: 1 }], {
    baseOffset: 0,
    lastOffsetDelta: 1,
    offsetDeltas: [1],
  })
  await fs.writeFile(`${first}.swap`, replacement)
  await fs.writeFile(join(partDir, '00000000000000000003.log.cleaned'), Buffer.from('half written'))
  await withLog(dir, { segmentBytes: 1024 }, async (log) => {
    const records = await readAll(log)
    assert.equal(records[0]!.value!.toString(), 'compacted')
    assert.equal(records[0]!.offset, 1)
    assert.ok(!existsSync(join(partDir, '00000000000000000003.log.cleaned')))
  })
})

test('durability never and interval acknowledge appends and persist across close', async (t) => {
  for (const durability of ['never', 'interval'] as const) {
    const dir = tempDir(t)
    await withLog(dir, { durability, flushIntervalMs: 10 }, async (log) => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => log.append([batchOf(`${durability}${i}`)])))
      await new Promise((r) => setTimeout(r, 30))
    })
    await withLog(dir, { durability }, async (log) => assert.equal((await readAll(log)).length, 50))
  }
})

test('reads stay correct with a tiny file-handle budget', async (t) => {
  const dir = tempDir(t)
  await withLog(
    dir,
    { segmentBytes: 1024 },
    async (log) => {
      for (let i = 0; i < 40; i++) await log.append([batchOf(`f${i}`, 1, 300)])
      assert.ok(log.segmentCount > 8)
      const reads = await Promise.all(Array.from({ length: 40 }, (_, i) => log.read(i, 1)))
      assert.ok(reads.every((r, i) => r.bytes > 0 && r.nextOffset === i + 1))
    },
    { maxOpenFiles: 4 },
  )
})

test('invalid input is rejected with typed errors and the log stays usable', async (t) => {
  const dir = tempDir(t)
  await withLog(dir, { maxBatchBytes: 4096 }, async (log) => {
    await assert.rejects(log.append([Buffer.from('nope')]), (e) => isWharfError(e, 'CORRUPT_RECORD'))
    await assert.rejects(log.append([batchOf('big', 1, 8000)]), (e) => isWharfError(e, 'RECORD_TOO_LARGE'))
    await assert.rejects(log.append([]), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
    assert.equal((await log.append([batchOf('ok')])).baseOffset, 0)
  })
  const engine = await openStorage(dir, { retentionCheckMs: 0 }).catch((e) => e)
  assert.ok(!isWharfError(engine), 'the lock is released by close')
  await assert.rejects(engine.openLog('../escape'), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
  await assert.rejects(openStorage(dir), (e) => isWharfError(e, 'RESOURCE_LOCKED'))
  await engine.close()
})

test('a failing segment roll rejects the appends with a typed error instead of crashing the process', async (t) => {
  const dir = tempDir(t)
  await withLog(dir, { segmentBytes: 1024 }, async (log) => {
    await log.append([batchOf('fits', 1, 600)])
    // Take the partition directory away: creating the next segment file fails with ENOENT.
    await fs.rm(join(dir, 'logs', 'p-0'), { recursive: true, force: true })
    const results = await Promise.allSettled([
      log.append([batchOf('rolls', 1, 600)]),
      log.append([batchOf('after', 1, 10)]),
    ])
    for (const r of results) {
      assert.equal(r.status, 'rejected')
      assert.ok(
        isWharfError(r.reason, 'IO_ERROR'),
        `typed error, got ${String(r.status === 'rejected' ? r.reason : '')}`,
      )
    }
    assert.equal(log.nextOffset, 1, 'offsets of failed appends are handed out again')
    assert.equal(log.highWatermark, 1)
  })
})
