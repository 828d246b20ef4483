// Two storage engines over one PostgreSQL database (what two brokers sharing it hold): a metadata put or delete
// committed by one is applied to the other's memory and reported to its watchers, its own writes are not;
// changes made while the listening connection is down still arrive (re-read after reconnecting); cursors are
// re-read on refresh.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { openPostgresStorage, type PostgresStorage } from '../../../src/storage/postgres/index.ts'
import { startPostgres } from '../../fixtures/postgres.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

async function pair(t: import('node:test').TestContext, name: string) {
  const server = await startPostgres(t)
  if (server === undefined) return undefined
  const url = await server.createDatabase(name)
  const a = await openPostgresStorage(url, { retentionCheckMs: 0 })
  const b = await openPostgresStorage(url, { retentionCheckMs: 0 })
  t.after(async () => {
    await a.close()
    await b.close()
  })
  return { server, url, a, b }
}

function recorder(engine: PostgresStorage): Array<[string, string]> {
  const seen: Array<[string, string]> = []
  engine.metadata.watch((kind, name) => seen.push([kind, name]))
  return seen
}

test('a put and a delete on one engine reach the other (memory first, then its watchers), not its own', {
  timeout: 120_000,
}, async (t) => {
  const env = await pair(t, 'catalog_store')
  if (env === undefined) return
  const { a, b } = env
  const seenA = recorder(a)
  const seenB = recorder(b)
  await Promise.all([a.metadata.watching(), b.metadata.watching()])

  // B's watcher runs after B's memory has the document.
  let atCall: unknown
  b.metadata.watch((kind, name) => {
    if (kind === 'stream' && name === 'orders') atCall = b.metadata.get('stream', 'orders')
  })
  await a.metadata.put('stream', 'orders', { id: 1, partitions: 3 })
  await until('B sees the put', () => seenB.some(([k, n]) => k === 'stream' && n === 'orders'))
  assert.deepEqual(b.metadata.get('stream', 'orders'), { id: 1, partitions: 3 })
  assert.deepEqual(atCall, { id: 1, partitions: 3 })
  assert.deepEqual(b.metadata.list('stream'), [['orders', { id: 1, partitions: 3 }]])

  // A name with a slash, a long name (announced as its whole kind), a burst of puts in one transaction.
  const long = 'l'.repeat(9000)
  await Promise.all([
    a.metadata.put('binding', 'x/y/z', { n: 1 }),
    a.metadata.put('binding', long, { n: 2 }),
    a.metadata.put('user', 'alice', { tags: [] }),
  ])
  await until('B sees the burst', () => b.metadata.get('user', 'alice') !== undefined)
  await until('B sees the long name', () => b.metadata.get('binding', long) !== undefined)
  assert.deepEqual(b.metadata.get('binding', 'x/y/z'), { n: 1 })

  await a.metadata.delete('stream', 'orders')
  await until('B sees the delete', () => b.metadata.get('stream', 'orders') === undefined)
  assert.equal(seenB.filter(([k, n]) => k === 'stream' && n === 'orders').length, 2)

  // B writes: A hears it, B does not hear its own write.
  await b.metadata.put('queue', 'jobs', { durable: true })
  await until('A sees B', () => a.metadata.get('queue', 'jobs') !== undefined)
  await sleep(500)
  assert.deepEqual(
    seenB.filter(([k]) => k === 'queue'),
    [],
    'own write not reported',
  )
  assert.deepEqual(
    seenA.filter(([k]) => k !== 'queue'),
    [],
    'own writes not reported',
  )
})

