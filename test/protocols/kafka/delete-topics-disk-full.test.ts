// Kafka DeleteTopics on a full disk (a real, small tmpfs), through kafkajs: with the storage's reserve the
// delete succeeds whole (topic, files, bindings, catalog record — gone after a restart too); with no room
// even for its tombstones it is refused whole (KAFKA_STORAGE_ERROR) and the topic, its data and bindings are
// all still there, now and after a restart. Needs root (mount); skipped elsewhere.
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import type { Broker } from '../../../src/index.ts'
import { startKafkaListener } from '../../../src/protocols/kafka/index.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { fillDisk } from '../../fixtures/fill-disk.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'
import { mountTmpfs, removeTmpfs } from '../../fixtures/tmpfs.ts'
import { silentKafkaLogs } from './harness.ts'

/** Runs `work` with a broker on `dir` and a kafkajs admin connected to it; both closed after. */
async function withKafka(dir: string, work: (broker: Broker, admin: ReturnType<Kafka['admin']>) => Promise<void>) {
  const broker = await createTestBroker({ dataDir: dir, durability: 'always' })
  const listener = await startKafkaListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  const kafka = new Kafka({
    clientId: 'delete-full',
    brokers: [`127.0.0.1:${listener.port}`],
    logLevel: logLevel.NOTHING,
    logCreator: silentKafkaLogs,
    retry: { retries: 0 },
  })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await work(broker, admin)
  } finally {
    await admin.disconnect()
    await listener.close()
    await broker.close().catch(() => {})
  }
}

/** A topic of 3 partitions with an exchange binding to it (its delete writes the binding's tombstone too). */
async function topicWithBinding(broker: Broker, admin: ReturnType<Kafka['admin']>, name: string): Promise<void> {
  await admin.createTopics({ topics: [{ topic: name, numPartitions: 3 }] })
  await broker.bind({ source: 'amq.topic', destination: { kind: 'stream', name }, key: `${name}.#`, arguments: {} })
}

const logDirs = (dir: string) => readdirSync(join(dir, 'logs'))
const bindingsTo = (broker: Broker, name: string) =>
  broker.router.listBindings().filter((b) => b.destination.kind === 'stream' && b.destination.name === name)

test('DeleteTopics on a full disk succeeds whole, with the reserve giving the tombstones room', async (t) => {
  const dir = mountTmpfs(t, 'wharf-kafka-delete-full-', '16m')
  if (dir === undefined) return
  try {
    let logsBefore: string[] = []
    await withKafka(dir, async (broker, admin) => {
      await topicWithBinding(broker, admin, 'dropped')
      await admin.createTopics({ topics: [{ topic: 'kept', numPartitions: 1 }] })
      await fillDisk(broker, { streams: ['dropped', 'kept'] })
      logsBefore = logDirs(dir)
      await admin.deleteTopics({ topics: ['dropped'], timeout: 5000 })
      assert.ok(!(await admin.listTopics()).includes('dropped'))
      assert.deepEqual(bindingsTo(broker, 'dropped'), [])
      assert.equal(logDirs(dir).length, logsBefore.length - 3, "the topic's partition logs are removed")
    })
    await withKafka(dir, async (broker, admin) => {
      assert.ok(!(await admin.listTopics()).includes('dropped'), 'still gone after a restart')
      assert.ok((await admin.listTopics()).includes('kept'))
      assert.deepEqual(bindingsTo(broker, 'dropped'), [])
      assert.equal(logDirs(dir).length, logsBefore.length - 3)
    })
  } finally {
    removeTmpfs(dir)
  }
})

test('DeleteTopics with no room even for the tombstones is refused whole: topic, data and binding remain', async (t) => {
  // 1 MiB: too small for the reserve, so nothing gives the delete room.
  const dir = mountTmpfs(t, 'wharf-kafka-delete-full-', '1m')
  if (dir === undefined) return
  try {
    let high = ''
    await withKafka(dir, async (broker, admin) => {
      await topicWithBinding(broker, admin, 'dropped')
      await fillDisk(broker, { streams: ['dropped'] })
      high = JSON.stringify(await admin.fetchTopicOffsets('dropped'))
      await assert.rejects(admin.deleteTopics({ topics: ['dropped'], timeout: 5000 }), (error: Error) => {
        assert.match(JSON.stringify(error), /KAFKA_STORAGE_ERROR|storage/i, String(error))
        return true
      })
      assert.ok((await admin.listTopics()).includes('dropped'), 'the topic is still there')
      assert.equal(JSON.stringify(await admin.fetchTopicOffsets('dropped')), high, 'with all its data')
      assert.equal(bindingsTo(broker, 'dropped').length, 1, 'and its binding')
    })
    await withKafka(dir, async (broker, admin) => {
      assert.ok((await admin.listTopics()).includes('dropped'), 'still there after a restart')
      assert.equal(JSON.stringify(await admin.fetchTopicOffsets('dropped')), high)
      assert.equal(bindingsTo(broker, 'dropped').length, 1)
      assert.ok(existsSync(join(dir, 'logs')))
    })
  } finally {
    removeTmpfs(dir)
  }
})
