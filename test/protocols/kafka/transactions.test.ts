// Kafka transactions (KIP-98) with kafkajs 2.2.4, unmodified: commit, abort, sendOffsets, read_committed vs
// read_uncommitted consumers, zombie fencing and the transaction timeout.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { type Harness, silentKafkaLogs, startHarness } from './harness.ts'

function client(bootstrap: string) {
  return new Kafka({
    clientId: 'wharf-txn-test',
    brokers: [bootstrap],
    ...(process.env.WHARF_TEST_LOG
      ? { logLevel: logLevel.DEBUG }
      : { logLevel: logLevel.NOTHING, logCreator: silentKafkaLogs }),
    retry: { retries: 3, initialRetryTime: 100 },
  })
}

async function transactionalProducer(h: Harness, kafka: Kafka, transactionalId: string, timeoutMs = 30_000) {
  const producer = kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: timeoutMs,
  })
  await producer.connect()
  h.defer(() => producer.disconnect())
  return producer
}

/** Every value a fresh consumer group reads from the start of topic, once `expected` arrived and 1 s passed. */
async function readAll(
  h: Harness,
  kafka: Kafka,
  topic: string,
  expected: number,
  readUncommitted: boolean,
): Promise<string[]> {
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${readUncommitted}-${Math.random()}`,
    readUncommitted,
    maxWaitTimeInMs: 200,
  })
  await consumer.connect()
  h.defer(() => consumer.disconnect())
  await consumer.subscribe({ topic, fromBeginning: true })
  const values: string[] = []
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${values.length} of ${expected}: ${values}`)), 30_000)
    consumer
      .run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString())
          if (values.length === expected) {
            clearTimeout(timer)
            resolve()
          }
        },
      })
      .catch(reject)
  })
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await consumer.disconnect()
  return values.sort()
}

test('kafkajs: a committed transaction is read once, an aborted one only by read_uncommitted', async (t) => {
  const h = await startHarness(t)
  const kafka = client(h.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  await admin.createTopics({ topics: [{ topic: 'tx', numPartitions: 2 }] })
  const producer = await transactionalProducer(h, kafka, 'tx-1')

  const committed = await producer.transaction()
  await committed.send({ topic: 'tx', messages: [0, 1, 2, 3].map((i) => ({ key: `k${i}`, value: `c${i}` })) })
  await committed.commit()
  const aborted = await producer.transaction()
  await aborted.send({ topic: 'tx', messages: [0, 1, 2].map((i) => ({ key: `k${i}`, value: `a${i}` })) })
  await aborted.abort()
  const again = await producer.transaction()
  await again.send({ topic: 'tx', messages: [{ key: 'k9', value: 'c9' }] })
  await again.commit()

  assert.deepEqual(await readAll(h, kafka, 'tx', 5, false), ['c0', 'c1', 'c2', 'c3', 'c9'])
  assert.deepEqual(await readAll(h, kafka, 'tx', 8, true), ['a0', 'a1', 'a2', 'c0', 'c1', 'c2', 'c3', 'c9'])

  // The control batches take offsets: the log end is past the 8 records.
  const offsets = await admin.fetchTopicOffsets('tx')
  const end = offsets.reduce((sum, p) => sum + Number(p.high), 0)
  assert.ok(end > 8, `log end ${end} counts the markers`)
  const described = h.broker.producerTransactions.get('tx-1')
  assert.equal(described?.state, 'CompleteCommit')
})

test('kafkajs: an open transaction holds read_committed readers at its first offset', async (t) => {
  const h = await startHarness(t)
  const kafka = client(h.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  await admin.createTopics({ topics: [{ topic: 'open', numPartitions: 1 }] })
  const plain = kafka.producer()
  await plain.connect()
  h.defer(() => plain.disconnect())
  await plain.send({ topic: 'open', messages: [{ value: 'before' }] })
  const producer = await transactionalProducer(h, kafka, 'open-1')
  const txn = await producer.transaction()
  await txn.send({ topic: 'open', messages: [{ value: 'pending' }] })
  await plain.send({ topic: 'open', messages: [{ value: 'after' }] })

  // read_committed sees only what precedes the open transaction; read_uncommitted sees all three.
  assert.deepEqual(await readAll(h, kafka, 'open', 1, false), ['before'])
  assert.deepEqual(await readAll(h, kafka, 'open', 3, true), ['after', 'before', 'pending'])
  const stream = h.broker.stream('open')
  const view = await h.broker.producerTransactions.stableView(stream, 0, 0, 10)
  assert.equal(view.lastStableOffset, 1)

  await txn.commit()
  assert.deepEqual(await readAll(h, kafka, 'open', 3, false), ['after', 'before', 'pending'])
})

test('kafkajs: sendOffsets commits the group offset with the transaction, and not on abort', async (t) => {
  const h = await startHarness(t)
  const kafka = client(h.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  await admin.createTopics({
    topics: [
      { topic: 'in', numPartitions: 1 },
      { topic: 'out', numPartitions: 1 },
    ],
  })
  const producer = await transactionalProducer(h, kafka, 'eos-1')

  const aborted = await producer.transaction()
  await aborted.send({ topic: 'out', messages: [{ value: 'x' }] })
  await aborted.sendOffsets({
    consumerGroupId: 'eos-group',
    topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '5' }] }],
  })
  await aborted.abort()
  assert.equal(h.broker.committedOffset('eos-group', 'in', 0), undefined)

  const committed = await producer.transaction()
  await committed.send({ topic: 'out', messages: [{ value: 'y' }] })
  await committed.sendOffsets({
    consumerGroupId: 'eos-group',
    topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '7' }] }],
  })
  await committed.commit()
  assert.equal(h.broker.committedOffset('eos-group', 'in', 0)?.offset, 7)
  const fetched = await admin.fetchOffsets({ groupId: 'eos-group', topics: ['in'] })
  assert.equal(fetched[0]?.partitions[0]?.offset, '7')
})

