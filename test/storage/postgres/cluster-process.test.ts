// Cluster members that die or pause: one member runs in a child process (cluster-node.ts) that the test
// SIGKILLs or SIGSTOPs, the others are engines in this process. A killed controller and owner: the lease
// passes to a live broker and its logs move within leaseMs + a heartbeat, and their new owners continue the
// offsets exactly. A paused owner past its lease: its logs move; resumed, its appends are fenced (NOT_OWNER,
// nothing written), and every log's offsets stay dense with each acknowledged record stored once.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { type TestContext, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { openPostgresStorage, type PostgresStorage } from '../../../src/storage/postgres/index.ts'
import { startPostgres } from '../../fixtures/postgres.ts'

const LEASE_MS = 3000
const HEARTBEAT_MS = 300
const NODE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'cluster-node.ts')

interface Reply {
  op: string
  id?: string
  offset?: number
  code?: string
  message?: string
}

/** The child member: sends appends, waits for their outcome. */
async function spawnNode(t: TestContext, url: string, nodeId: number, logs: string[]) {
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', NODE_SCRIPT, url, String(nodeId), String(LEASE_MS), String(HEARTBEAT_MS), ...logs],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  t.after(() => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    process.kill(proc.pid!, 'SIGCONT')
    process.kill(proc.pid!, 'SIGKILL')
  })
  const waiters = new Map<string, (reply: Reply) => void>()
  let ready: () => void = () => {}
  const started = new Promise<void>((resolve) => {
    ready = resolve
  })
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const reply = JSON.parse(line) as Reply
    if (reply.op === 'ready') ready()
    if (reply.id !== undefined) waiters.get(reply.id)?.(reply)
  })
  await Promise.race([
    started,
    new Promise((_, reject) => proc.once('exit', (code) => reject(new Error(`cluster node exited ${code}`)))),
  ])
  return {
    proc,
    append(log: string, id: string): Promise<Reply> {
      const reply = new Promise<Reply>((resolve) => waiters.set(id, resolve))
      proc.stdin!.write(`${JSON.stringify({ op: 'append', log, id })}\n`)
      return reply
    },
  }
}

async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 30_000,
) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function member(t: TestContext, url: string, nodeId: number) {
  const engine = await openPostgresStorage(url, {
    retentionCheckMs: 0,
    cluster: { nodeId, leaseMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS },
  })
  t.after(() => engine.close())
  return engine
}

/** Every log's stored records, checked dense: chunk rows back to back from 0 to next_offset. */
async function stored(url: string, names: string[]): Promise<Map<string, string[]>> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  const reader = await openPostgresStorage(url, { retentionCheckMs: 0 })
  try {
    const out = new Map<string, string[]>()
    for (const name of names) {
      const { rows } = await admin.query(
        `SELECT c.base_offset::int AS b, c.last_offset::int AS l, w.next_offset::int AS next
         FROM wharf_chunk c JOIN wharf_log w ON w.id = c.log_id WHERE w.name = $1 ORDER BY c.base_offset`,
        [name],
      )
      let expected = 0
      for (const row of rows) {
        assert.equal(row.b, expected, `${name}: chunk rows are back to back`)
        expected = row.l + 1
      }
      if (rows.length > 0) assert.equal(rows.at(-1).next, expected, `${name}: next_offset is the end of the last row`)
      const log = await reader.openLog(name)
      const values: string[] = []
      for (let offset = 0; offset < log.highWatermark; ) {
        const { records, nextOffset } = await log.readRecords(offset, 1 << 20)
        for (const record of records) {
          assert.equal(record.offset, values.length, `${name}: offsets are dense`)
          values.push(record.value!.toString())
        }
        offset = nextOffset
      }
      out.set(name, values)
    }
    return out
  } finally {
    await reader.close()
    await admin.end()
  }
}

const ownedBy = (engine: PostgresStorage, names: string[], id: number) =>
  names.filter((name) => engine.cluster!.ownerOf(name)?.owner === id)

