// The tables, created and migrated by Wharf. wharf_schema_version records each migration applied; migrations
// run in one transaction under an advisory lock, so brokers starting together over one database apply each once.
import { WharfError } from '../../util/errors.js'
import type { Database } from './connection.js'

/** Migration n (1-based) is MIGRATIONS[n - 1]; append new ones, never edit applied ones. */
const MIGRATIONS: readonly string[] = [
  `
  -- One row per partition log: the row every append updates, so it serialises appends (next_offset must match)
  -- and can carry the owner's fencing epoch when brokers share the database.
  CREATE TABLE wharf_log (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    log_start bigint NOT NULL DEFAULT 0,
    next_offset bigint NOT NULL DEFAULT 0,
    owner text,
    owner_epoch bigint NOT NULL DEFAULT 0
  );
  -- One row per group commit: the RecordBatch v2 bytes of one or more batches, stored untouched.
  CREATE TABLE wharf_chunk (
    log_id bigint NOT NULL REFERENCES wharf_log (id) ON DELETE CASCADE,
    base_offset bigint NOT NULL,
    last_offset bigint NOT NULL,
    max_ts bigint NOT NULL,
    batches bytea NOT NULL,
    PRIMARY KEY (log_id, base_offset)
  );
  -- Batches are often compressed already; pglz would spend CPU for little.
  ALTER TABLE wharf_chunk ALTER COLUMN batches SET STORAGE EXTERNAL;
  -- Cursors: one row per key, the whole cursor (commit, ack floor and ranges, delivery counts) in the local
  -- cursor store's snapshot encoding. Keys and names are UTF-8 bytes: the broker's keys contain NUL, which
  -- PostgreSQL text cannot hold.
  CREATE TABLE wharf_cursor (key bytea PRIMARY KEY, state bytea NOT NULL);
  -- The catalog: JSON documents by kind and name, kept as the exact text they serialize to.
  CREATE TABLE wharf_metadata (kind bytea NOT NULL, name bytea NOT NULL, json text NOT NULL, PRIMARY KEY (kind, name));
  `,
  `
  -- Cluster mode (cluster/): brokers sharing this database. A broker's row lives while its lease (taken and
  -- renewed on the database clock) has not expired; session_epoch is new at every start.
  CREATE TABLE wharf_broker (
    node_id int PRIMARY KEY,
    endpoints jsonb NOT NULL DEFAULT '{}',
    session_epoch bigint NOT NULL,
    lease_until timestamptz NOT NULL
  );
  CREATE SEQUENCE wharf_session_epoch;
  -- Named leases (the controller's): held by one broker session until 'until' on the database clock.
  CREATE TABLE wharf_lease (
    name text PRIMARY KEY,
    holder int NOT NULL,
    holder_session bigint NOT NULL,
    epoch bigint NOT NULL,
    until timestamptz NOT NULL
  );
  -- Owners are node ids.
  ALTER TABLE wharf_log ALTER COLUMN owner TYPE int USING owner::int;
  -- Every change of a log's owner is announced, in the transaction that makes it (sent only on commit).
  CREATE FUNCTION wharf_owner_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('wharf_cluster', 'log:' || NEW.name);
    RETURN NULL;
  END $$;
  CREATE TRIGGER wharf_owner_changed AFTER UPDATE OF owner, owner_epoch ON wharf_log
    FOR EACH ROW EXECUTE FUNCTION wharf_owner_changed();
  `,
  `
  -- The key brokers of a cluster prove themselves to each other with on their internal links: made by the first
  -- broker that needs it, read by the others.
  CREATE TABLE wharf_cluster_secret (id int PRIMARY KEY CHECK (id = 1), secret bytea NOT NULL);
  `,
]

/** Any bigint constant works; it only has to be the same in every broker. */
const MIGRATION_LOCK = 0x7768617266

export const SCHEMA_VERSION = MIGRATIONS.length

export async function migrate(db: Database): Promise<number> {
  return db.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await client.query(
      'CREATE TABLE IF NOT EXISTS wharf_schema_version (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    )
    const { rows } = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM wharf_schema_version',
    )
    const current = rows[0]?.version ?? 0
    if (current > MIGRATIONS.length) {
      throw new WharfError(
        'UNSUPPORTED_FORMAT',
        `the database has Wharf schema version ${current}; this version knows up to ${MIGRATIONS.length}`,
      )
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await client.query(MIGRATIONS[version - 1]!)
      await client.query('INSERT INTO wharf_schema_version (version) VALUES ($1)', [version])
    }
    return MIGRATIONS.length
  })
}
