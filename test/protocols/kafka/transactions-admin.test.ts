// DescribeTransactions, ListTransactions and DescribeProducers (no installed client sends them: kafkajs 2.2.4
// and librdkafka 2.0.2 predate KIP-664), over Wharf's own codec on a raw socket, while a kafkajs transactional
// producer holds a transaction open.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import type {
  DescribeProducersResponse,
  DescribeTransactionsResponse,
  ListTransactionsResponse,
} from '../../../src/protocols/kafka/codec/index.ts'
import { ApiKey } from '../../../src/protocols/kafka/codec/index.ts'
import { silentKafkaLogs, startHarness } from './harness.ts'
import { RawClient } from './raw-client.ts'

test('DescribeTransactions, ListTransactions and DescribeProducers show an open transaction', async (t) => {
  const h = await startHarness(t)
  await h.broker.createStream('adm', { partitions: 2 })
  const kafka = new Kafka({
    clientId: 'txn-admin',
    brokers: [h.bootstrap],
    logLevel: logLevel.NOTHING,
    logCreator: silentKafkaLogs,
  })
  const producer = kafka.producer({ transactionalId: 'adm-tx', idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  h.defer(() => producer.disconnect())
  const done = await producer.transaction()
  await done.send({ topic: 'adm', messages: [{ value: 'one', partition: 0 }] })
  await done.commit()
  const open = await producer.transaction()
  await open.send({ topic: 'adm', messages: [{ value: 'two', partition: 1 }] })

  const raw = new RawClient(h.port)
  t.after(() => raw.socket.destroy())
  raw.send(ApiKey.DescribeTransactions, 0, 1, { transactionalIds: ['adm-tx', 'nobody'] })
  const described = (await raw.response<DescribeTransactionsResponse>(ApiKey.DescribeTransactions, 0)).body
  const [state, unknown] = described.transactionStates
  assert.equal(state?.errorCode, 0)
  assert.equal(state?.transactionState, 'Ongoing')
  assert.deepEqual(state?.topics, [{ topic: 'adm', partitions: [1] }])
  assert.ok((state?.transactionStartTimeMs ?? -1) > 0)
  assert.equal(unknown?.errorCode, 105, 'TRANSACTIONAL_ID_NOT_FOUND')

  raw.send(ApiKey.ListTransactions, 1, 2, {
    stateFilters: ['Ongoing', 'Bogus'],
    producerIdFilters: [],
    durationFilter: -1,
  })
  const listed = (await raw.response<ListTransactionsResponse>(ApiKey.ListTransactions, 1)).body
  assert.deepEqual(
    listed.transactionStates.map((s) => [s.transactionalId, s.transactionState]),
    [['adm-tx', 'Ongoing']],
  )
  assert.deepEqual(listed.unknownStateFilters, ['Bogus'])

  raw.send(ApiKey.DescribeProducers, 0, 3, { topics: [{ name: 'adm', partitionIndexes: [0, 1, 7] }] })
  const producers = (await raw.response<DescribeProducersResponse>(ApiKey.DescribeProducers, 0)).body
  const [p0, p1, p7] = producers.topics[0]!.partitions
  assert.equal(p0?.activeProducers[0]?.producerId, state?.producerId)
  assert.equal(p0?.activeProducers[0]?.currentTxnStartOffset, -1, 'partition 0 has no open transaction')
  assert.equal(p1?.activeProducers[0]?.currentTxnStartOffset, 0, 'partition 1 is held at offset 0')
  assert.equal(p7?.errorCode, 3, 'UNKNOWN_TOPIC_OR_PARTITION')
  await open.abort()
})
