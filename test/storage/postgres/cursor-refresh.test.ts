// CursorStore.refresh on PostgreSQL is what a broker taking a consumer group or a queue over reads: it must see
// a cursor write another broker was still committing when the refresh began (that broker may acknowledge it the
// moment it commits), so it waits for every cursor write in flight; and a session left idle inside a
// transaction (a broker paused mid-write) is ended by the server, so nothing waits on it for long.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { CursorTable } from '../../../src/storage/local/cursors/cursor-store.ts'
import { Database } from '../../../src/storage/postgres/connection.ts'
import { openPostgresStorage } from '../../../src/storage/postgres/index.ts'
import { startPostgres } from '../../fixtures/postgres.ts'

/** The advisory lock cursor writes hold shared (cursors.ts). */
const CURSOR_WRITES_LOCK = 0x77637572
const KEY = 'g\u0000grp\u0000topic\u00000'

test('a cursor refresh reads the write another broker is committing, after it commits', {
  timeout: 120_000,
}, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const url = await server.createDatabase('cursor_refresh')
  const engine = await openPostgresStorage(url, { retentionCheckMs: 0 })
  t.after(() => engine.close())
  await engine.cursors.commitOffset(KEY, 3)

  // Another broker's write-behind transaction, stopped between its UPSERT and its COMMIT.
  const other = new pg.Client({ connectionString: url })
  other.on('error', () => {}) // the server stops at the end of the test
  await other.connect()
  const state = new CursorTable()
  state.commit(KEY, 7, '')
  await other.query('BEGIN')
  await other.query('SELECT pg_advisory_xact_lock_shared($1)', [CURSOR_WRITES_LOCK])
  await other.query('UPDATE wharf_cursor SET state = $2 WHERE key = $1', [Buffer.from(KEY), state.encode(KEY)])

  let refreshed = false
  const refresh = engine.cursors.refresh('g\u0000grp\u0000').then(() => {
    refreshed = true
  })
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.equal(refreshed, false, 'the refresh read before the write in flight ended')
  await other.query('COMMIT')
  await refresh
  assert.equal(engine.cursors.getOffset(KEY)?.offset, 7)
  await other.end()
})

test("the broker's sessions are ended by the server when idle inside a transaction", { timeout: 60_000 }, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const db = new Database(await server.createDatabase('idle_in_transaction'))
  t.after(() => db.close())
  const { rows } = await db.query<{ idle_in_transaction_session_timeout: string }>(
    'SHOW idle_in_transaction_session_timeout',
  )
  assert.equal(rows[0]?.idle_in_transaction_session_timeout, '10s')
})

test('a transaction whose session the server ends between its queries fails as IO_ERROR; the broker goes on', {
  timeout: 60_000,
}, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const db = new Database(await server.createDatabase('idle_in_transaction_ended'), { idleInTransactionMs: 200 })
  t.after(() => db.close())
  // A process paused between two statements of a transaction (SIGSTOP): the server ends the session, and the
  // client reads that FATAL notice when no query of its own is waiting for it.
  const ended = db.transaction(async (client) => {
    await client.query('SELECT 1')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await client.query('SELECT 2')
  })
  await assert.rejects(ended, (error: Error & { code?: string }) => error.code === 'IO_ERROR')
  const { rows } = await db.query<{ n: number }>('SELECT 3 AS n')
  assert.equal(rows[0]?.n, 3)
})
