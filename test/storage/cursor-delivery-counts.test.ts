// CursorStore delivery counts (queues with a delivery limit): kept beside the acks of the same key, forgotten
// when acked / passed by the floor / set to 0 / deleted, recovered from the kvlog (log replay and snapshot).
// The memory store keeps the same contract.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { CursorStore } from '../../src/storage/api.ts'
import { openCursorStore } from '../../src/storage/local/cursors/cursor-store.ts'
import { MemoryCursorStore } from '../../src/storage/local/memory/cursors.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { closeWithSnapshot, tempDir } from './helpers.ts'

const counts = (store: CursorStore, key: string) =>
  [...(store.getDeliveryCounts(key) ?? new Map())].sort((a, b) => a[0] - b[0])

/** The contract, on any store; returns what the store should hold for key 'q' afterwards. */
async function exercise(store: CursorStore): Promise<void> {
  assert.equal(store.getDeliveryCounts('q'), undefined)
  await store.setDeliveryCounts('q', [7, 1, 3, 2, 9, 1, 7, 2]) // unsorted; the last count of 7 wins
  assert.deepEqual(counts(store, 'q'), [
    [3, 2],
    [7, 2],
    [9, 1],
  ])
  await store.ack('q', [7])
  assert.deepEqual(
    counts(store, 'q'),
    [
      [3, 2],
      [9, 1],
    ],
    'acking an offset forgets its count',
  )
  await store.setDeliveryCounts('q', [7, 3])
  assert.equal(store.getDeliveryCounts('q')!.has(7), false, 'a count of an acked offset is not kept')
  await store.setDeliveryCounts('q', [9, 0, 12, 4, 20, 1])
  assert.deepEqual(
    counts(store, 'q'),
    [
      [3, 2],
      [12, 4],
      [20, 1],
    ],
    '0 forgets',
  )
  await store.advanceFloor('q', 13)
  assert.deepEqual(counts(store, 'q'), [[20, 1]], 'the floor passing an offset forgets its count')
  await store.setDeliveryCounts('other', [5, 1])
  await store.ack('other', [0, 1, 2, 3, 4, 5, 6]) // a run longer than the counts: walks the map
  assert.equal(store.getDeliveryCounts('other'), undefined)
  await store.setDeliveryCounts('gone', [1, 1])
  await store.delete('gone')
  assert.equal(store.getDeliveryCounts('gone'), undefined)
  assert.equal(store.keys().includes('gone'), false)
  await store.setDeliveryCounts('only-counts', [4, 2])
  await store.setDeliveryCounts('only-counts', [4, 0])
  assert.equal(store.keys().includes('only-counts'), false, 'a key with nothing left is gone')
  await assert.rejects(store.setDeliveryCounts('q', [1]), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
  await assert.rejects(store.setDeliveryCounts('q', [-1, 1]), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
  await assert.rejects(store.setDeliveryCounts('q', [1, 1.5]), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
  await assert.rejects(store.setDeliveryCounts('q', [1, -2]), (e) => isWharfError(e, 'INVALID_ARGUMENT'))
  assert.deepEqual(counts(store, 'q'), [[20, 1]], 'refused input changes nothing')
}

test('delivery counts: set, ack/floor/0/delete forget them, bad input is INVALID_ARGUMENT; replayed on reopen', async (t) => {
  const dir = tempDir(t)
  const a = await openCursorStore(dir)
  await exercise(a)
  await a.close()
  await assert.rejects(a.setDeliveryCounts('q', [1, 1]), (e) => isWharfError(e, 'LOG_CLOSED'))
  const b = await openCursorStore(dir)
  assert.deepEqual(counts(b, 'q'), [[20, 1]])
  assert.deepEqual(b.getAcks('q'), { floor: 13, ranges: [] })
  assert.equal(b.getDeliveryCounts('other'), undefined)
  assert.equal(b.getDeliveryCounts('gone'), undefined)
  assert.deepEqual(b.keys(), ['other', 'q'])
  await b.close()
})

test('memory cursor store: the same delivery-count contract', async () => {
  const store = new MemoryCursorStore()
  await exercise(store)
  await store.close()
  await assert.rejects(store.setDeliveryCounts('q', [1, 1]), (e) => isWharfError(e, 'LOG_CLOSED'))
})

test('delivery counts survive snapshots: only counts of unacked offsets are kept', async (t) => {
  const dir = tempDir(t)
  const a = await openCursorStore(dir, { compactMinBytes: 4096 })
  const writes: Promise<void>[] = []
  // Every offset is delivered (counts 1..3); all but every 10th one is acked afterwards.
  for (let base = 0; base < 3000; base += 50) {
    const pairs: number[] = []
    for (let o = base; o < base + 50; o++) pairs.push(o, 1 + (o % 3))
    writes.push(a.setDeliveryCounts('q', pairs))
    const acked: number[] = []
    for (let o = base; o < base + 50; o++) if (o % 10 !== 0) acked.push(o)
    writes.push(a.ack('q', acked))
  }
  await Promise.all(writes)
  await closeWithSnapshot(a, dir)
  const b = await openCursorStore(dir)
  const expected: Array<[number, number]> = []
  for (let o = 0; o < 3000; o += 10) expected.push([o, 1 + (o % 3)])
  assert.deepEqual(counts(b, 'q'), expected)
  await b.close()
})