test('kafkajs: a second producer with the same transactional id fences the first, whose transaction is aborted', async (t) => {
  const h = await startHarness(t)
  const kafka = client(h.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  await admin.createTopics({ topics: [{ topic: 'zombie', numPartitions: 1 }] })
  const old = await transactionalProducer(h, kafka, 'same-id')
  const oldTxn = await old.transaction()
  await oldTxn.send({ topic: 'zombie', messages: [{ value: 'from-zombie' }] })

  const fresh = await transactionalProducer(h, kafka, 'same-id')
  const freshTxn = await fresh.transaction()
  await freshTxn.send({ topic: 'zombie', messages: [{ value: 'from-new' }] })
  await freshTxn.commit()

  await assert.rejects(
    async () => {
      await oldTxn.send({ topic: 'zombie', messages: [{ value: 'late' }] })
      await oldTxn.commit()
    },
    (error: Error & { type?: string }) => {
      assert.match(`${error.type} ${error.message}`, /INVALID_PRODUCER_EPOCH|fenced|epoch/i)
      return true
    },
  )
  assert.deepEqual(await readAll(h, kafka, 'zombie', 1, false), ['from-new'])
})

test('kafkajs: a transaction left open past its timeout is aborted and its producer fenced', async (t) => {
  const h = await startHarness(t)
  const kafka = client(h.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  await admin.createTopics({ topics: [{ topic: 'slow', numPartitions: 1 }] })
  const producer = await transactionalProducer(h, kafka, 'slow-1', 1500)
  const txn = await producer.transaction()
  await txn.send({ topic: 'slow', messages: [{ value: 'too-late' }] })
  const deadline = Date.now() + 20_000
  while (h.broker.producerTransactions.get('slow-1')?.state === 'Ongoing' && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(h.broker.producerTransactions.get('slow-1')?.state, 'CompleteAbort')
  await assert.rejects(() => txn.commit())
  // read_committed readers are not held by it any more, and never see its record.
  const plain = kafka.producer()
  await plain.connect()
  h.defer(() => plain.disconnect())
  await plain.send({ topic: 'slow', messages: [{ value: 'later' }] })
  assert.deepEqual(await readAll(h, kafka, 'slow', 1, false), ['later'])
})
