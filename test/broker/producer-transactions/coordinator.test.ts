// The producer-transaction coordinator over a real broker (no wire): what it keeps durably across restarts.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import type { Broker } from '../../../src/broker/broker.ts'
import { type CreateBrokerOptions, createBroker } from '../../../src/index.ts'
import { encodeBatch } from '../../../src/record/index.ts'

async function brokerIn(t: TestContext, options: Partial<CreateBrokerOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-ptxn-coord-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const open = () => createBroker({ dataDir: dir, durability: 'never', ...options })
  return { dir, open }
}

/** One transaction of one record in partition 0 of `s`, committed or aborted. */
async function oneTransaction(
  broker: Broker,
  id: string,
  producerId: number,
  epoch: number,
  seq: number,
  commit: boolean,
) {
  const txns = broker.producerTransactions
  assert.ok((await txns.addPartitions(id, producerId, epoch, [['s', 0]])).ok)
  const batch = encodeBatch([{ value: Buffer.from(`${id}-${seq}`) }], {
    isTransactional: true,
    producerId,
    producerEpoch: epoch,
    baseSequence: seq,
  })
  await broker.appendRawBatch('s', 0, batch)
  assert.ok((await txns.end(id, producerId, epoch, commit)).ok)
}

test('transactions of one partition that end alike need no record write; a different end is stored', async (t) => {
  const { open } = await brokerIn(t)
  let broker = await open()
  await broker.createStream('s', { partitions: 1 })
  const a = await broker.producerTransactions.init('a', 60_000)
  assert.ok(a.ok)
  for (let i = 0; i < 3; i++) await oneTransaction(broker, 'a', a.producerId, 0, i, true)
  await oneTransaction(broker, 'a', a.producerId, 0, 3, false)
  await broker.close()
  broker = await open()
  t.after(() => broker.close())
  assert.equal(broker.producerTransactions.get('a')?.state, 'CompleteAbort', 'the last end is what a restart finds')
  const view = await broker.producerTransactions.stableView(broker.stream('s'), 0, 0, 100)
  assert.equal(view.aborted.length, 1, 'only the last transaction was aborted')
})

test('an id idle for transactional.id.expiration.ms is forgotten durably; an open or recent one is kept', async (t) => {
  const expiring = { producerTransactions: { transactionalIdExpirationMs: 600, checkEveryMs: 50 } }
  const { open } = await brokerIn(t, expiring)
  let broker = await open()
  await broker.createStream('s', { partitions: 1 })
  const txns = () => broker.producerTransactions
  const idle = await txns().init('idle', 60_000)
  const open1 = await txns().init('open', 60_000)
  const busy = await txns().init('busy', 60_000)
  assert.ok(idle.ok && open1.ok && busy.ok)
  await oneTransaction(broker, 'idle', idle.producerId, 0, 0, true)
  // 'open' holds a transaction past the expiry (its timeout is longer); 'busy' keeps committing.
  assert.ok((await txns().addPartitions('open', open1.producerId, 0, [['s', 0]])).ok)
  for (let i = 1; i <= 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    await oneTransaction(broker, 'busy', busy.producerId, 0, i, true)
  }
  assert.equal(txns().get('idle'), undefined, 'idle id forgotten')
  assert.equal(txns().get('open')?.state, 'Ongoing', 'an id with an open transaction is kept')
  assert.equal(txns().get('busy')?.state, 'CompleteCommit', 'an id in use is kept')
  // Forgotten for good: its old producer is unknown, and a new InitProducerId starts afresh.
  const zombie = await txns().addPartitions('idle', idle.producerId, 0, [['s', 0]])
  assert.deepEqual(zombie, { ok: false, refusal: 'INVALID_PRODUCER_ID_MAPPING' })
  await broker.close()
  broker = await open()
  t.after(() => broker.close())
  assert.equal(txns().get('idle'), undefined, 'still forgotten after a restart')
  const again = await txns().init('idle', 60_000)
  assert.ok(again.ok)
  assert.notEqual(again.producerId, idle.producerId, 'a new producer id')
  assert.equal(again.producerEpoch, 0)
})
