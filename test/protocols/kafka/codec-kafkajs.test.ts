// Interop with kafkajs 2.2.4's own protocol code: kafkajs encodes requests that our decoders read, and
// kafkajs' response decoders read what our encoders write (body after the v0 response header, as kafkajs'
// connection hands it over).
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { ApiKey, type KafkaApi, kafkaApis, readRequest, Writer } from '../../../src/protocols/kafka/codec/index.ts'

const require = createRequire(import.meta.url)
// kafkajs's protocol modules are untyped JavaScript: their decoded values are read as loosely as they come.
// biome-ignore lint/suspicious/noExplicitAny: untyped kafkajs internals
type Decoded = any
type KafkajsRequest = { apiKey: number; apiVersion: number; encode: () => Promise<unknown> }
const kafkajsRequest = (api: string, v: number) =>
  require(`kafkajs/src/protocol/requests/${api}/v${v}/request`) as (args: object) => KafkajsRequest
const kafkajsResponse = (api: string, v: number) =>
  require(`kafkajs/src/protocol/requests/${api}/v${v}/response`) as { decode: (b: Buffer) => Promise<Decoded> }
const frameRequest = require('kafkajs/src/protocol/request') as (args: object) => Promise<{ buffer: Buffer }>

/** A kafkajs request → full frame → our header + body decoder. */
async function decodeKafkajs(request: KafkajsRequest): Promise<{ api: KafkaApi; body: Decoded; clientId: unknown }> {
  const { buffer } = await frameRequest({ correlationId: 42, clientId: 'kafkajs', request })
  assert.equal(buffer.readInt32BE(0), buffer.length - 4)
  const decoded = readRequest(buffer.subarray(4))
  assert.equal(decoded.header.correlationId, 42)
  assert.equal(decoded.header.requestApiVersion, request.apiVersion)
  const api = decoded.api!
  assert.equal(api.apiKey, request.apiKey)
  const body = api.decodeRequest(decoded.body, request.apiVersion)
  assert.equal(decoded.body.remaining, 0, 'request fully consumed')
  return { api, body, clientId: decoded.header.clientId }
}

function encodeBody(apiKey: number, v: number, body: unknown): Buffer {
  const w = new Writer()
  kafkaApis.get(apiKey)!.encodeResponse(w, body, v)
  return Buffer.concat(w.finish())
}

test('kafkajs Produce v7 request → our decoder; our Fetch v11 response → kafkajs decoder', async () => {
  const produce = kafkajsRequest(
    'produce',
    7,
  )({
    acks: -1,
    timeout: 30000,
    topicData: [
      {
        topic: 'orders',
        partitions: [
          {
            partition: 2,
            messages: [
              { key: 'k1', value: 'v1' },
              { key: null, value: 'v2' },
            ],
          },
        ],
      },
    ],
  })
  const { body, clientId } = await decodeKafkajs(produce)
  assert.equal(clientId, 'kafkajs')
  assert.equal(body.acks, -1)
  assert.equal(body.timeoutMs, 30000)
  assert.equal(body.transactionalId, null)
  const part = body.topicData[0].partitionData[0]
  assert.equal(body.topicData[0].name, 'orders')
  assert.equal(part.index, 2)
  const batch = part.records as Buffer
  assert.equal(batch.readInt8(16), 2, 'record batch magic')
  assert.equal(batch.readInt32BE(57), 2, 'record count')

  // Serve the same batch back in a Fetch v11 response; kafkajs must decode both messages out of it.
  const fetchBody = {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 'orders',
        partitions: [
          {
            partitionIndex: 2,
            errorCode: 0,
            highWatermark: 2,
            lastStableOffset: 2,
            logStartOffset: 0,
            abortedTransactions: [],
            preferredReadReplica: -1,
            records: [batch],
          },
        ],
      },
    ],
  }
  const decoded = await kafkajsResponse('fetch', 11).decode(encodeBody(ApiKey.Fetch, 11, fetchBody))
  const partition = decoded.responses[0].partitions[0]
  assert.equal(decoded.responses[0].topicName, 'orders')
  assert.equal(partition.partition, 2)
  assert.equal(partition.highWatermark, '2')
  assert.deepEqual(
    partition.messages.map((m: Decoded) => [m.offset, m.key?.toString() ?? null, m.value.toString()]),
    [
      ['0', 'k1', 'v1'],
      ['1', null, 'v2'],
    ],
  )
})

