// A stream's durability on PostgreSQL: an append of an `always` log commits with the server's
// synchronous_commit, one of a `never` or `interval` log with synchronous_commit=off in its own transaction.
// A trigger the test puts on wharf_chunk records the setting each insert ran under, inside the append's
// transaction.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { openPostgresStorage, type PostgresStorage } from '../../../src/storage/postgres/index.ts'
import { startPostgres } from '../../fixtures/postgres.ts'
import { batchOf } from '../helpers.ts'

test('durability never and interval append with synchronous_commit off, always with the server setting', async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const url = await server.createDatabase('durability')
  const engine = await openPostgresStorage(url, { retentionCheckMs: 0 })
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await check(engine, client)
  } finally {
    await client.end()
    await engine.close()
  }
})

async function check(engine: PostgresStorage, client: pg.Client): Promise<void> {
  await client.query(`
    CREATE TABLE seen (log text, base_offset bigint, sync text);
    CREATE FUNCTION note_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO seen SELECT name, NEW.base_offset, current_setting('synchronous_commit')
        FROM wharf_log WHERE id = NEW.log_id;
      RETURN NEW;
    END $$;
    CREATE TRIGGER note_sync AFTER INSERT ON wharf_chunk FOR EACH ROW EXECUTE FUNCTION note_sync();`)

  const always = await engine.openLog('always-0', { durability: 'always' })
  const never = await engine.openLog('never-0', { durability: 'never' })
  const interval = await engine.openLog('interval-0', { durability: 'interval' })
  await always.append([batchOf('a', 2)])
  await never.append([batchOf('n', 2)])
  await interval.append([batchOf('i', 2)])
  // A changed setting applies from the next append on.
  never.updateConfig({ durability: 'always' })
  await never.append([batchOf('n2', 1)])
  always.updateConfig({ durability: 'never' })
  await always.append([batchOf('a2', 1)])

  const { rows } = await client.query<{ log: string; base_offset: string; sync: string }>(
    'SELECT log, base_offset, sync FROM seen ORDER BY log, base_offset',
  )
  assert.deepEqual(
    rows.map((row) => `${row.log}@${row.base_offset}:${row.sync}`),
    ['always-0@0:on', 'always-0@2:off', 'interval-0@0:off', 'never-0@0:off', 'never-0@2:on'],
  )
  // SET LOCAL: the pool's sessions keep the server's setting.
  const session = await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit')
  assert.equal(session.rows[0]!.synchronous_commit, 'on')
  // Every append is readable back, whatever its durability.
  assert.equal(never.highWatermark, 3)
  assert.equal(always.highWatermark, 3)
}
