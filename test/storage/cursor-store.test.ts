import assert from 'node:assert/strict'
import { readFileSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { AckSet, offsetsToRuns } from '../../src/storage/local/cursors/acks.ts'
import { openCursorStore } from '../../src/storage/local/cursors/cursor-store.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { closeWithSnapshot, tempDir } from './helpers.ts'

const LONG = process.env.WHARF_LONG === '1'

function checkInvariants(set: AckSet): void {
  let prev = set.floor
  for (const [start, end] of set.toRanges()) {
    assert.ok(start > prev, `range [${start}, ${end}) touches or overlaps what is below it (${prev})`)
    assert.ok(end > start, `empty range [${start}, ${end})`)
    prev = end
  }
}

test('AckSet: merging, floor absorption, advanceFloor', () => {
  const set = new AckSet()
  for (const o of [5, 7, 6]) set.add(o, o + 1)
  assert.deepEqual([set.floor, set.toRanges()], [0, [[5, 8]]])
  set.add(10, 12)
  set.add(2, 3)
  assert.deepEqual(set.toRanges(), [
    [2, 3],
    [5, 8],
    [10, 12],
  ])
  set.add(3, 5) // bridges [2,3) and [5,8)
  assert.deepEqual(set.toRanges(), [
    [2, 8],
    [10, 12],
  ])
  assert.equal(set.add(6, 7), false, 'already covered')
  set.add(0, 2) // reaches the floor: floor swallows [0, 8)
  assert.deepEqual([set.floor, set.toRanges()], [8, [[10, 12]]])
  assert.equal(set.add(3, 4), false, 'below the floor')
  assert.equal(set.advanceFloor(5), false, 'never backwards')
  set.add(14, 15)
  set.add(20, 30)
  set.advanceFloor(11) // inside [10, 12): absorbed
  assert.deepEqual(
    [set.floor, set.toRanges()],
    [
      12,
      [
        [14, 15],
        [20, 30],
      ],
    ],
  )
  set.advanceFloor(25)
  assert.deepEqual([set.floor, set.toRanges()], [30, []])
  set.add(31, 32)
  assert.ok(set.has(29) && set.has(31) && !set.has(30) && !set.has(32))
  checkInvariants(set)
})

test('offsetsToRuns sorts, dedups and coalesces', () => {
  assert.deepEqual(offsetsToRuns([7]), [7, 8])
  assert.deepEqual(offsetsToRuns([5, 3, 4, 4, 9, 10, 3, 12]), [3, 6, 9, 11, 12, 13])
})

test('property: random acks and floor moves match a reference Set; invariants hold', () => {
  const op = fc.oneof(
    { weight: 8, arbitrary: fc.array(fc.nat(200), { minLength: 1, maxLength: 8 }).map((o) => ({ ack: o })) },
    { weight: 1, arbitrary: fc.nat(220).map((f) => ({ floor: f })) },
  )
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      const set = new AckSet()
      const reference = new Set<number>()
      let floor = 0
      for (const o of ops) {
        if ('ack' in o) {
          const runs = offsetsToRuns(o.ack)
          for (let i = 0; i < runs.length; i += 2) set.add(runs[i]!, runs[i + 1]!)
          for (const x of o.ack) reference.add(x)
        } else {
          set.advanceFloor(o.floor)
          floor = Math.max(floor, o.floor)
        }
        checkInvariants(set)
      }
      for (let x = 0; x < 240; x++) assert.equal(set.has(x), x < floor || reference.has(x), `offset ${x}`)
      // The floor is as high as contiguous acks allow, and memory is one pair per gap-separated run.
      assert.equal(set.has(set.floor), false)
    }),
    { numRuns: LONG ? 5000 : 300 },
  )
})

