// Key compaction of sealed segments (Kafka's cleanup.policy=compact): keep only the newest record per key,
// keep offsets (gaps are normal), drop tombstones older than deleteRetentionMs (the record-level rules are
// storage/key-compaction.ts, which the PostgreSQL engine shares). Each segment is rewritten
// to `<base>.log.cleaned`, fsynced, renamed to `.swap`, then over `<base>.log`; recovery finishes or
// discards an interrupted swap, so a crash at any point leaves a readable, correct log.
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import type { CompactionResult, LogConfig } from '../../api.js'
import { compactBatch, noteLatest } from '../../key-compaction.js'
import { fsyncDirectory } from '../file-pool.js'
import { segmentBatches } from './log-scan.js'
import { Segment } from './segment.js'

async function compact(
  dir: string,
  sealed: Segment[],
  config: LogConfig,
  now: number,
  swap: (replacements: Map<Segment, Segment>) => void,
): Promise<CompactionResult> {
  const result: CompactionResult = { segmentsRewritten: 0, recordsRemoved: 0, bytesBefore: 0, bytesAfter: 0 }
  // Pass 1: newest offset per key over every sealed segment.
  const latest = new Map<string, number>()
  for (const segment of sealed) {
    for await (const { bytes } of segmentBatches(segment, 0, segment.size)) noteLatest(bytes, latest)
  }
  const tombstoneHorizon = now - config.deleteRetentionMs
  const replacements = new Map<Segment, Segment>()
  // Pass 2: rewrite each segment that has anything to drop.
  for (const segment of sealed) {
    const out: Buffer[] = []
    const kept = new Segment(dir, segment.baseOffset, segment.pool, config.indexIntervalBytes, segment.createdAt)
    let removed = 0
    let position = 0
    for await (const { info, bytes } of segmentBatches(segment, 0, segment.size)) {
      const { batch, removed: dropped, maxTimestamp } = compactBatch(bytes, latest, tombstoneHorizon)
      removed += dropped
      if (batch === null) continue
      kept.track({ ...info, position, size: batch.length, maxTimestamp })
      position += batch.length
      out.push(batch)
    }
    result.bytesBefore += segment.size
    if (removed === 0) {
      result.bytesAfter += segment.size
      continue
    }
    kept.nextOffset = segment.nextOffset
    kept.sealed = true
    const cleaned = `${segment.logPath}.cleaned`
    const handle = await fs.open(cleaned, 'w')
    try {
      if (out.length > 0) await handle.writev(out, 0)
      await handle.datasync()
    } finally {
      await handle.close()
    }
    await fs.rename(cleaned, `${segment.logPath}.swap`)
    await fsyncDirectory(dir)
    await fs.rename(`${segment.logPath}.swap`, segment.logPath)
    await fsyncDirectory(dir)
    await segment.pool.forget(segment.logPath)
    await kept.writeIndexes()
    replacements.set(segment, kept)
    result.segmentsRewritten++
    result.recordsRemoved += removed
    result.bytesAfter += kept.size
  }
  if (replacements.size > 0) swap(replacements)
  return result
}

/** Finishes or discards compaction swaps that a crash interrupted (called before segments are opened). */
async function recoverInterrupted(dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    if (name.endsWith('.log.cleaned')) await fs.rm(join(dir, name), { force: true })
    else if (name.endsWith('.log.swap')) {
      const log = name.slice(0, -'.swap'.length)
      await fs.rename(join(dir, name), join(dir, log))
      // Its index files describe the old content: force a rebuild.
      const base = log.slice(0, -'.log'.length)
      await fs.rm(join(dir, `${base}.index`), { force: true })
      await fs.rm(join(dir, `${base}.timeindex`), { force: true })
    }
  }
}

export const compactLog = Object.assign(compact, { recoverInterrupted })