test('changes whose announcement was lost arrive after the listening connection reconnects (re-read)', {
  timeout: 120_000,
}, async (t) => {
  const env = await pair(t, 'catalog_reconnect')
  if (env === undefined) return
  const { a, b, url } = env
  const seenB = recorder(b)
  await b.metadata.watching()
  await a.metadata.put('acl', 'keep', { v: 1 })
  await a.metadata.put('acl', 'drop', { v: 1 })
  await until('B has both', () => b.metadata.get('acl', 'drop') !== undefined)

  // Changes committed without an announcement: what a broker misses while its listening connection is down.
  const admin = new pg.Client({ connectionString: url })
  admin.on('error', () => {})
  await admin.connect()
  await admin.query(`UPDATE wharf_metadata SET json = '{"v":2}' WHERE kind = 'acl'::bytea AND name = 'keep'::bytea`)
  await admin.query(`DELETE FROM wharf_metadata WHERE kind = 'acl'::bytea AND name = 'drop'::bytea`)
  await admin.query(`INSERT INTO wharf_metadata (kind, name, json) VALUES ('acl'::bytea, 'new'::bytea, '{"v":3}')`)
  await sleep(500)
  assert.equal(b.metadata.get('acl', 'new'), undefined, 'nothing announced, nothing seen yet')

  const pid = b.metadata.listenerProcessId
  assert.ok(pid !== undefined)
  await admin.query('SELECT pg_terminate_backend($1)', [pid])
  await until('B re-read after reconnecting', () => b.metadata.get('acl', 'new') !== undefined)
  assert.deepEqual(b.metadata.get('acl', 'keep'), { v: 2 })
  assert.equal(b.metadata.get('acl', 'drop'), undefined)
  await admin.end()
  assert.notEqual(b.metadata.listenerProcessId, pid, 'a new listening connection')
  for (const name of ['keep', 'drop', 'new'])
    assert.ok(
      seenB.some(([k, n]) => k === 'acl' && n === name),
      `change of ${name} reported`,
    )
  // And it listens again.
  await a.metadata.put('acl', 'after', { v: 4 })
  await until('B hears after the reconnection', () => b.metadata.get('acl', 'after') !== undefined)
})

test('a document changed here and not committed keeps the local version over another engine write', {
  timeout: 120_000,
}, async (t) => {
  const env = await pair(t, 'catalog_pending')
  if (env === undefined) return
  const { a, b } = env
  recorder(b)
  await b.metadata.watching()
  await a.metadata.put('stream', 's', { v: 'a' })
  await until('B sees A', () => b.metadata.get('stream', 's') !== undefined)
  // B's write commits after A's: the database and both memories end with B's version.
  await Promise.all([a.metadata.put('stream', 's', { v: 'a2' }), b.metadata.put('stream', 's', { v: 'b' })])
  recorder(a)
  await a.metadata.watching()
  await sleep(500)
  const final = new pg.Client({ connectionString: env.url })
  await final.connect()
  const { rows } = await final.query(
    "SELECT json FROM wharf_metadata WHERE kind = 'stream'::bytea AND name = 's'::bytea",
  )
  await final.end()
  const stored = JSON.parse(rows[0].json)
  await until('both converge on the stored version', () => {
    const va = a.metadata.get<{ v: string }>('stream', 's')?.v
    const vb = b.metadata.get<{ v: string }>('stream', 's')?.v
    return va === stored.v && vb === stored.v
  })
})

test('cursor refresh re-reads what another engine committed, by prefix', { timeout: 120_000 }, async (t) => {
  const env = await pair(t, 'catalog_cursors')
  if (env === undefined) return
  const { a, b } = env
  await a.cursors.commitOffset('g\u0000grp\u0000orders\u00000', 42, 'meta')
  await a.cursors.ack('q\u0000jobs\u00000', [0, 1, 2, 5])
  await a.cursors.commitOffset('g\u0000other\u0000orders\u00000', 7)
  assert.equal(b.cursors.getOffset('g\u0000grp\u0000orders\u00000'), undefined, 'not read before refresh')
  await b.cursors.refresh?.('g\u0000grp\u0000')
  assert.deepEqual(b.cursors.getOffset('g\u0000grp\u0000orders\u00000'), { offset: 42, metadata: 'meta' })
  assert.equal(b.cursors.getOffset('g\u0000other\u0000orders\u00000'), undefined, 'outside the prefix')
  await b.cursors.refresh?.()
  assert.deepEqual(b.cursors.getAcks('q\u0000jobs\u00000'), { floor: 3, ranges: [[5, 6]] })
  assert.equal(b.cursors.getOffset('g\u0000other\u0000orders\u00000')?.offset, 7)
  // A deletes and moves on; B's refresh forgets the deleted key and takes the new offset.
  await a.cursors.delete('g\u0000other\u0000orders\u00000')
  await a.cursors.commitOffset('g\u0000grp\u0000orders\u00000', 50)
  await b.cursors.refresh?.('g\u0000')
  assert.equal(b.cursors.getOffset('g\u0000other\u0000orders\u00000'), undefined)
  assert.equal(b.cursors.getOffset('g\u0000grp\u0000orders\u00000')?.offset, 50)
})
