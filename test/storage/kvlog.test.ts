import assert from 'node:assert/strict'
import { appendFileSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { encodeSnapshot, frameHeader, scanFrames } from '../../src/storage/local/kvlog/format.ts'
import { KvLog, type KvLogOptions, type KvState } from '../../src/storage/local/kvlog/kvlog.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { tempDir } from './helpers.ts'

/** The simplest state machine: an ordered list of strings. */
class ListState implements KvState {
  items: string[] = []
  apply(payload: Buffer): void {
    if (payload[0] === 0xff) throw new Error('poison entry')
    this.items.push(payload.toString())
  }
  snapshot(): Buffer[] {
    return this.items.map((s) => Buffer.from(s))
  }
}

async function openList(dir: string, options: KvLogOptions = {}) {
  const state = new ListState()
  const warnings: string[] = []
  const log = await KvLog.open(dir, state, { logger: (m) => warnings.push(m), ...options })
  const add = (s: string): Promise<void> => {
    state.items.push(s)
    return log.append(Buffer.from(s))
  }
  return { state, log, add, warnings }
}

test('frames: valid frames scan, zero fill and flipped bytes stop the scan', () => {
  const payloads = ['a', 'bb', 'ccc'].map((s) => Buffer.from(s))
  const buf = Buffer.concat(payloads.flatMap((p) => [frameHeader(p), p]))
  const seen: string[] = []
  assert.deepEqual(
    scanFrames(buf, (p) => seen.push(p.toString())),
    { validBytes: buf.length, entries: 3 },
  )
  assert.deepEqual(seen, ['a', 'bb', 'ccc'])
  assert.equal(scanFrames(Buffer.concat([buf, Buffer.alloc(16)]), () => {}).validBytes, buf.length)
  const flipped = Buffer.from(buf)
  flipped[flipped.length - 1]! ^= 1
  const scan = scanFrames(flipped, () => {})
  assert.equal(scan.entries, 2)
  assert.match(scan.problem ?? '', /crc/)
  const badLength = Buffer.from(buf)
  badLength[0] = 2 // first frame now claims 2 bytes
  assert.equal(scanFrames(badLength, () => {}).entries, 0)
})

test('appends survive close/reopen; concurrent appends share writes and fsyncs (group commit)', async (t) => {
  const dir = tempDir(t)
  const a = await openList(dir)
  await Promise.all(Array.from({ length: 500 }, (_, i) => a.add(`item-${i}`)))
  await a.add('last')
  assert.ok(a.log.stats.syncs <= 3, `expected grouped fsyncs, got ${a.log.stats.syncs}`)
  assert.ok(a.log.stats.writes <= 3, `expected grouped writes, got ${a.log.stats.writes}`)
  await a.log.close()
  const b = await openList(dir)
  assert.equal(b.state.items.length, 501)
  assert.equal(b.state.items[499], 'item-499')
  assert.equal(b.state.items[500], 'last')
  assert.deepEqual(b.warnings, [])
  await b.log.close()
})

test('each awaited append under "always" is fsynced; under "never" only flush/close sync', async (t) => {
  const always = await openList(tempDir(t))
  for (let i = 0; i < 5; i++) await always.add(`x${i}`)
  assert.equal(always.log.stats.syncs, 5)
  await always.log.close()

  const dir = tempDir(t)
  const never = await openList(dir, { durability: 'never' })
  for (let i = 0; i < 5; i++) await never.add(`x${i}`)
  assert.equal(never.log.stats.syncs, 0)
  assert.equal(never.log.stats.writes, 5)
  await never.log.flush()
  assert.equal(never.log.stats.syncs, 1)
  await never.log.close()
  const reopened = await openList(dir)
  assert.equal(reopened.state.items.length, 5)
  await reopened.log.close()
})

test('durability "interval" syncs on a timer', async (t) => {
  const a = await openList(tempDir(t), { durability: 'interval', flushIntervalMs: 10 })
  await a.add('x')
  assert.equal(a.log.stats.syncs, 0)
  for (let i = 0; i < 100 && a.log.stats.syncs === 0; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(a.log.stats.syncs, 1)
  await a.log.close()
})

for (const damage of ['truncate mid-entry', 'flip a byte in the last entry', 'append zero bytes'] as const) {
  test(`torn/corrupt tail (${damage}): reopen keeps everything before the damage`, async (t) => {
    const dir = tempDir(t)
    const a = await openList(dir)
    for (let i = 0; i < 20; i++) await a.add(`entry-${i}`)
    await a.log.close()
    const path = join(dir, 'log-0.bin')
    const size = readFileSync(path).length
    if (damage === 'truncate mid-entry') truncateSync(path, size - 3)
    else if (damage === 'append zero bytes') appendFileSync(path, Buffer.alloc(100))
    else {
      const buf = readFileSync(path)
      buf[size - 2]! ^= 0x40
      writeFileSync(path, buf)
    }
    const b = await openList(dir)
    const expected = Array.from({ length: damage === 'append zero bytes' ? 20 : 19 }, (_, i) => `entry-${i}`)
    assert.deepEqual(b.state.items, expected)
    assert.equal(b.warnings.length, 1)
    assert.match(b.warnings[0]!, /truncating/)
    // The damaged tail is gone, so new appends follow the last good entry and survive another reopen.
    await b.add('after')
    await b.log.close()
    const c = await openList(dir)
    assert.deepEqual(c.state.items, [...expected, 'after'])
    assert.deepEqual(c.warnings, [])
    await c.log.close()
  })
}

test('an entry the state rejects is treated as the corrupt tail', async (t) => {
  const dir = tempDir(t)
  const a = await openList(dir)
  await a.add('ok')
  await a.log.append(Buffer.from([0xff]))
  await a.log.close()
  const b = await openList(dir)
  assert.deepEqual(b.state.items, ['ok'])
  assert.match(b.warnings[0] ?? '', /poison/)
  await b.log.close()
})

test('snapshots: compaction writes snapshot-<g>, drops older generations, and replays to the same state', async (t) => {
  const dir = tempDir(t)
  const a = await openList(dir, { compactMinBytes: 512 })
  for (let i = 0; i < 300; i++) await a.add(`value-${i}`)
  assert.ok(a.log.stats.snapshots >= 2, `snapshots: ${a.log.stats.snapshots}`)
  await a.log.close()
  const files = readdirSync(dir).sort()
  assert.equal(files.filter((f) => f.startsWith('snapshot-')).length, 1, files.join())
  assert.equal(files.filter((f) => f.startsWith('log-')).length, 1, files.join())
  assert.ok(!files.some((f) => f.endsWith('.tmp')))
  const b = await openList(dir, { compactMinBytes: 512 })
  assert.deepEqual(
    b.state.items,
    Array.from({ length: 300 }, (_, i) => `value-${i}`),
  )
  assert.deepEqual(b.warnings, [])
  await b.log.close()
})

test('crash mid-compaction: a leftover .tmp is removed and the older snapshot + log chain is replayed', async (t) => {
  const dir = tempDir(t)
  // Generation 1 snapshot holds [a, b]; log-1 adds c; log-2 (snapshot-2 never finished) adds d.
  writeFileSync(join(dir, 'snapshot-1.bin'), encodeSnapshot([Buffer.from('a'), Buffer.from('b')]))
  const frame = (s: string) => Buffer.concat([frameHeader(Buffer.from(s)), Buffer.from(s)])
  writeFileSync(join(dir, 'log-1.bin'), frame('c'))
  writeFileSync(join(dir, 'log-2.bin'), frame('d'))
  writeFileSync(join(dir, 'snapshot-2.bin.tmp'), encodeSnapshot([Buffer.from('a')]).subarray(0, 10))
  writeFileSync(join(dir, 'log-0.bin'), frame('stale')) // older than the snapshot: must be ignored and removed
  const a = await openList(dir)
  assert.deepEqual(a.state.items, ['a', 'b', 'c', 'd'])
  await a.add('e')
  await a.log.close()
  assert.deepEqual(readdirSync(dir).sort(), ['log-1.bin', 'log-2.bin', 'snapshot-1.bin'])
  const b = await openList(dir)
  assert.deepEqual(b.state.items, ['a', 'b', 'c', 'd', 'e'])
  await b.log.close()
})

test('a damaged snapshot falls back to an older chain when one exists, else STORE_CORRUPT', async (t) => {
  const dir = tempDir(t)
  const frame = (s: string) => Buffer.concat([frameHeader(Buffer.from(s)), Buffer.from(s)])
  writeFileSync(join(dir, 'log-0.bin'), frame('a'))
  writeFileSync(join(dir, 'log-1.bin'), frame('b'))
  const bad = encodeSnapshot([Buffer.from('a')])
  bad[bad.length - 1]! ^= 1
  writeFileSync(join(dir, 'snapshot-1.bin'), bad)
  const a = await openList(dir)
  assert.deepEqual(a.state.items, ['a', 'b'])
  assert.match(a.warnings[0] ?? '', /ignoring snapshot-1/)
  await a.log.close()

  const lost = tempDir(t)
  writeFileSync(join(lost, 'snapshot-3.bin'), bad)
  writeFileSync(join(lost, 'log-3.bin'), frame('x'))
  await assert.rejects(openList(lost), (e) => isWharfError(e, 'STORE_CORRUPT'))

  const gap = tempDir(t)
  writeFileSync(join(gap, 'log-0.bin'), frame('x'))
  writeFileSync(join(gap, 'log-2.bin'), frame('y'))
  await assert.rejects(openList(gap), (e) => isWharfError(e, 'STORE_CORRUPT'))
})

test('disk full and I/O errors reject the failed group as WharfErrors; later writes work; no torn tail', async (t) => {
  const dir = tempDir(t)
  let fail: { op: string; code: string } | undefined
  const faultInjector = (op: string) => {
    if (fail?.op !== op) return undefined
    const error = Object.assign(new Error(`injected ${fail.code}`), { code: fail.code })
    fail = undefined
    return error
  }
  const a = await openList(dir, { faultInjector })
  await a.add('before')
  fail = { op: 'write', code: 'ENOSPC' }
  const results = await Promise.allSettled([a.add('lost-1'), a.add('lost-2')])
  for (const r of results) {
    assert.equal(r.status, 'rejected')
    assert.ok(isWharfError(r.reason, 'DISK_FULL'), String(r.reason))
  }
  fail = { op: 'sync', code: 'EIO' }
  await assert.rejects(a.add('lost-3'), (e) => isWharfError(e, 'IO_ERROR'))
  await a.add('after')
  await a.log.close()
  const b = await openList(dir)
  assert.deepEqual(b.state.items, ['before', 'after'])
  assert.deepEqual(b.warnings, [], 'the half-written group was cut off at once, not left for recovery')
  await b.log.close()
})

test('a failed snapshot is logged and the older files keep the state recoverable', async (t) => {
  const dir = tempDir(t)
  let failSnapshots = true
  const a = await openList(dir, {
    compactMinBytes: 64,
    faultInjector: (op) =>
      op === 'snapshot' && failSnapshots ? Object.assign(new Error('x'), { code: 'ENOSPC' }) : undefined,
  })
  for (let i = 0; i < 40; i++) await a.add(`v${i}`)
  assert.equal(a.log.stats.snapshots, 0)
  assert.ok(a.warnings.some((w) => /snapshot .* failed/.test(w)))
  failSnapshots = false
  for (let i = 40; i < 80; i++) await a.add(`v${i}`)
  await a.log.close()
  const b = await openList(dir)
  assert.deepEqual(
    b.state.items,
    Array.from({ length: 80 }, (_, i) => `v${i}`),
  )
  await b.log.close()
})

test('a closed log rejects with LOG_CLOSED; close is idempotent', async (t) => {
  const a = await openList(tempDir(t))
  await a.log.close()
  await a.log.close()
  await assert.rejects(a.log.append(Buffer.from('x')), (e) => isWharfError(e, 'LOG_CLOSED'))
  await assert.rejects(a.log.flush(), (e) => isWharfError(e, 'LOG_CLOSED'))
})
