// Log compaction on PostgreSQL with a real client: a kafkajs topic with cleanup.policy=compact, written in
// rounds over the same keys, compacted, then read back from the start by a kafkajs consumer: one record per
// key, the newest value, at its original offset. And the engine's compaction timer compacts by itself.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { createBroker } from '../../../src/index.ts'
import { startKafkaListener } from '../../../src/protocols/kafka/index.ts'
import { openPostgresStorage } from '../../../src/storage/postgres/index.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { startPostgres } from '../../fixtures/postgres.ts'
import { batchOf } from '../helpers.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('a compacted kafkajs topic on PostgreSQL reads back the newest value per key', async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const url = await server.createDatabase('compaction')
  const dir = mkdtempSync(join(tmpdir(), 'wharf-pg-compaction-'))
  const broker = await createBroker({ dataDir: dir, storage: url, durability: 'never' })
  const listener = await startKafkaListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  const kafka = new Kafka({ brokers: [`127.0.0.1:${listener.port}`], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  const producer = kafka.producer()
  const consumer = kafka.consumer({ groupId: 'compaction-reader' })
  try {
    await admin.connect()
    await admin.createTopics({
      topics: [{ topic: 'latest', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    })
    await producer.connect()
    for (let round = 0; round < 6; round++) {
      await producer.send({
        topic: 'latest',
        acks: -1,
        messages: Array.from({ length: 4 }, (_, i) => ({ key: `k${i}`, value: `round${round}-k${i}` })),
      })
    }
    await producer.send({ topic: 'latest', acks: -1, messages: [{ key: 'k1', value: null }] })
    await producer.send({ topic: 'latest', acks: -1, messages: [{ key: 'tail', value: 'newest row' }] })

    const result = await broker.stream('latest').partitionLog(0).compact()
    assert.equal(result.recordsRemoved, 21, '5 superseded rounds of 4 keys, and k1 of the last round')

    await consumer.connect()
    await consumer.subscribe({ topic: 'latest', fromBeginning: true })
    const seen: string[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; seen ${seen.join(' ')}`)), 60_000)
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(`${message.offset}:${message.key}=${message.value?.toString() ?? 'null'}`)
          if (message.key?.toString() === 'tail') {
            clearTimeout(timer)
            resolve()
          }
        },
      })
    })
    assert.deepEqual(seen, [
      '20:k0=round5-k0',
      '22:k2=round5-k2',
      '23:k3=round5-k3',
      '24:k1=null',
      '25:tail=newest row',
    ])
  } finally {
    await consumer.disconnect().catch(() => {})
    await producer.disconnect().catch(() => {})
    await admin.disconnect().catch(() => {})
    await listener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test("the PostgreSQL engine's compaction timer compacts compacted logs by itself", async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const url = await server.createDatabase('compaction_timer')
  const engine = await openPostgresStorage(url, { retentionCheckMs: 0, compactionCheckMs: 100 })
  try {
    const log = await engine.openLog('c-0', { compact: true })
    const plain = await engine.openLog('p-0')
    for (let round = 0; round < 5; round++) {
      await log.append([batchOf(`r${round}`, 3, 50, Date.now(), (i) => `k${i}`)])
      await plain.append([batchOf(`r${round}`, 3, 50, Date.now(), (i) => `k${i}`)])
    }
    const full = plain.sizeBytes
    const deadline = Date.now() + 60_000
    while (log.sizeBytes >= full && Date.now() < deadline) await sleep(100)
    assert.ok(log.sizeBytes < full, `compacted: ${log.sizeBytes} bytes, uncompacted ${full}`)
    assert.equal(plain.sizeBytes, full, 'a log without cleanup.policy=compact keeps everything')
    const { records } = await log.readRecords(0, 1 << 20)
    assert.deepEqual(
      records.map((r) => r.offset),
      [9, 10, 11, 12, 13, 14],
      'rounds 0-2 superseded by round 3; round 4, the newest row, is not compacted',
    )
  } finally {
    await engine.close()
  }
})
