// A queue reads ahead of its consumers at most READY_MAX messages and READY_BYTES_MAX body bytes per
// partition: large messages published to a queue nobody drains (or whose consumer does not read) stay in the
// log, not in memory. Through amqplib: 48 MiB of 256 KiB messages, then the memory in use after a full GC,
// then every message consumed in order (prefetch 0, the amqplib default).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { READY_BYTES_MAX } from '../../../src/broker/queue/state.ts'
import { fullGc, memoryInUse } from '../../../src/util/memory.ts'
import { connect, startWharf } from './helpers.ts'

const BODY = 256 * 1024
const COUNT = 192

function settledMemory(): number {
  const gc = fullGc()
  assert.ok(gc, 'a full GC is available')
  gc()
  gc()
  return memoryInUse()
}

test('a queue without consumers holds its read-ahead within READY_BYTES_MAX, and delivers everything later', {
  timeout: 120_000,
}, async (t) => {
  const { url } = await startWharf(t)
  const conn = await connect(t, url)
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue('big-bodies')
  const before = settledMemory()
  for (let i = 0; i < COUNT; i++) {
    const body = Buffer.alloc(BODY, i & 0xff)
    body.writeUInt32BE(i, 0)
    ch.sendToQueue('big-bodies', body)
    if (i % 16 === 15) await ch.waitForConfirms()
  }
  await ch.waitForConfirms()
  const held = settledMemory() - before
  assert.ok(
    held < READY_BYTES_MAX + 16 * 1024 * 1024,
    `${(held / 1048576).toFixed(1)} MiB held for ${(COUNT * BODY) / 1048576} MiB published`,
  )

  const got: number[] = []
  const done = new Promise<void>((resolve) => {
    void ch.consume('big-bodies', (msg) => {
      if (msg === null) return
      got.push(msg.content.readUInt32BE(0))
      ch.ack(msg)
      if (got.length === COUNT) resolve()
    })
  })
  await done
  assert.deepEqual(
    got,
    Array.from({ length: COUNT }, (_, i) => i),
  )
})
