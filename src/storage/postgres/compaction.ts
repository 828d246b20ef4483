// Key compaction of a PostgreSQL partition log (cleanup.policy=compact), with the record-level rules the local
// engine uses (storage/key-compaction.ts). Every committed chunk row but the newest (the counterpart of the
// local engine's active segment, which it does not compact either) is read twice, a page of rows at a time:
// first for the newest offset of each key, then to rewrite the rows that lose records. A rewritten row keeps
// its base offset (its key) and gets its new bytes, newest timestamp and last offset (that of its last batch
// kept); a row left empty is deleted. Readers step over the gaps: the index skips deleted rows and a batch
// keeps its offsets. Each page's rewrites are one transaction; a row that retention deleted meanwhile is
// simply not updated.
import { splitBatches } from '../../record/index.js'
import type { CompactionResult, LogConfig } from '../api.js'
import { compactBatch, noteLatest } from '../key-compaction.js'
import { type Chunk, type ChunkIndex, lastOffsetOf } from './chunk-index.js'
import type { Database } from './connection.js'

/** Most bytes of rows one query reads. */
const PAGE_BYTES = 8 * 1024 * 1024

interface Rewrite {
  chunk: Chunk
  /** null: delete the row. */
  data: Buffer | null
  lastOffset: number
  maxTimestamp: number
}

/** The live chunks below end, but the newest, in pages of at most PAGE_BYTES (at least one chunk each). */
function pages(index: ChunkIndex, end: number): Chunk[][] {
  const chunks: Chunk[] = []
  for (let i = index.head; i < index.chunks.length; i++) {
    const chunk = index.chunks[i]!
    if (chunk.baseOffset >= end) break
    if (chunk.bytes > 0) chunks.push(chunk)
  }
  chunks.pop()
  const out: Chunk[][] = []
  let page: Chunk[] = []
  let bytes = 0
  for (const chunk of chunks) {
    if (page.length > 0 && bytes + chunk.bytes > PAGE_BYTES) {
      out.push(page)
      page = []
      bytes = 0
    }
    page.push(chunk)
    bytes += chunk.bytes
  }
  if (page.length > 0) out.push(page)
  return out
}

async function rowsOf(db: Database, logId: number, page: Chunk[]): Promise<Map<number, Buffer>> {
  const { rows } = await db.query<{ b: string; batches: Buffer }>(
    `SELECT base_offset AS b, batches FROM wharf_chunk
     WHERE log_id = $1 AND base_offset >= $2 AND base_offset <= $3 ORDER BY base_offset`,
    [logId, page[0]!.baseOffset, page[page.length - 1]!.baseOffset],
  )
  return new Map(rows.map((row) => [Number(row.b), row.batches]))
}

/** The pass running on each log: a second one (timer and compact() together) waits for it. */
const running = new WeakMap<ChunkIndex, Promise<unknown>>()

export function compactChunks(
  db: Database,
  logId: number,
  index: ChunkIndex,
  config: LogConfig,
  end: () => number,
  now: number,
  owned = true,
): Promise<CompactionResult> {
  // In cluster mode only the owner rewrites rows: a non-owner's index may be behind the owner's appends.
  if (!owned) return Promise.resolve({ segmentsRewritten: 0, recordsRemoved: 0, bytesBefore: 0, bytesAfter: 0 })
  const previous = running.get(index) ?? Promise.resolve()
  const pass = previous.catch(() => {}).then(() => compactOnce(db, logId, index, config, end(), now))
  running.set(index, pass)
  return pass
}

async function compactOnce(
  db: Database,
  logId: number,
  index: ChunkIndex,
  config: LogConfig,
  end: number,
  now: number,
): Promise<CompactionResult> {
  const result: CompactionResult = { segmentsRewritten: 0, recordsRemoved: 0, bytesBefore: 0, bytesAfter: 0 }
  if (!config.compact) return result
  const work = pages(index, end)
  // Pass 1: the newest offset of each key.
  const latest = new Map<string, number>()
  for (const page of work) {
    const rows = await rowsOf(db, logId, page)
    for (const chunk of page) {
      const data = rows.get(chunk.baseOffset)
      if (data !== undefined) for (const batch of splitBatches(data)) noteLatest(batch, latest)
    }
  }
  const tombstoneHorizon = now - config.deleteRetentionMs
  // Pass 2: rewrite the rows that lose records.
  for (const page of work) {
    const rows = await rowsOf(db, logId, page)
    const rewrites: Rewrite[] = []
    for (const chunk of page) {
      const data = rows.get(chunk.baseOffset)
      if (data === undefined) continue
      result.bytesBefore += data.length
      const kept: Buffer[] = []
      let removed = 0
      let maxTimestamp = -1
      for (const batch of splitBatches(data)) {
        const compacted = compactBatch(batch, latest, tombstoneHorizon)
        removed += compacted.removed
        if (compacted.batch !== null) kept.push(compacted.batch)
        if (compacted.maxTimestamp > maxTimestamp) maxTimestamp = compacted.maxTimestamp
      }
      if (removed === 0) {
        result.bytesAfter += data.length
        continue
      }
      const rewritten = kept.length > 0 ? Buffer.concat(kept) : null
      const lastOffset = kept.length > 0 ? lastOffsetOf(kept[kept.length - 1]!) : chunk.lastOffset
      rewrites.push({ chunk, data: rewritten, lastOffset, maxTimestamp })
      result.recordsRemoved += removed
      result.bytesAfter += rewritten?.length ?? 0
    }
    if (rewrites.length === 0) continue
    await db.transaction(async (client) => {
      for (const { chunk, data, lastOffset, maxTimestamp } of rewrites) {
        if (data === null) {
          await client.query('DELETE FROM wharf_chunk WHERE log_id = $1 AND base_offset = $2', [
            logId,
            chunk.baseOffset,
          ])
        } else {
          await client.query(
            `UPDATE wharf_chunk SET batches = $3, last_offset = $4, max_ts = $5
             WHERE log_id = $1 AND base_offset = $2`,
            [logId, chunk.baseOffset, data, lastOffset, maxTimestamp],
          )
        }
      }
    })
    for (const { chunk, data, lastOffset, maxTimestamp } of rewrites) {
      if (index.rewritten(chunk, data?.length ?? 0, lastOffset, maxTimestamp)) result.segmentsRewritten++
    }
  }
  return result
}
