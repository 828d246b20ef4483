// IncrementalAlterConfigs, OffsetForLeaderEpoch and ListOffsets -3 (max timestamp). None of the installed
// clients sends the first two (kafkajs 2.2.4 has no IncrementalAlterConfigs; confluent-kafka 1.7 /
// librdkafka 2.0.2 have no incremental_alter_configs and call OffsetForLeaderEpoch only from 2.1; kafka-python
// has neither) and kafkajs asks ListOffsets at v3, so requests go over a raw socket with Wharf's codec and a
// real client checks the result (kafkajs describeConfigs, kafkajs producing with explicit timestamps, kcat
// consuming with the new APIs advertised).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import {
  ApiKey,
  type IncrementalAlterConfigsResponse,
  type ListOffsetsResponse,
  type OffsetForLeaderEpochResponse,
} from '../../../src/protocols/kafka/codec/index.ts'
import { run, silentKafkaLogs, startHarness } from './harness.ts'
import { RawClient } from './raw-client.ts'

const SET = 0
const DELETE = 1
const APPEND = 2
const SUBTRACT = 3

function kafkaClient(bootstrap: string) {
  return new Kafka({
    clientId: 'configs-offsets',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    logCreator: silentKafkaLogs,
    retry: { retries: 3, initialRetryTime: 100 },
  })
}

