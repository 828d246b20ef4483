// Storage engine benchmark: 1 KiB records, append throughput with 1/16/256 concurrent appenders under
// durability 'always' and 'never', beside raw baselines measured in the same run (plain fs.write of the
// same bytes in 256 KiB chunks, with and without fdatasync per chunk), and sequential replay beside a raw
// sequential read of the same file. Run: node --expose-gc --import tsx bench/storage.ts [--records N]
import { promises as fs, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeBatch } from '../src/record/index.ts'
import { openStorage } from '../src/storage/local/index.ts'

const args = process.argv.slice(2)
const recordsArg = args.indexOf('--records')
const RECORDS = recordsArg >= 0 ? Number(args[recordsArg + 1]) : 60_000
const batchArg = args.indexOf('--batch-records')
/** Records per append call (Kafka producers send batches; 1 = one record per append). */
const BATCH_RECORDS = batchArg >= 0 ? Number(args[batchArg + 1]) : 1
const RECORD_BYTES = 1024
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

const template = encodeBatch(
  Array.from({ length: BATCH_RECORDS }, () => ({
    key: null,
    value: Buffer.alloc(RECORD_BYTES, 7),
    timestamp: Date.now(),
  })),
)
/** Stored bytes per record, batch overhead included. */
const BATCH_BYTES = template.length / BATCH_RECORDS

interface Row {
  scenario: string
  records: number
  seconds: number
}
const rows: Array<Row & { baseline?: string; ratio?: number }> = []
const mbps = (r: Row) => (r.records * BATCH_BYTES) / r.seconds / 1e6
const rps = (r: Row) => r.records / r.seconds

async function rawWrite(dir: string, sync: boolean, totalBytes: number): Promise<Row> {
  const chunk = Buffer.alloc(256 * 1024, 7)
  const handle = await fs.open(join(dir, `raw-${sync}.bin`), 'w')
  const start = process.hrtime.bigint()
  for (let written = 0; written < totalBytes; written += chunk.length) {
    await handle.write(chunk, 0, chunk.length)
    if (sync) await handle.datasync()
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  await handle.close()
  return { scenario: `raw fs.write 256 KiB${sync ? ' + fdatasync' : ''}`, records: totalBytes / BATCH_BYTES, seconds }
}

async function appendRun(dir: string, durability: 'always' | 'never', appenders: number, records: number) {
  const engine = await openStorage(dir, { retentionCheckMs: 0, compactionCheckMs: 0 })
  const log = await engine.openLog(`bench-${durability}-${appenders}`, { durability, segmentBytes: 256 * 1024 * 1024 })
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  let next = 0
  const start = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (next < records) {
        next += BATCH_RECORDS
        await log.append([Buffer.from(template)])
      }
    }),
  )
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  gc()
  const heapAfter = process.memoryUsage().heapUsed
  await engine.close()
  return {
    row: { scenario: `wharf append, ${durability}, ${appenders} appenders`, records, seconds },
    heapGrowthMB: (heapAfter - heapBefore) / 1e6,
  }
}

/** Median of several passes each (alternating log and raw), so JIT warm-up and noise hit both alike. */
async function replay(dir: string, name: string): Promise<{ log: Row; raw: Row }> {
  const engine = await openStorage(dir, { retentionCheckMs: 0, compactionCheckMs: 0 })
  const log = await engine.openLog(name)
  const file = join(dir, 'logs', name, '00000000000000000000.log')
  const handle = await fs.open(file, 'r')
  const logTimes: number[] = []
  const rawTimes: number[] = []
  let bytes = 0
  let position = 0
  for (let pass = 0; pass < 5; pass++) {
    let offset = log.logStartOffset
    bytes = 0
    let start = process.hrtime.bigint()
    while (offset < log.highWatermark) {
      const result = await log.read(offset, 1024 * 1024)
      bytes += result.bytes
      offset = result.nextOffset
    }
    logTimes.push(Number(process.hrtime.bigint() - start) / 1e9)
    position = 0
    start = process.hrtime.bigint()
    for (;;) {
      const chunk = Buffer.allocUnsafe(1024 * 1024) // the log allocates per read too
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position)
      if (bytesRead === 0) break
      position += bytesRead
    }
    rawTimes.push(Number(process.hrtime.bigint() - start) / 1e9)
  }
  await handle.close()
  await engine.close()
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
  const logSeconds = median(logTimes)
  const rawSeconds = median(rawTimes)
  return {
    log: { scenario: 'wharf sequential replay (read 1 MiB)', records: bytes / BATCH_BYTES, seconds: logSeconds },
    raw: { scenario: 'raw sequential fs.read 1 MiB', records: position / BATCH_BYTES, seconds: rawSeconds },
  }
}

const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-'))
try {
  const total = RECORDS * BATCH_BYTES
  const rawSync = await rawWrite(dir, true, total)
  const rawNoSync = await rawWrite(dir, false, total)
  rows.push(rawSync, rawNoSync)
  const heap: string[] = []
  for (const durability of ['always', 'never'] as const) {
    for (const appenders of [1, 16, 256]) {
      // One appender under 'always' is one fdatasync per record: keep that run short.
      const records = durability === 'always' && appenders === 1 ? Math.min(RECORDS, 5000) : RECORDS
      const { row, heapGrowthMB } = await appendRun(dir, durability, appenders, records)
      const baseline = durability === 'always' ? rawSync : rawNoSync
      rows.push({ ...row, baseline: baseline.scenario, ratio: mbps(row) / mbps(baseline) })
      heap.push(
        `${row.scenario}: heap growth ${heapGrowthMB.toFixed(1)} MB over ${((records * BATCH_BYTES) / 1e6).toFixed(0)} MB appended`,
      )
    }
  }
  const { log, raw } = await replay(dir, 'bench-never-256')
  rows.push(raw, { ...log, baseline: raw.scenario, ratio: mbps(log) / mbps(raw) })

  console.log(
    `\nstorage bench: ${RECORD_BYTES} B records, ${BATCH_RECORDS} record(s) per append (${BATCH_BYTES.toFixed(0)} B stored per record), ${RECORDS} records per run\n`,
  )
  console.log('| scenario | records/s | MB/s | vs baseline |')
  console.log('|---|---|---|---|')
  for (const r of rows) {
    const vs = r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)}% of ${r.baseline}`
    console.log(`| ${r.scenario} | ${Math.round(rps(r)).toLocaleString('en-US')} | ${mbps(r).toFixed(1)} | ${vs} |`)
  }
  console.log(`\n${heap.join('\n')}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
