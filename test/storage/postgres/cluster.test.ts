// Cluster mode of the PostgreSQL engine with several engines in this process over one private database:
// membership rows and leases on the database clock, a node id refused while live, the controller spreading
// logs over the members, appends only on the owner (NOT_OWNER elsewhere, before any SQL), reads anywhere,
// and the SQL fence: an owner whose epoch a takeover bumped writes 0 rows.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import type { PartitionLog } from '../../../src/storage/api.ts'
import { openPostgresStorage, type PostgresStorage } from '../../../src/storage/postgres/index.ts'
import { startPostgres } from '../../fixtures/postgres.ts'

const LEASE_MS = 3000
const HEARTBEAT_MS = 300

async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function opener(url: string, engines: PostgresStorage[]) {
  return async (nodeId: number) => {
    const engine = await openPostgresStorage(url, {
      retentionCheckMs: 0,
      cluster: { nodeId, leaseMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS },
    })
    engines.push(engine)
    return engine
  }
}

const record = (text: string) => [{ value: Buffer.from(text) }]

test('cluster mode on PostgreSQL', { timeout: 180_000 }, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  let n = 0

  await t.test('members register on the database clock, a live node id is refused, leaving is seen', async (t) => {
    const url = await server.createDatabase(`cluster_${n++}`)
    const engines: PostgresStorage[] = []
    t.after(() => Promise.all(engines.map((engine) => engine.close())))
    const open = opener(url, engines)
    const a = await open(1)
    const b = await open(2)
    assert.equal(a.cluster!.nodeId, 1)
    await until('both see both', () => a.cluster!.members().length === 2 && b.cluster!.members().length === 2)
    assert.deepEqual(
      b.cluster!.members().map((m) => m.id),
      [1, 2],
    )
    await assert.rejects(open(1), (error: { code?: string; message: string }) => {
      assert.equal(error.code, 'INVALID_CONFIG')
      assert.match(error.message, /node id 1 is taken by a live broker/)
      return true
    })
    await b.cluster!.advertise({ kafka: { host: '127.0.0.1', port: 9999 } })
    await until(
      'A sees B advertise',
      () => a.cluster!.members().find((m) => m.id === 2)?.endpoints.kafka?.port === 9999,
    )

    // The lease is on the database clock: a row whose lease_until is past is no member, whatever the brokers' clocks.
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    t.after(() => admin.end())
    const { rows } = await admin.query(
      "SELECT node_id, lease_until > now() AS live, lease_until <= now() + $1 * interval '1 millisecond' AS bounded FROM wharf_broker ORDER BY node_id",
      [LEASE_MS],
    )
    assert.deepEqual(rows, [
      { node_id: 1, live: true, bounded: true },
      { node_id: 2, live: true, bounded: true },
    ])
    const before = await admin.query('SELECT session_epoch FROM wharf_broker WHERE node_id = 2')
    await b.close()
    engines.splice(engines.indexOf(b), 1)
    await until('A sees B leave', () => a.cluster!.members().length === 1)
    assert.equal((await admin.query('SELECT * FROM wharf_broker WHERE node_id = 2')).rowCount, 0, 'clean leave deletes')
    const again = await open(2)
    const after = await admin.query('SELECT session_epoch FROM wharf_broker WHERE node_id = 2')
    assert.ok(Number(after.rows[0].session_epoch) > Number(before.rows[0].session_epoch), 'a new session epoch')
    await until('A sees B back', () => a.cluster!.members().length === 2 && again.cluster!.members().length === 2)

    // A row with an expired lease (a broker that died) may be taken by a new process with that id.
    await admin.query(`INSERT INTO wharf_broker VALUES (7, '{}', 1, now() - interval '1 second')`)
    const seven = await open(7)
    assert.equal(seven.cluster!.nodeId, 7)
  })

  await t.test('the controller spreads 6 logs over 3 members; only owners append, anyone reads', async (t) => {
    const url = await server.createDatabase(`cluster_${n++}`)
    const engines: PostgresStorage[] = []
    t.after(() => Promise.all(engines.map((engine) => engine.close())))
    const open = opener(url, engines)
    const a = await open(1)
    const names = ['l0', 'l1', 'l2', 'l3', 'l4', 'l5']
    const logsA = await Promise.all(names.map((name) => a.openLog(name)))
    // The creating broker claims new logs: it can append at once.
    for (const name of names) assert.deepEqual(a.cluster!.ownerOf(name), { owner: 1, epoch: 1 })
    await logsA[0]!.appendRecords(record('first'))
    const b = await open(2)
    const c = await open(3)
    const all = [a, b, c]
    const logs = new Map<PostgresStorage, PartitionLog[]>([[a, logsA]])
    for (const engine of [b, c]) logs.set(engine, await Promise.all(names.map((name) => engine.openLog(name))))
    const counts = await until('2 logs per member, the same view everywhere', () => {
      const views = all.map((engine) => JSON.stringify(names.map((name) => engine.cluster!.ownerOf(name))))
      if (new Set(views).size !== 1) return undefined
      const per = new Map<number, number>()
      for (const name of names) {
        const owner = a.cluster!.ownerOf(name)?.owner
        if (owner === undefined) return undefined
        per.set(owner, (per.get(owner) ?? 0) + 1)
      }
      return [...per.values()].every((count) => count === 2) && per.size === 3 ? per : undefined
    })
    assert.equal(counts.size, 3)
    assert.equal(all.filter((engine) => engine.cluster!.isController).length, 1, 'one controller')

    for (const [i, name] of names.entries()) {
      const { owner, epoch } = a.cluster!.ownerOf(name)!
      const ownerEngine = all[owner - 1]!
      const ownerLog = logs.get(ownerEngine)![i]!
      // A moved log was reloaded by its new owner: the append continues the offsets.
      await until(`owner of ${name} takes appends`, () =>
        ownerLog.appendRecords(record(`${name}@${owner}`)).then(
          (result) => result,
          () => undefined,
        ),
      )
      assert.equal(ownerLog.highWatermark, i === 0 ? 2 : 1, `${name} offsets continue (epoch ${epoch})`)
      for (const other of all.filter((engine) => engine !== ownerEngine)) {
        const log = logs.get(other)![i]!
        await assert.rejects(log.appendRecords(record('not mine')), { code: 'NOT_OWNER' })
        // A log not owned here catches up with the owner's rows when a read asks past its end.
        const read = await until(`${name} readable on ${other.cluster!.nodeId}`, async () => {
          const got = await log.readRecords(ownerLog.highWatermark - 1, 1 << 20).catch(() => undefined)
          return got !== undefined && got.records.length === 1 ? got : undefined
        })
        assert.equal(read.records.at(-1)!.value!.toString(), `${name}@${owner}`)
      }
    }
  })

  await t.test('an owner whose epoch was bumped is fenced in SQL: NOT_OWNER, 0 rows written', async (t) => {
    const url = await server.createDatabase(`cluster_${n++}`)
    const engines: PostgresStorage[] = []
    t.after(() => Promise.all(engines.map((engine) => engine.close())))
    // A long heartbeat: the fence in the statement, not the view, has to catch the stale owner.
    const a = await openPostgresStorage(url, {
      retentionCheckMs: 0,
      cluster: { nodeId: 1, leaseMs: 60_000, heartbeatMs: 20_000 },
    })
    engines.push(a)
    const log = await a.openLog('fenced')
    await log.appendRecords(record('one'))
    await log.appendRecords(record('two'))
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    t.after(() => admin.end())
    // What a controller does when it gives the log to broker 2.
    await admin.query("UPDATE wharf_log SET owner = 2, owner_epoch = owner_epoch + 1 WHERE name = 'fenced'")
    const appended = log.appendRecords(record('zombie'))
    await assert.rejects(appended, { code: 'NOT_OWNER' })
    const { rows } = await admin.query(
      "SELECT next_offset, (SELECT count(*)::int FROM wharf_chunk c WHERE c.log_id = l.id) AS chunks FROM wharf_log l WHERE name = 'fenced'",
    )
    assert.deepEqual(rows, [{ next_offset: '2', chunks: 2 }], 'nothing written')
    assert.equal(log.highWatermark, 2)
    // It stepped down: the next append is refused before any SQL.
    await assert.rejects(log.appendRecords(record('again')), { code: 'NOT_OWNER' })
    // Given back (a new epoch), it reloads and continues where the log ends.
    await admin.query("UPDATE wharf_log SET owner = 1, owner_epoch = owner_epoch + 1 WHERE name = 'fenced'")
    await a.cluster!.refresh()
    const result = await until('append after regaining', () =>
      log.appendRecords(record('three')).then(
        (r) => r,
        () => undefined,
      ),
    )
    assert.equal(result.baseOffset, 2)
  })
})
