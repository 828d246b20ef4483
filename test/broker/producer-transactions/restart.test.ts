// Producer transactions across a broker restart: a decided transaction stays decided, an open one is aborted
// (its partitions' last stable offset moves past it, it is listed as aborted) and its producer fenced.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createBroker } from '../../../src/index.ts'
import { encodeBatch } from '../../../src/record/index.ts'

test('after a restart an open transaction is aborted and fenced, a committed one stays committed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-ptxn-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  let broker = await createBroker({ dataDir: dir, durability: 'never' })
  await broker.createStream('s', { partitions: 2 })
  const txns = () => broker.producerTransactions
  const batch = (producerId: number, producerEpoch: number, baseSequence: number, value: string) =>
    encodeBatch([{ value: Buffer.from(value) }], { isTransactional: true, producerId, producerEpoch, baseSequence })

  const a = await txns().init('a', 60_000)
  const b = await txns().init('b', 60_000)
  assert.ok(a.ok && b.ok)
  assert.ok((await txns().addPartitions('a', a.producerId, 0, [['s', 0]])).ok)
  await broker.appendRawBatch('s', 0, batch(a.producerId, 0, 0, 'a-committed'))
  assert.ok((await txns().end('a', a.producerId, 0, true)).ok)
  assert.ok(
    (
      await txns().addPartitions('b', b.producerId, 0, [
        ['s', 0],
        ['s', 1],
      ])
    ).ok,
  )
  await broker.appendRawBatch('s', 0, batch(b.producerId, 0, 0, 'b-open'))
  await broker.appendRawBatch('s', 1, batch(b.producerId, 0, 1, 'b-open'))
  const s = broker.stream('s')
  assert.equal((await txns().stableView(s, 0, 0, 100)).lastStableOffset, 2, 'b holds partition 0 at its first offset')
  await broker.close()

  broker = await createBroker({ dataDir: dir, durability: 'never' })
  t.after(() => broker.close())
  const after = broker.stream('s')
  for (const p of [0, 1]) {
    const view = await txns().stableView(after, p, 0, 100)
    assert.equal(view.lastStableOffset, after.partitions[p]!.highWatermark, `partition ${p} is stable to its end`)
    assert.deepEqual(
      view.aborted.map((x) => x.producerId),
      [b.producerId],
      `b is aborted in partition ${p}`,
    )
  }
  assert.equal(txns().get('a')?.state, 'CompleteCommit')
  assert.equal(txns().get('b')?.state, 'CompleteAbort')
  assert.equal(txns().get('b')?.producerEpoch, 1, 'the abandoned instance is fenced')
  const zombie = await txns().addPartitions('b', b.producerId, 0, [['s', 0]])
  assert.deepEqual(zombie, { ok: false, refusal: 'PRODUCER_FENCED' })
  // The committed record and both markers of a are readable by a non-Kafka reader; control batches are skipped.
  const { messages } = await broker.readMessages('s', 0, 0)
  assert.ok(messages.some((m) => m.value?.toString() === 'a-committed'))
})
