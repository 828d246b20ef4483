// Crash test: a child process mutates a cursor store and a metadata store with durability 'always' and
// prints every mutation after its promise resolved; we SIGKILL it at random moments, reopen both stores and
// check that every printed (acknowledged) mutation survived. Each cycle continues on the same directory.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { openCursorStore } from '../../src/storage/local/cursors/cursor-store.ts'
import { openMetadataStore } from '../../src/storage/local/metadata-store.ts'

const CYCLES = process.env.WHARF_LONG === '1' ? 120 : 10
const fixture = join(import.meta.dirname, 'fixtures', 'kv-child.ts')

/** Runs one child until a random moment after it got going, then SIGKILLs it (by its PID). Returns its lines. */
function runAndKill(dir: string, cycle: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, String(cycle)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    let timer: NodeJS.Timeout | undefined
    const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      if (timer === undefined && out.includes('ready\n')) {
        timer = setTimeout(() => child.kill('SIGKILL'), 20 + Math.random() * 400)
      }
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(deadline)
      if (timer !== undefined) clearTimeout(timer)
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code}/${signal}: ${err}`))
      else if (!out.includes('ready\n')) reject(new Error(`child never got ready: ${err}`))
      else resolve(out.split('\n'))
    })
  })
}

test(`crash safety: ${CYCLES} SIGKILL cycles lose no acknowledged cursor or metadata mutation`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-kvcrash-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const acked: Array<[string, number]> = []
  const floors = new Map<string, number>()
  const commits = new Map<string, number>()
  const puts = new Map<string, number>()
  const deleted = new Set<string>()
  let mutations = 0
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    for (const line of await runAndKill(dir, cycle)) {
      const [verb, name, value] = line.split(' ')
      if (verb === undefined || name === undefined) continue
      const n = Number(value)
      mutations++
      if (verb === 'ack') acked.push([name, n])
      else if (verb === 'floor') floors.set(name, Math.max(floors.get(name) ?? 0, n))
      else if (verb === 'commit') commits.set(name, n)
      else if (verb === 'put') puts.set(name, n)
      else if (verb === 'del') deleted.add(name)
    }
    const warnings: string[] = []
    const logger = (m: string) => warnings.push(m)
    const cursors = await openCursorStore(join(dir, 'cursors'), { logger })
    const meta = await openMetadataStore(join(dir, 'meta'), { logger })
    for (const [key, offset] of acked)
      assert.ok(cursors.isAcked(key, offset), `cycle ${cycle}: ack ${key} ${offset} lost`)
    for (const [key, floor] of floors) assert.ok(cursors.getAcks(key)!.floor >= floor, `cycle ${cycle}: floor ${key}`)
    // A later commit may have become durable without being printed, so the stored one is at least the printed one.
    for (const [key, offset] of commits) assert.ok(cursors.getOffset(key)!.offset >= offset, `cycle ${cycle}: ${key}`)
    for (const [name, n] of puts) {
      if (name.startsWith('d/')) assert.ok(meta.get<{ n: number }>('doc', name)!.n >= n, `cycle ${cycle}: ${name}`)
      else if (deleted.has(name)) continue
      // The child deletes every put with i % 8 === 1 right away; that delete may be durable but unprinted.
      else if (n % 8 === 1 && meta.get('tmp', name) === undefined) continue
      else assert.deepEqual(meta.get('tmp', name), { i: n }, `cycle ${cycle}: ${name}`)
    }
    for (const name of deleted) assert.equal(meta.get('tmp', name), undefined, `cycle ${cycle}: ${name} resurrected`)
    await cursors.close()
    await meta.close()
  }
  assert.ok(mutations > CYCLES * 5, `children made too little progress (${mutations} mutations)`)
  // The children's small snapshot threshold means kills also hit compaction, not only plain appends.
  assert.ok(
    readdirSync(join(dir, 'cursors')).some((f) => f.startsWith('snapshot-')),
    'no snapshot was ever written',
  )
})