test('IncrementalAlterConfigs SET / DELETE / APPEND / SUBTRACT change only what they name (checked with kafkajs describeConfigs)', async (t) => {
  const h = await startHarness(t)
  const kafka = kafkaClient(h.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  await admin.createTopics({
    topics: [{ topic: 'conf', configEntries: [{ name: 'max.message.bytes', value: '50000' }] }],
  })
  const describe = async () => {
    const { resources } = await admin.describeConfigs({
      resources: [{ type: 2, name: 'conf' }],
      includeSynonyms: false,
    })
    return new Map(resources[0]!.configEntries.map((e) => [e.configName, e.configValue]))
  }
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  let correlation = 0
  const alter = async (
    configs: Array<{ name: string; configOperation: number; value: string | null }>,
    options: { validateOnly?: boolean; topic?: string; version?: number } = {},
  ) => {
    const version = options.version ?? 1
    c.send(ApiKey.IncrementalAlterConfigs, version, ++correlation, {
      resources: [{ resourceType: 2, resourceName: options.topic ?? 'conf', configs }],
      validateOnly: options.validateOnly ?? false,
    })
    const body = (await c.response<IncrementalAlterConfigsResponse>(ApiKey.IncrementalAlterConfigs, version)).body
    return body.responses[0]!
  }

  // SET one config: the others keep their values (AlterConfigs would reset max.message.bytes).
  assert.equal(
    (await alter([{ name: 'retention.ms', configOperation: SET, value: '3600000' }], { version: 0 })).errorCode,
    0,
  )
  let now = await describe()
  assert.equal(now.get('retention.ms'), '3600000')
  assert.equal(now.get('max.message.bytes'), '50000')
  // APPEND to a list: cleanup.policy gains compact.
  assert.equal((await alter([{ name: 'cleanup.policy', configOperation: APPEND, value: 'compact' }])).errorCode, 0)
  assert.equal((await describe()).get('cleanup.policy'), 'compact')
  assert.equal(h.broker.stream('conf').config.compact, true)
  // DELETE back to the default, in the same request as another SET (applied together).
  const both = await alter([
    { name: 'retention.ms', configOperation: DELETE, value: null },
    { name: 'segment.bytes', configOperation: SET, value: '1048576' },
  ])
  assert.equal(both.errorCode, 0)
  now = await describe()
  assert.equal(now.get('retention.ms'), '604800000')
  assert.equal(now.get('segment.bytes'), '1048576')
  // SUBTRACT/APPEND on a non-list config, an unknown name, a bad value: INVALID_CONFIG, nothing changed.
  const notList = await alter([{ name: 'retention.ms', configOperation: APPEND, value: '1' }])
  assert.equal(notList.errorCode, 40)
  assert.match(notList.errorMessage ?? '', /not allowed/)
  assert.equal((await alter([{ name: 'no.such.config', configOperation: SET, value: '1' }])).errorCode, 40)
  const half = await alter([
    { name: 'retention.bytes', configOperation: SET, value: '12345' },
    { name: 'max.message.bytes', configOperation: SET, value: 'lots' },
  ])
  assert.equal(half.errorCode, 40)
  assert.equal((await describe()).get('retention.bytes'), '-1', 'all or nothing')
  // Duplicate keys and an unknown operation: INVALID_REQUEST. An unknown topic: UNKNOWN_TOPIC_OR_PARTITION.
  const dup = await alter([
    { name: 'retention.ms', configOperation: SET, value: '1000' },
    { name: 'retention.ms', configOperation: DELETE, value: null },
  ])
  assert.equal(dup.errorCode, 42)
  assert.equal((await alter([{ name: 'retention.ms', configOperation: 9, value: '1' }])).errorCode, 42)
  assert.equal((await alter([], { topic: 'nope' })).errorCode, 3)
  // validateOnly checks without changing.
  assert.equal(
    (await alter([{ name: 'retention.ms', configOperation: SET, value: '1' }], { validateOnly: true })).errorCode,
    0,
  )
  assert.equal((await describe()).get('retention.ms'), '604800000')
  // SUBTRACT from the list: back to delete... which Wharf cannot leave empty (compact alone is the list).
  assert.equal((await alter([{ name: 'cleanup.policy', configOperation: SUBTRACT, value: 'compact' }])).errorCode, 40)
  assert.equal((await alter([{ name: 'cleanup.policy', configOperation: SET, value: 'delete' }])).errorCode, 0)
  assert.equal(h.broker.stream('conf').config.compact, false)
})

test('OffsetForLeaderEpoch: epoch 0 ends at the log end; other epochs have none; a newer current epoch is UNKNOWN_LEADER_EPOCH', async (t) => {
  const h = await startHarness(t)
  await run('kcat', ['-b', h.bootstrap, '-P', '-t', 'epochs'], { input: 'a\nb\nc\n' })
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  const ask = async (
    partitions: Array<{ partition: number; currentLeaderEpoch: number; leaderEpoch: number }>,
    topic = 'epochs',
  ) => {
    c.send(ApiKey.OffsetForLeaderEpoch, 4, 1, { replicaId: -1, topics: [{ topic, partitions }] })
    return (await c.response<OffsetForLeaderEpochResponse>(ApiKey.OffsetForLeaderEpoch, 4)).body.topics[0]!.partitions
  }
  const [current, future, none, ahead, missing] = await ask([
    { partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 },
    { partition: 0, currentLeaderEpoch: -1, leaderEpoch: 3 },
    { partition: 0, currentLeaderEpoch: -1, leaderEpoch: -1 },
    { partition: 0, currentLeaderEpoch: 2, leaderEpoch: 0 },
    { partition: 7, currentLeaderEpoch: -1, leaderEpoch: 0 },
  ])
  assert.deepEqual(current, { errorCode: 0, partition: 0, leaderEpoch: 0, endOffset: 3 })
  assert.deepEqual(future, { errorCode: 0, partition: 0, leaderEpoch: -1, endOffset: -1 })
  assert.deepEqual(none, { errorCode: 0, partition: 0, leaderEpoch: -1, endOffset: -1 })
  assert.equal(ahead?.errorCode, 75)
  assert.equal(missing?.errorCode, 3)
  assert.equal((await ask([{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }], 'nope'))[0]?.errorCode, 3)
  // librdkafka 2.0.2 sees OffsetForLeaderEpoch advertised and consumes as before.
  const back = await run('kcat', ['-b', h.bootstrap, '-C', '-t', 'epochs', '-o', 'beginning', '-e', '-f', '%s\n'])
  assert.deepEqual(back.stdout.trim().split('\n'), ['a', 'b', 'c'])
})

test('ListOffsets -3 (v7) answers the record with the largest timestamp, exactly, as the log grows and shrinks', async (t) => {
  const h = await startHarness(t)
  const kafka = kafkaClient(h.bootstrap)
  const producer = kafka.producer()
  await producer.connect()
  h.defer(() => producer.disconnect())
  const send = (timestamps: number[]) =>
    producer.send({
      topic: 'times',
      messages: timestamps.map((ts) => ({ value: `t${ts}`, timestamp: String(ts) })),
    })
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  const maxTimestamp = async () => {
    c.send(ApiKey.ListOffsets, 7, 1, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: 'times', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3 }] }],
    })
    const p = (await c.response<ListOffsetsResponse>(ApiKey.ListOffsets, 7)).body.topics[0]!.partitions[0]!
    assert.equal(p.errorCode, 0)
    return [p.offset, p.timestamp]
  }
  await send([1000, 5000, 3000]) // offsets 0-2
  await send([5000, 2000]) // offsets 3-4: a tie with offset 1, which stays the answer
  assert.deepEqual(await maxTimestamp(), [1, 5000])
  await send([4000, 9000, 9000, 100]) // offsets 5-8: the scan picks up only what is new
  assert.deepEqual(await maxTimestamp(), [6, 9000])
  // The winner deleted (DeleteRecords): the scan starts over on what is left.
  const admin = kafka.admin()
  await admin.connect()
  h.defer(() => admin.disconnect())
  await admin.fetchTopicMetadata({ topics: ['times'] })
  await admin.deleteTopicRecords({ topic: 'times', partitions: [{ partition: 0, offset: '7' }] })
  assert.deepEqual(await maxTimestamp(), [7, 9000])
  await admin.deleteTopicRecords({ topic: 'times', partitions: [{ partition: 0, offset: '8' }] })
  assert.deepEqual(await maxTimestamp(), [8, 100])
})