test('kafkajs Fetch v11 request → our decoder', async () => {
  const fetch = kafkajsRequest(
    'fetch',
    11,
  )({
    replicaId: -1,
    maxWaitTime: 5000,
    minBytes: 1,
    maxBytes: 10485760,
    topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '1234567890123', maxBytes: 1048576 }] }],
    rackId: 'r1',
  })
  const { body } = await decodeKafkajs(fetch)
  assert.equal(body.maxWaitMs, 5000)
  assert.equal(body.isolationLevel, 1)
  assert.equal(body.sessionEpoch, -1)
  assert.equal(body.rackId, 'r1')
  assert.deepEqual(body.topics[0].partitions[0], {
    partition: 0,
    currentLeaderEpoch: -1,
    fetchOffset: 1234567890123,
    lastFetchedEpoch: -1,
    logStartOffset: -1,
    partitionMaxBytes: 1048576,
    replicaDirectoryId: body.topics[0].partitions[0].replicaDirectoryId,
  })
  assert.equal(body.topics[0].topic, 't')
})

test('kafkajs Metadata v6 request → ours; our Metadata v6 response → kafkajs', async () => {
  const { body } = await decodeKafkajs(
    kafkajsRequest('metadata', 6)({ topics: ['a', 'b'], allowAutoTopicCreation: false }),
  )
  assert.deepEqual(
    body.topics.map((t: Decoded) => t.name),
    ['a', 'b'],
  )
  assert.equal(body.allowAutoTopicCreation, false)
  const response = {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 0, host: '127.0.0.1', port: 9092, rack: null }],
    clusterId: 'wharf',
    controllerId: 0,
    topics: [
      {
        errorCode: 0,
        name: 'a',
        isInternal: false,
        partitions: [
          { errorCode: 0, partitionIndex: 0, leaderId: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] },
        ],
      },
    ],
  }
  const decoded = await kafkajsResponse('metadata', 6).decode(encodeBody(ApiKey.Metadata, 6, response))
  assert.deepEqual(decoded.brokers, [{ nodeId: 0, host: '127.0.0.1', port: 9092, rack: null }])
  assert.equal(decoded.clusterId, 'wharf')
  assert.equal(decoded.topicMetadata[0].topic, 'a')
  assert.equal(decoded.topicMetadata[0].partitionMetadata[0].leader, 0)
  assert.deepEqual(decoded.topicMetadata[0].partitionMetadata[0].isr, [0])
})

test('kafkajs ApiVersions v2 request → ours; our ApiVersions v2 response → kafkajs', async () => {
  const { body } = await decodeKafkajs(kafkajsRequest('apiVersions', 2)({}))
  assert.deepEqual(body, { clientSoftwareName: '', clientSoftwareVersion: '' })
  const apiKeys = [...kafkaApis.values()].map((a) => ({
    apiKey: a.apiKey,
    minVersion: a.minVersion,
    maxVersion: a.maxVersion,
  }))
  const decoded = await kafkajsResponse('apiVersions', 2).decode(
    encodeBody(ApiKey.ApiVersions, 2, { errorCode: 0, apiKeys, throttleTimeMs: 0 }),
  )
  assert.equal(decoded.errorCode, 0)
  assert.equal(decoded.apiVersions.length, apiKeys.length)
  assert.deepEqual(decoded.apiVersions[0], {
    apiKey: 0,
    minVersion: apiKeys[0]!.minVersion,
    maxVersion: apiKeys[0]!.maxVersion,
  })
})

test('kafkajs JoinGroup v5 / SyncGroup v3 requests → ours; our responses → kafkajs', async () => {
  const join = await decodeKafkajs(
    kafkajsRequest(
      'joinGroup',
      5,
    )({
      groupId: 'g',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: '',
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from('meta') }],
    }),
  )
  assert.equal(join.body.groupId, 'g')
  assert.equal(join.body.rebalanceTimeoutMs, 60000)
  assert.equal(join.body.groupInstanceId, null)
  assert.equal(join.body.protocols[0].name, 'RoundRobinAssigner')
  assert.deepEqual(join.body.protocols[0].metadata, Buffer.from('meta'))
  const joinResponse = {
    throttleTimeMs: 0,
    errorCode: 0,
    generationId: 3,
    protocolName: 'RoundRobinAssigner',
    leader: 'm1',
    memberId: 'm1',
    members: [{ memberId: 'm1', groupInstanceId: null, metadata: Buffer.from('meta') }],
  }
  const joined = await kafkajsResponse('joinGroup', 5).decode(encodeBody(ApiKey.JoinGroup, 5, joinResponse))
  assert.equal(joined.generationId, 3)
  assert.equal(joined.leaderId, 'm1')
  assert.equal(joined.groupProtocol, 'RoundRobinAssigner')
  assert.deepEqual(joined.members[0].memberMetadata, Buffer.from('meta'))

  const sync = await decodeKafkajs(
    kafkajsRequest(
      'syncGroup',
      3,
    )({
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupAssignment: [{ memberId: 'm1', memberAssignment: Buffer.from('assign') }],
    }),
  )
  assert.equal(sync.body.generationId, 3)
  assert.deepEqual(sync.body.assignments[0].assignment, Buffer.from('assign'))
  const synced = await kafkajsResponse('syncGroup', 3).decode(
    encodeBody(ApiKey.SyncGroup, 3, { throttleTimeMs: 0, errorCode: 0, assignment: Buffer.from('assign') }),
  )
  assert.deepEqual(synced.memberAssignment, Buffer.from('assign'))
})

