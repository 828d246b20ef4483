// The per-partition transaction index: last stable offset, aborted transactions by range, snapshots, and the
// replay of stored batches (transactional data and markers) that rebuilds it after a restart.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { replay } from '../../../src/broker/producer-transactions/indexes.ts'
import { encodeMarker, markerIsCommit } from '../../../src/broker/producer-transactions/markers.ts'
import { PartitionTransactionIndex } from '../../../src/broker/producer-transactions/partition-index.ts'
import { encodeBatch, setBaseOffset } from '../../../src/record/index.ts'

test('the LSO is the first offset of the earliest open transaction, else the high watermark', () => {
  const index = new PartitionTransactionIndex()
  assert.equal(index.lastStableOffset(10), 10)
  index.transactionalBatch(7, 3, 4)
  index.transactionalBatch(8, 5, 5)
  index.transactionalBatch(7, 6, 6) // the same transaction goes on: its first offset stays 3
  assert.equal(index.lastStableOffset(10), 3)
  index.marker(7, true, 7)
  assert.equal(index.lastStableOffset(10), 5)
  index.marker(8, false, 8)
  assert.equal(index.lastStableOffset(10), 10)
  assert.deepEqual(index.abortedIn(0, 10), [{ producerId: 8, firstOffset: 5, lastOffset: 8 }])
  assert.deepEqual(index.abortedIn(9, 10), [], 'a range after the abort marker has nothing to skip')
  assert.deepEqual(index.abortedIn(0, 5), [], 'a range before the transaction has nothing to skip')
})

test('a marker with no open transaction (written again after a crash) changes nothing', () => {
  const index = new PartitionTransactionIndex()
  index.marker(1, false, 0)
  assert.deepEqual(index.abortedIn(0, 100), [])
  assert.equal(index.endOffset, 1)
})

test('aborted transactions are bounded and truncated with the log start', () => {
  const index = new PartitionTransactionIndex(0, 3)
  for (let i = 0; i < 5; i++) {
    index.transactionalBatch(i, i * 2, i * 2)
    index.marker(i, false, i * 2 + 1)
  }
  assert.deepEqual(
    index.abortedIn(0, 100).map((a) => a.producerId),
    [2, 3, 4],
  )
  index.truncateBefore(8)
  assert.deepEqual(
    index.abortedIn(0, 100).map((a) => a.producerId),
    [4],
  )
})

test('a snapshot restores the same index; a malformed one is STORE_CORRUPT', () => {
  const index = new PartitionTransactionIndex()
  index.transactionalBatch(1, 0, 1)
  index.transactionalBatch(2, 2, 2)
  index.marker(2, false, 3)
  const copy = PartitionTransactionIndex.restore(JSON.parse(JSON.stringify(index.snapshot())))
  assert.equal(copy.lastStableOffset(10), 0)
  assert.deepEqual(copy.abortedIn(0, 10), index.abortedIn(0, 10))
  assert.throws(() => PartitionTransactionIndex.restore({ version: 1, endOffset: 'x' }), /malformed/)
})

test('replaying stored batches rebuilds open and aborted transactions from the markers', () => {
  const at = (batch: Buffer, offset: number) => {
    setBaseOffset(batch, offset)
    return batch
  }
  const txn = (producerId: number, count: number) =>
    encodeBatch(
      Array.from({ length: count }, () => ({ value: Buffer.from('v') })),
      { isTransactional: true, producerId, producerEpoch: 0, baseSequence: 0 },
    )
  const commit = encodeMarker(5, 0, true, 0, Date.now())
  const abort = encodeMarker(6, 0, false, 0, Date.now())
  assert.equal(markerIsCommit(commit), true)
  assert.equal(markerIsCommit(abort), false)
  const index = new PartitionTransactionIndex()
  replay(index, at(txn(5, 2), 0))
  replay(index, at(txn(6, 1), 2))
  replay(index, at(encodeBatch([{ value: Buffer.from('plain') }]), 3))
  replay(index, at(commit, 4))
  replay(index, at(abort, 5))
  replay(index, at(txn(7, 1), 6))
  assert.equal(index.lastStableOffset(7), 6, 'producer 7 is still open')
  assert.deepEqual(index.abortedIn(0, 7), [{ producerId: 6, firstOffset: 2, lastOffset: 5 }])
  assert.equal(index.endOffset, 7)
})
