// A stream's durability on PostgreSQL. `always`: the append's COMMIT waits for whatever the server's
// synchronous_commit says (on: the WAL flushed, with synchronous standbys on them too). `interval` and
// `never`: the append transaction runs with synchronous_commit=off, so COMMIT returns before the WAL flush and
// the WAL writer flushes within wal_writer_delay (3 x 200 ms at most by default). Nothing is ever corrupted; a
// crash of the database server may lose the newest acknowledged appends of those streams, which is what the
// local engine promises for them (a crash of the machine loses its page cache).
import type { LogConfig } from '../api.js'

/**
 * The condition an append statement adds to its INSERT: sets synchronous_commit to parameter $7 (the value of
 * synchronousCommit below) for its transaction, or, with $7 null, to what it is (the server's setting).
 */
export const SET_SYNCHRONOUS_COMMIT =
  "set_config('synchronous_commit', coalesce($7, current_setting('synchronous_commit')), true) IS NOT NULL"

/**
 * The synchronous_commit value an append of this log sets for its own transaction (set_config(..., true) is
 * SET LOCAL, and the append is one statement, so its transaction is the statement's).
 */
export function synchronousCommit(config: Pick<LogConfig, 'durability'>): string | null {
  return config.durability === 'always' ? null : 'off'
}
