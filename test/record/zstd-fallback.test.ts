// A broker process without zstd-napi (an install with no C toolchain, simulated by a preload that hides the
// module) still decodes zstd, and compaction, which must re-encode the batches it shrinks, writes them
// uncompressed when the process has no zstd compressor (Node < 22.15) instead of failing.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import * as zlib from 'node:zlib'
import { Compression, encodeBatch } from '../../src/record/index.ts'
import { tempDir } from '../storage/helpers.ts'

const fixtures = new URL('../fixtures/', import.meta.url).pathname

test('without zstd-napi: zstd batches decode, and compaction rewrites them (uncompressed without a compressor)', (t) => {
  const dir = tempDir(t, 'wharf-zstd-fallback-')
  // 20 batches of 3 records over 3 keys: each key's newest record is in the last batches, so compaction
  // removes records from the earlier ones and must re-encode them.
  const batches = Array.from({ length: 20 }, (_, b) =>
    encodeBatch(
      Array.from({ length: 3 }, (_, i) => ({
        key: Buffer.from(`key-${(b * 3 + i) % 3 === 0 ? 'a' : (b + i) % 2 === 0 ? 'b' : `u${b}-${i}`}`),
        value: Buffer.from(`value ${b}/${i} ${'z'.repeat(80)}`),
      })),
      { baseOffset: b * 3, compression: Compression.Zstd },
    ),
  )
  const file = join(dir, 'batches.bin')
  writeFileSync(file, Buffer.concat(batches))
  const out = execFileSync(
    process.execPath,
    [
      '--require',
      `${fixtures}hide-zstd-napi.cjs`,
      '--import',
      'tsx',
      `${fixtures}zstd-fallback-compaction.ts`,
      file,
      join(dir, 'data'),
    ],
    { encoding: 'utf8', timeout: 60_000 },
  )
  const result = JSON.parse(out) as {
    backends: { decode: string; encode: string | null }
    compaction: { segmentsRewritten: number; recordsRemoved: number }
    codecs: number[]
    records: Array<{ offset: number; key: string; value: string }>
  }
  const zlibHasZstd = typeof (zlib as unknown as { zstdCompressSync?: unknown }).zstdCompressSync === 'function'
  assert.deepEqual(
    result.backends,
    zlibHasZstd ? { decode: 'node:zlib', encode: 'node:zlib' } : { decode: 'fzstd', encode: null },
  )
  assert.ok(
    result.compaction.recordsRemoved > 0 && result.compaction.segmentsRewritten > 0,
    JSON.stringify(result.compaction),
  )
  // Every key's newest record is left, each record with its own value, read through the fallback decoder.
  const written = batches.flatMap((_, b) =>
    Array.from({ length: 3 }, (_, i) => ({
      offset: b * 3 + i,
      key: `key-${(b * 3 + i) % 3 === 0 ? 'a' : (b + i) % 2 === 0 ? 'b' : `u${b}-${i}`}`,
      value: `value ${b}/${i} ${'z'.repeat(80)}`,
    })),
  )
  const newest = new Map(written.map((r) => [r.key, r.offset]))
  const offsets = new Set(result.records.map((r) => r.offset))
  for (const [key, offset] of newest) assert.ok(offsets.has(offset), `the newest record of ${key} is kept`)
  assert.ok(result.records.length < written.length)
  for (const r of result.records) assert.equal(r.value, written[r.offset]!.value)
  // Rewritten batches are uncompressed without a compressor (zstd with one); untouched ones stay zstd.
  const rewritten = zlibHasZstd ? Compression.Zstd : Compression.None
  assert.ok(
    result.codecs.includes(rewritten) && result.codecs.includes(Compression.Zstd),
    JSON.stringify(result.codecs),
  )
})
