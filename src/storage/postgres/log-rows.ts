// The SQL of a PostgreSQL partition log (log.ts): its wharf_log row and its wharf_chunk rows.
import type { Chunk } from './chunk-index.js'
import type { Database } from './connection.js'
import { SET_SYNCHRONOUS_COMMIT } from './durability.js'

export interface LogRow {
  id: number
  logStart: number
  next: number
  owner: number | null
  epoch: number
}

interface RawRow {
  id: string
  log_start: string
  next_offset: string
  owner: number | null
  owner_epoch: string
}

function logRow(row: RawRow | undefined): LogRow | undefined {
  if (row === undefined) return undefined
  return {
    id: Number(row.id),
    logStart: Number(row.log_start),
    next: Number(row.next_offset),
    owner: row.owner,
    epoch: Number(row.owner_epoch),
  }
}

/**
 * Creates the log's row if missing and reads it. With claimFor, a log that never had an owner becomes that
 * broker's at once (epoch 1), so a stream created on a broker takes appends there without waiting for the
 * controller.
 */
export async function openLogRow(db: Database, name: string, claimFor?: number): Promise<LogRow | undefined> {
  await db.query('INSERT INTO wharf_log (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name])
  if (claimFor !== undefined) {
    await db.query('UPDATE wharf_log SET owner = $2, owner_epoch = owner_epoch + 1 WHERE name = $1 AND owner IS NULL', [
      name,
      claimFor,
    ])
  }
  const { rows } = await db.query<RawRow>(
    'SELECT id, log_start, next_offset, owner, owner_epoch FROM wharf_log WHERE name = $1',
    [name],
  )
  return logRow(rows[0])
}

export async function readLogRow(db: Database, id: number): Promise<LogRow | undefined> {
  const { rows } = await db.query<RawRow>(
    'SELECT id, log_start, next_offset, owner, owner_epoch FROM wharf_log WHERE id = $1',
    [id],
  )
  return logRow(rows[0])
}

/** Index entries (no bytes) of the chunk rows at or after fromOffset, in offset order. */
export async function chunkEntries(db: Database, id: number, fromOffset: number): Promise<Chunk[]> {
  const { rows } = await db.query<{ b: string; l: string; t: string; n: number }>(
    `SELECT base_offset AS b, last_offset AS l, max_ts AS t, octet_length(batches) AS n FROM wharf_chunk
     WHERE log_id = $1 AND base_offset >= $2 ORDER BY base_offset`,
    [id, fromOffset],
  )
  return rows.map((row) => ({
    baseOffset: Number(row.b),
    lastOffset: Number(row.l),
    maxTimestamp: Number(row.t),
    bytes: row.n,
    data: null,
  }))
}

/** The bytes of the chunk rows whose base offsets lie in [from, to], by base offset. */
export async function chunkBytes(db: Database, id: number, from: number, to: number): Promise<Map<number, Buffer>> {
  const { rows } = await db.query<{ b: string; batches: Buffer }>(
    `SELECT base_offset AS b, batches FROM wharf_chunk
     WHERE log_id = $1 AND base_offset >= $2 AND base_offset <= $3 ORDER BY base_offset`,
    [id, from, to],
  )
  return new Map(rows.map((row) => [Number(row.b), row.batches]))
}

export interface ChunkInsert {
  baseOffset: number
  lastOffset: number
  maxTimestamp: number
  data: Buffer
  /** Cluster mode: the append counts only while this broker owns the log at this epoch. */
  fence?: { owner: number; epoch: number }
  /** The transaction's synchronous_commit (durability.ts); null keeps the server's. */
  synchronousCommit: string | null
  /**
   * Told how long the statement took, in seconds, when it committed the chunk waiting for the WAL flush (not with
   * synchronous_commit off, as the local engine reports no fdatasync for appends it does not sync).
   */
  committed?: ((seconds: number) => void) | undefined
}

/**
 * One group commit: moves next_offset from the chunk's base offset past its last, only if it is still there
 * (and, fenced, only if the owner and epoch are still this broker's), and inserts the chunk in the same
 * statement. The UPDATE takes the log row's lock, the same lock a takeover's UPDATE takes, so after a
 * takeover the old owner's statement re-checks the row and finds 0 rows. True when the row moved.
 */
export async function commitChunk(db: Database, id: number, chunk: ChunkInsert): Promise<boolean> {
  const fenced = chunk.fence !== undefined
  // The statement is its own transaction: its round trip ends with the COMMIT's WAL flush (and a synchronous
  // standby's acknowledgement), the durable point, the wait the local engine's fdatasync is.
  const started = performance.now()
  const { rowCount } = await db.query(
    `WITH moved AS (
       UPDATE wharf_log SET next_offset = $3 WHERE id = $1 AND next_offset = $2
       ${fenced ? 'AND owner = $8 AND owner_epoch = $9' : ''} RETURNING id)
     INSERT INTO wharf_chunk (log_id, base_offset, last_offset, max_ts, batches)
     SELECT id, $2, $4, $5, $6 FROM moved WHERE ${SET_SYNCHRONOUS_COMMIT}`,
    [
      id,
      chunk.baseOffset,
      chunk.lastOffset + 1,
      chunk.lastOffset,
      chunk.maxTimestamp,
      chunk.data,
      chunk.synchronousCommit,
      ...(fenced ? [chunk.fence!.owner, chunk.fence!.epoch] : []),
    ],
  )
  if (rowCount === 1 && chunk.synchronousCommit === null) chunk.committed?.((performance.now() - started) / 1000)
  return rowCount === 1
}

/** Moves log_start up to start and deletes the chunk rows wholly below it, in one transaction. */
export async function deleteChunksBelow(db: Database, id: number, start: number): Promise<void> {
  await db.transaction(async (client) => {
    await client.query('UPDATE wharf_log SET log_start = greatest(log_start, $2) WHERE id = $1', [id, start])
    await client.query('DELETE FROM wharf_chunk WHERE log_id = $1 AND last_offset < $2', [id, start])
  })
}