test('kafkajs OffsetCommit v5 / OffsetFetch v4 requests → ours; our responses → kafkajs', async () => {
  const commit = await decodeKafkajs(
    kafkajsRequest(
      'offsetCommit',
      5,
    )({
      groupId: 'g',
      groupGenerationId: 3,
      memberId: 'm1',
      topics: [{ topic: 't', partitions: [{ partition: 1, offset: '99', metadata: 'md' }] }],
    }),
  )
  assert.equal(commit.body.generationIdOrMemberEpoch, 3)
  assert.deepEqual(commit.body.topics[0].partitions[0], {
    partitionIndex: 1,
    committedOffset: 99,
    committedLeaderEpoch: -1,
    commitTimestamp: -1,
    committedMetadata: 'md',
  })
  const committed = await kafkajsResponse('offsetCommit', 5).decode(
    encodeBody(ApiKey.OffsetCommit, 5, {
      throttleTimeMs: 0,
      topics: [{ name: 't', partitions: [{ partitionIndex: 1, errorCode: 0 }] }],
    }),
  )
  assert.deepEqual(committed.responses, [{ topic: 't', partitions: [{ partition: 1, errorCode: 0 }] }])

  const fetch = await decodeKafkajs(
    kafkajsRequest('offsetFetch', 4)({ groupId: 'g', topics: [{ topic: 't', partitions: [{ partition: 1 }] }] }),
  )
  assert.equal(fetch.body.groupId, 'g')
  assert.deepEqual(fetch.body.topics[0].partitionIndexes, [1])
  const fetched = await kafkajsResponse('offsetFetch', 4).decode(
    encodeBody(ApiKey.OffsetFetch, 4, {
      throttleTimeMs: 0,
      topics: [{ name: 't', partitions: [{ partitionIndex: 1, committedOffset: 99, metadata: 'md', errorCode: 0 }] }],
      errorCode: 0,
    }),
  )
  assert.deepEqual(fetched.responses, [
    { topic: 't', partitions: [{ partition: 1, offset: '99', metadata: 'md', errorCode: 0 }] },
  ])
})

test('kafkajs ListOffsets v3 / FindCoordinator v2 / CreateTopics v3 requests → ours; responses → kafkajs', async () => {
  const list = await decodeKafkajs(
    kafkajsRequest(
      'listOffsets',
      3,
    )({ replicaId: -1, isolationLevel: 1, topics: [{ topic: 't', partitions: [{ partition: 0, timestamp: -2 }] }] }),
  )
  assert.equal(list.body.isolationLevel, 1)
  assert.equal(list.body.topics[0].partitions[0].timestamp, -2)
  const listed = await kafkajsResponse('listOffsets', 3).decode(
    encodeBody(ApiKey.ListOffsets, 3, {
      throttleTimeMs: 0,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1, offset: 1234567890123 }] }],
    }),
  )
  assert.deepEqual(listed.responses[0].partitions[0], {
    partition: 0,
    errorCode: 0,
    timestamp: '-1',
    offset: '1234567890123',
  })

  const find = await decodeKafkajs(kafkajsRequest('findCoordinator', 2)({ coordinatorKey: 'g', coordinatorType: 0 }))
  assert.equal(find.body.key, 'g')
  assert.equal(find.body.keyType, 0)
  const found = await kafkajsResponse('findCoordinator', 2).decode(
    encodeBody(ApiKey.FindCoordinator, 2, {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId: 0,
      host: 'h',
      port: 9092,
    }),
  )
  assert.deepEqual(found.coordinator, { nodeId: 0, host: 'h', port: 9092 })

  const create = await decodeKafkajs(
    kafkajsRequest(
      'createTopics',
      3,
    )({
      topics: [
        {
          topic: 'n',
          numPartitions: 3,
          replicationFactor: 1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      validateOnly: false,
      timeout: 5000,
    }),
  )
  assert.equal(create.body.timeoutMs, 5000)
  assert.deepEqual(create.body.topics[0].configs, [{ name: 'cleanup.policy', value: 'compact' }])
  assert.equal(create.body.topics[0].numPartitions, 3)
  const created = await kafkajsResponse('createTopics', 3).decode(
    encodeBody(ApiKey.CreateTopics, 3, {
      throttleTimeMs: 0,
      topics: [{ name: 'n', errorCode: 0, errorMessage: null }],
    }),
  )
  assert.deepEqual(created.topicErrors, [{ topic: 'n', errorCode: 0, errorMessage: null }])
})
