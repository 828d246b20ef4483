// Queue consumers get a published record before it is durable (only the producer's confirm waits for the
// fsync, as in RabbitMQ). Two rules keep that safe, proven here on a real, tiny tmpfs that fills up:
// - a consumer's ack of a record that is not durable yet is held, never stored ahead of the record (else a
//   crash, or a failed append, would let the ack cover whatever record reuses that offset);
// - when the append fails, the records offered early are retracted, and the offsets the log hands out
//   again are delivered as the new records they are.
// "Published" = sendToQueue resolved (durable); "acked" = the queue accepted the consumer's ack.
// Needs root (mount); skipped elsewhere.
import assert from 'node:assert/strict'
import { rmSync, statfsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Delivery } from '../../src/broker/queue/types.ts'
import { type Broker, isWharfError } from '../../src/index.ts'
import { mountTmpfs, removeTmpfs } from '../fixtures/tmpfs.ts'
import { createInspectableBroker, storageOf, until } from './helpers.ts'

test('early delivery: acks held until durable, records of a failed append retracted', async (t) => {
  const dir = mountTmpfs(t, 'wharf-early-', '4m')
  if (dir === undefined) return
  const broker = await createInspectableBroker({ dataDir: join(dir, 'data') })
  try {
    await fillAndCheck(broker, dir)
  } finally {
    await broker.close().catch(() => {})
    removeTmpfs(dir)
  }
})

async function fillAndCheck(broker: Broker, dir: string): Promise<void> {
  const queue = await broker.createQueue('q')
  const p = queue.partitions[0]!
  // Leave ~1 MiB free; the filler is deleted later to make room again.
  const { bavail, bsize } = statfsSync(dir)
  writeFileSync(join(dir, 'filler'), Buffer.alloc(Math.max(0, bavail * bsize - 1024 * 1024)))

  const delivered = new Map<string, number>()
  const ackedBeyondDurable: number[] = []
  broker.consume('q', {
    owner: 'c',
    prefetch: 0,
    onDeliver(deliveries: Delivery[]) {
      for (const d of deliveries) {
        const value = d.message.value!.subarray(0, 16).toString().trim()
        delivered.set(value, (delivered.get(value) ?? 0) + 1)
        if (d.offset >= p.log.highWatermark) ackedBeyondDurable.push(d.offset)
        void queue.ack(d.partition, d.offset, d.leaseId).catch(() => {})
      }
    },
  })
  const payload = (tag: string) => Buffer.concat([Buffer.from(tag.padEnd(16)), Buffer.alloc(4000, 1)])

  const published: string[] = []
  let failure: unknown = null
  for (let round = 0; round < 1000 && failure === null; round++) {
    const tags = Array.from({ length: 8 }, (_, i) => `m${round}-${i}`)
    const results = await Promise.allSettled(tags.map((tag) => broker.sendToQueue('q', [{ value: payload(tag) }])))
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') published.push(tags[i]!)
      else failure = r.reason
    })
  }
  assert.ok(isWharfError(failure, 'DISK_FULL'), `expected DISK_FULL, got ${String(failure)}`)
  assert.ok(published.length > 20)
  assert.ok(ackedBeyondDurable.length > 0, 'some records were delivered (and acked) before they were durable')

  // No stored ack reaches past what the log holds durably.
  const ackedPastEnd = () => {
    const acks = storageOf(broker).cursors.getAcks(p.ackKey)
    const end = p.log.highWatermark
    return acks === undefined ? false : acks.floor > end || acks.ranges.some(([, to]) => to > end)
  }
  await until(() => published.every((tag) => delivered.has(tag)))
  assert.equal(ackedPastEnd(), false)

  // Room again: the log hands out the failed append's offsets anew, and those records are delivered.
  rmSync(join(dir, 'filler'))
  const after = ['after-0', 'after-1', 'after-2', 'after-3']
  for (const tag of after) await broker.sendToQueue('q', [{ value: payload(tag) }])
  await until(() => after.every((tag) => delivered.has(tag)))
  await until(() => queue.depth() === 0)
  assert.equal(ackedPastEnd(), false)
  for (const tag of published) assert.equal(delivered.get(tag), 1, `${tag} delivered once`)
}
