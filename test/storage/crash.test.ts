// SIGKILL crash loop: every append a child acknowledged (printed after its durable append resolved) must
// read back with the same bytes (CRC over attributes..end, plus the assigned offsets), and offsets must be
// dense across all restarts. WHARF_LONG=1 runs 500 cycles instead of 20.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { crc32c } from '@node-rs/crc32'
import { splitBatches } from '../../src/record/index.ts'
import { openStorage } from '../../src/storage/local/index.ts'
import { tempDir } from './helpers.ts'

const cycles = process.env.WHARF_LONG === '1' ? 500 : 20
const child = new URL('./fixtures/append-child.ts', import.meta.url).pathname

function runUntilKilled(dir: string, acked: Map<number, { last: number; crc: number }>): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, '8'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let buffered = ''
    let killTimer: NodeJS.Timeout | undefined
    proc.stdout.on('data', (data: Buffer) => {
      buffered += data.toString()
      let nl = buffered.indexOf('\n')
      while (nl >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        nl = buffered.indexOf('\n')
        if (line.startsWith('ready')) {
          // Kill at a random moment after the child starts appending.
          killTimer = setTimeout(() => proc.kill('SIGKILL'), 20 + Math.random() * 250)
          continue
        }
        const [base, last, crc] = line.split(' ').map(Number) as [number, number, number]
        acked.set(base, { last, crc })
      }
    })
    proc.on('error', reject)
    proc.on('exit', (code, signal) => {
      clearTimeout(killTimer)
      if (signal === 'SIGKILL') resolve()
      else reject(new Error(`child exited with ${code ?? signal} before being killed`))
    })
  })
}

test(`crash loop: ${cycles} SIGKILL cycles lose no acknowledged append`, { timeout: cycles * 10_000 }, async (t) => {
  const dir = tempDir(t, 'wharf-crash-')
  const acked = new Map<number, { last: number; crc: number }>()
  for (let cycle = 0; cycle < cycles; cycle++) await runUntilKilled(dir, acked)
  assert.ok(acked.size > cycles, `children acknowledged ${acked.size} appends`)

  const engine = await openStorage(dir, { retentionCheckMs: 0, compactionCheckMs: 0 })
  t.after(() => engine.close())
  const log = await engine.openLog('crash-0', { segmentBytes: 256 * 1024 })
  const stored = new Map<number, { last: number; crc: number }>()
  let offset = 0
  let expectedBase = 0
  while (offset < log.highWatermark) {
    const result = await log.read(offset, 1 << 20)
    for (const batch of splitBatches(Buffer.concat(result.chunks))) {
      const base = Number(batch.readBigInt64BE(0))
      const crc = batch.readUInt32BE(17)
      assert.equal(base, expectedBase, 'offsets are dense across crashes')
      assert.equal(crc32c(batch.subarray(21)), crc, `batch at ${base} is intact`)
      const last = base + batch.readInt32BE(23)
      stored.set(base, { last, crc })
      expectedBase = last + 1
    }
    offset = result.nextOffset
  }
  for (const [base, want] of acked) {
    assert.deepEqual(stored.get(base), want, `acknowledged append at offset ${base} survived`)
  }
})