test('commitOffset/getOffset, acks, delete and keys persist across close/reopen', async (t) => {
  const dir = tempDir(t)
  const a = await openCursorStore(dir)
  await a.commitOffset('g1/orders/0', 42, 'meta')
  await a.commitOffset('g1/orders/1', -1)
  await a.ack('q/jobs/0', [0, 1, 2, 5, 9, 6])
  await a.advanceFloor('q/other/0', 100)
  await a.ack('q/other/0', [150])
  await a.commitOffset('gone', 1)
  await a.delete('gone')
  assert.deepEqual(a.getOffset('g1/orders/0'), { offset: 42, metadata: 'meta' })
  await a.close()

  const b = await openCursorStore(dir)
  assert.deepEqual(b.getOffset('g1/orders/0'), { offset: 42, metadata: 'meta' })
  assert.deepEqual(b.getOffset('g1/orders/1'), { offset: -1, metadata: '' })
  assert.equal(b.getOffset('gone'), undefined)
  assert.deepEqual(b.getAcks('q/jobs/0'), {
    floor: 3,
    ranges: [
      [5, 7],
      [9, 10],
    ],
  })
  assert.deepEqual(b.getAcks('q/other/0'), { floor: 100, ranges: [[150, 151]] })
  assert.ok(b.isAcked('q/jobs/0', 2) && b.isAcked('q/jobs/0', 6) && !b.isAcked('q/jobs/0', 7))
  assert.equal(b.isAcked('nope', 0), false)
  assert.deepEqual(b.keys(), ['g1/orders/0', 'g1/orders/1', 'q/jobs/0', 'q/other/0'])
  assert.deepEqual(b.keys('g1/'), ['g1/orders/0', 'g1/orders/1'])
  await b.close()
})

test('mutations are visible at once; invalid offsets are INVALID_ARGUMENT; closed store is LOG_CLOSED', async (t) => {
  const store = await openCursorStore(tempDir(t))
  const pending = store.ack('k', [0])
  assert.equal(store.isAcked('k', 0), true)
  await pending
  await assert.rejects(store.ack('k', [-1]), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
  await assert.rejects(store.ack('k', [1.5]), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
  await assert.rejects(store.commitOffset('k', 2 ** 60), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
  await store.close()
  await assert.rejects(store.ack('k', [1]), (e) => isWharfError(e, 'LOG_CLOSED'))
  assert.throws(
    () => store.isAcked('k', 0),
    (e) => isWharfError(e, 'LOG_CLOSED'),
  )
  assert.throws(
    () => store.keys(),
    (e) => isWharfError(e, 'LOG_CLOSED'),
  )
})

test('snapshot + log replay: many acks compact into snapshots and reopen to the same state', async (t) => {
  const dir = tempDir(t)
  const a = await openCursorStore(dir, { compactMinBytes: 4096 })
  const reference = new Map<string, Set<number>>()
  let seed = 12345
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }
  const writes: Promise<void>[] = []
  for (let i = 0; i < 3000; i++) {
    const key = `q/${i % 7}`
    const offset = Math.floor(random() * 400)
    if (!reference.has(key)) reference.set(key, new Set())
    reference.get(key)!.add(offset)
    writes.push(a.ack(key, [offset]))
    if (i % 5 === 0) writes.push(a.commitOffset(`log/${i % 3}`, i))
  }
  await Promise.all(writes)
  await closeWithSnapshot(a, dir)
  const b = await openCursorStore(dir)
  for (const [key, offsets] of reference) {
    for (let o = 0; o < 400; o++) assert.equal(b.isAcked(key, o), offsets.has(o), `${key} ${o}`)
  }
  assert.equal(b.getOffset('log/0')?.offset, 2985)
  await b.close()
})

test('torn ack entry at the tail is dropped; earlier acks survive', async (t) => {
  const dir = tempDir(t)
  const a = await openCursorStore(dir)
  await a.ack('k', [0, 1, 2])
  await a.ack('k', [10])
  await a.close()
  const path = join(dir, 'log-0.bin')
  truncateSync(path, readFileSync(path).length - 1)
  const warnings: string[] = []
  const b = await openCursorStore(dir, { logger: (m) => warnings.push(m) })
  assert.deepEqual(b.getAcks('k'), { floor: 3, ranges: [] })
  assert.equal(warnings.length, 1)
  await b.close()
})

test('ack memory is proportional to gaps: a million in-order acks leave no ranges', async (t) => {
  const store = await openCursorStore(tempDir(t), { durability: 'never' })
  const batch: number[] = []
  const n = LONG ? 1_000_000 : 200_000
  for (let base = 0; base < n; base += 1000) {
    batch.length = 0
    for (let i = 999; i >= 0; i--) if ((base + i) % 100_000 !== 50) batch.push(base + i)
    await store.ack('k', batch)
  }
  const acks = store.getAcks('k')!
  assert.equal(acks.floor, 50)
  assert.equal(acks.ranges.length, n / 100_000)
  await store.close()
})