test('cluster members in other processes: SIGKILL and SIGSTOP', { timeout: 240_000 }, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return

  await t.test('a killed controller and owner: the lease and its logs pass to live members', async (t) => {
    const url = await server.createDatabase('killed')
    const names = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']
    const child = await spawnNode(t, url, 1, names)
    const two = await member(t, url, 2)
    const three = await member(t, url, 3)
    for (const engine of [two, three]) for (const name of names) await engine.openLog(name)
    await until('2 logs each', () => [1, 2, 3].every((id) => ownedBy(two, names, id).length === 2))
    const childLogs = ownedBy(two, names, 1)
    const acked = new Map<string, string[]>(childLogs.map((name) => [name, []]))
    for (const name of childLogs) {
      for (let i = 0; i < 5; i++) {
        const id = `${name}-1-${i}`
        const reply = await until(`child append ${id}`, async () => {
          const r = await child.append(name, `${id}`)
          return r.op === 'acked' ? r : undefined
        })
        assert.equal(reply.offset, i)
        acked.get(name)!.push(id)
      }
    }
    assert.equal(two.cluster!.isController || three.cluster!.isController, false, 'the first member is the controller')

    process.kill(child.proc.pid!, 'SIGKILL')
    const killedAt = Date.now()
    await until(
      'the dead member’s logs moved',
      () => ownedBy(two, names, 1).length === 0 && names.every((n) => two.cluster!.ownerOf(n)),
    )
    const movedMs = Date.now() - killedAt
    t.diagnostic(`logs moved ${movedMs} ms after SIGKILL (lease ${LEASE_MS} ms, heartbeat ${HEARTBEAT_MS} ms)`)
    // Generous margin for a loaded machine; the bound the design gives is leaseMs + one heartbeat.
    assert.ok(movedMs < LEASE_MS + HEARTBEAT_MS + 5000, `moved after ${movedMs} ms`)
    await until('one controller among the live', () => two.cluster!.isController !== three.cluster!.isController)
    assert.deepEqual(
      two.cluster!.members().map((m) => m.id),
      [2, 3],
    )
    assert.equal(ownedBy(two, names, 2).length, 3)

    for (const name of childLogs) {
      const owner = two.cluster!.ownerOf(name)!.owner === 2 ? two : three
      const log = await owner.openLog(name)
      const result = await until(`${name} appends on its new owner`, () =>
        log.appendRecords([{ value: Buffer.from(`${name}-new`) }]).then(
          (r) => r,
          () => undefined,
        ),
      )
      assert.equal(result.baseOffset, 5, `${name}: the new owner continues where the old one's last append ended`)
      acked.get(name)!.push(`${name}-new`)
    }
    const data = await stored(url, childLogs)
    for (const name of childLogs) assert.deepEqual(data.get(name), acked.get(name))
  })

  await t.test('a paused owner past its lease: its logs move; resumed, its appends are fenced', async (t) => {
    const url = await server.createDatabase('paused')
    const names = ['p0', 'p1', 'p2', 'p3']
    const two = await member(t, url, 2)
    for (const name of names) await two.openLog(name)
    const child = await spawnNode(t, url, 1, names)
    await until('2 logs each', () => ownedBy(two, names, 1).length === 2 && ownedBy(two, names, 2).length === 2)
    const childLogs = ownedBy(two, names, 1)
    const acked = new Map<string, string[]>(names.map((name) => [name, []]))
    for (const name of childLogs) {
      for (let i = 0; i < 3; i++) {
        const id = `${name}-1-${i}`
        const reply = await until(`child append ${id}`, async () => {
          const r = await child.append(name, id)
          return r.op === 'acked' ? r : undefined
        })
        assert.equal(reply.offset, i)
        acked.get(name)!.push(id)
      }
    }

    process.kill(child.proc.pid!, 'SIGSTOP')
    await until('the paused member’s logs moved', () => ownedBy(two, names, 2).length === 4)
    for (const name of childLogs) {
      const log = await two.openLog(name)
      const result = await until(`${name} appends on broker 2`, () =>
        log.appendRecords([{ value: Buffer.from(`${name}-2`) }]).then(
          (r) => r,
          () => undefined,
        ),
      )
      assert.equal(result.baseOffset, 3, `${name}: broker 2 continues at the old owner's end`)
      acked.get(name)!.push(`${name}-2`)
    }

    // Resumed with the appends already waiting in its input: its view most likely still says it owns these
    // logs, so they reach the database, where the epoch fence refuses them (or the view caught up first).
    const zombie = childLogs.map((name) => child.append(name, `${name}-zombie`))
    process.kill(child.proc.pid!, 'SIGCONT')
    const replies = await Promise.all(zombie)
    for (const reply of replies) {
      assert.deepEqual([reply.op, reply.code], ['failed', 'NOT_OWNER'], reply.id)
      t.diagnostic(`${reply.id}: ${reply.message}`)
    }

    const data = await stored(url, names)
    for (const name of names) {
      assert.deepEqual(data.get(name), acked.get(name), `${name}: every acknowledged record once, nothing else`)
    }
  })

  await t.test('a new process takes a paused one’s node id after its lease: the old one is fenced', async (t) => {
    const url = await server.createDatabase('same_id')
    const child = await spawnNode(t, url, 1, ['s0'])
    const first = await child.append('s0', 's0-old')
    assert.deepEqual([first.op, first.offset], ['acked', 0])
    process.kill(child.proc.pid!, 'SIGSTOP')
    // Refused while the paused process's lease runs; accepted once it expired (its registration bumps s0's epoch).
    const successor = await until('node id 1 free again', () =>
      openPostgresStorage(url, {
        retentionCheckMs: 0,
        cluster: { nodeId: 1, leaseMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS },
      }).catch((error: { code?: string }) => {
        assert.equal(error.code, 'INVALID_CONFIG')
        return undefined
      }),
    )
    t.after(() => successor.close())
    const log = await successor.openLog('s0')
    const result = await until('the successor appends', () =>
      log.appendRecords([{ value: Buffer.from('s0-new') }]).then(
        (r) => r,
        () => undefined,
      ),
    )
    assert.equal(result.baseOffset, 1)
    const zombie = child.append('s0', 's0-zombie')
    process.kill(child.proc.pid!, 'SIGCONT')
    const reply = await zombie
    assert.deepEqual([reply.op, reply.code], ['failed', 'NOT_OWNER'])
    // Still refused once it noticed it lost its membership row.
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS * 3))
    const later = await child.append('s0', 's0-zombie-later')
    assert.deepEqual([later.op, later.code], ['failed', 'NOT_OWNER'])
    assert.deepEqual((await stored(url, ['s0'])).get('s0'), ['s0-old', 's0-new'])
  })
})
