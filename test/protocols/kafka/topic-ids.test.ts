// Topic ids (KIP-516): Metadata v10+ returns each topic's id, the same after a broker restart; Metadata v12
// finds a topic by id; CreateTopics v7 returns the id; Fetch v13 reads by id; DeleteTopics v6 deletes by id.
// No installed client speaks these versions (kafkajs caps Metadata at v6 and Fetch at v11, librdkafka 2.0.2 at
// v4 and v11, kafka-python at v5 and v11), so they go over a raw socket with Wharf's codec; kcat produces and
// lists, and keeps working with the new versions advertised.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  ApiKey,
  type CreateTopicsResponse,
  type DeleteTopicsResponse,
  type FetchResponse,
  type MetadataResponse,
} from '../../../src/protocols/kafka/codec/index.ts'
import { startKafkaListener } from '../../../src/protocols/kafka/index.ts'
import { decodeBatch, splitBatches } from '../../../src/record/index.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'
import { run, startHarness } from './harness.ts'
import { RawClient } from './raw-client.ts'

const ZERO = Buffer.alloc(16)

async function metadata(port: number, topics: Array<{ name: string | null; topicId?: Buffer }> | null) {
  const c = new RawClient(port)
  try {
    c.send(ApiKey.Metadata, 12, 1, { topics, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })
    return (await c.response<MetadataResponse>(ApiKey.Metadata, 12)).body
  } finally {
    c.socket.destroy()
  }
}

function fetchById(topicId: Buffer, partition = 0, fetchOffset = 0) {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topicId,
        partitions: [
          {
            partition,
            currentLeaderEpoch: -1,
            fetchOffset,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: 1024 * 1024,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  }
}

test('Metadata v10+ topic ids are non-zero, distinct, and the same after a broker restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-kafka-ids-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const start = async () => {
    const broker = await createTestBroker({ dataDir: dir, durability: 'never' })
    const listener = await startKafkaListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
    return { broker, listener, bootstrap: `127.0.0.1:${listener.port}` }
  }
  let w = await start()
  await run('kcat', ['-b', w.bootstrap, '-P', '-t', 'alpha'], { input: 'a1\n' })
  await run('kcat', ['-b', w.bootstrap, '-P', '-t', 'beta'], { input: 'b1\n' })
  const before = await metadata(w.listener.port, null)
  const ids = new Map(before.topics.map((tp) => [tp.name, tp.topicId!]))
  assert.equal(ids.size, 2)
  for (const id of ids.values()) assert.ok(!id.equals(ZERO), 'a real id')
  assert.ok(!ids.get('alpha')!.equals(ids.get('beta')!))
  // kcat (Metadata v4) still lists both with the new versions advertised.
  const listed = await run('kcat', ['-b', w.bootstrap, '-L'])
  assert.match(listed.stdout, /topic "alpha"/)
  await w.listener.close()
  await w.broker.close()

  w = await start()
  t.after(async () => {
    await w.listener.close()
    await w.broker.close()
  })
  const after = await metadata(w.listener.port, [{ name: 'alpha' }, { name: 'beta' }])
  assert.deepEqual(new Map(after.topics.map((tp) => [tp.name, tp.topicId!])), ids, 'same ids after the restart')

  // v12: a topic named by id; an unknown id is UNKNOWN_TOPIC_ID with no name; both name and id is refused.
  const byId = await metadata(w.listener.port, [{ name: null, topicId: ids.get('beta')! }])
  assert.equal(byId.topics[0]?.errorCode, 0)
  assert.equal(byId.topics[0]?.name, 'beta')
  assert.equal(byId.topics[0]?.partitions.length, 1)
  const unknown = await metadata(w.listener.port, [{ name: null, topicId: Buffer.alloc(16, 9) }])
  assert.equal(unknown.topics[0]?.errorCode, 100)
  assert.equal(unknown.topics[0]?.name, null)
  const both = await metadata(w.listener.port, [{ name: 'beta', topicId: ids.get('beta')! }])
  assert.equal(both.topics[0]?.errorCode, 42)
})

test('CreateTopics v7 returns the id; Fetch v13 reads by it; DeleteTopics v6 deletes by it; then the id is unknown', async (t) => {
  const h = await startHarness(t)
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  c.send(ApiKey.CreateTopics, 7, 1, {
    topics: [{ name: 'by-id', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  })
  const created = (await c.response<CreateTopicsResponse>(ApiKey.CreateTopics, 7)).body.topics[0]!
  assert.equal(created.errorCode, 0)
  const id = created.topicId!
  assert.ok(!id.equals(ZERO))
  const listed = await metadata(h.port, [{ name: 'by-id' }])
  assert.ok(listed.topics[0]?.topicId?.equals(id), 'Metadata names the same id')

  await run('kcat', ['-b', h.bootstrap, '-P', '-t', 'by-id', '-p', '1'], { input: 'one\ntwo\n' })
  c.send(ApiKey.Fetch, 13, 2, fetchById(id, 1))
  const fetched = (await c.response<FetchResponse>(ApiKey.Fetch, 13)).body
  assert.equal(fetched.responses.length, 1)
  assert.ok(fetched.responses[0]?.topicId?.equals(id), 'answered by id')
  const part = fetched.responses[0]!.partitions[0]!
  assert.equal(part.errorCode, 0)
  const values = splitBatches(part.records as Buffer).flatMap((b) =>
    decodeBatch(b).records.map((r) => r.value!.toString()),
  )
  assert.deepEqual(values, ['one', 'two'])

  // A fetch session opened by id (at the end of the partition) stays by id, and keeps working incrementally.
  c.send(ApiKey.Fetch, 13, 3, { ...fetchById(id, 1, 2), sessionEpoch: 0 })
  const full = (await c.response<FetchResponse>(ApiKey.Fetch, 13)).body
  assert.ok(full.sessionId! > 0)
  c.send(ApiKey.Fetch, 13, 4, { ...fetchById(id, 1), sessionId: full.sessionId, sessionEpoch: 1, topics: [] })
  const incremental = (await c.response<FetchResponse>(ApiKey.Fetch, 13)).body
  assert.equal(incremental.errorCode, 0)
  assert.deepEqual(incremental.responses, [], 'nothing new')
  // Continuing it by name (v12) is Kafka's FETCH_SESSION_TOPIC_ID_ERROR.
  c.send(ApiKey.Fetch, 12, 5, { ...fetchById(id, 1), sessionId: full.sessionId, sessionEpoch: 2, topics: [] })
  assert.equal((await c.response<FetchResponse>(ApiKey.Fetch, 12)).body.errorCode, 106)

  c.send(ApiKey.DeleteTopics, 6, 6, { topics: [{ name: null, topicId: id }], timeoutMs: 5000 })
  const deleted = (await c.response<DeleteTopicsResponse>(ApiKey.DeleteTopics, 6)).body.responses[0]!
  assert.equal(deleted.errorCode, 0)
  assert.equal(deleted.name, 'by-id')
  assert.equal(h.broker.getStream('by-id'), undefined)

  // Recreated under the same name it is another topic: the old id names nothing.
  c.send(ApiKey.CreateTopics, 7, 7, {
    topics: [{ name: 'by-id', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  })
  const again = (await c.response<CreateTopicsResponse>(ApiKey.CreateTopics, 7)).body.topics[0]!
  assert.ok(!again.topicId!.equals(id))
  c.send(ApiKey.Fetch, 13, 8, fetchById(id, 1))
  const stale = (await c.response<FetchResponse>(ApiKey.Fetch, 13)).body
  assert.equal(stale.responses[0]?.partitions[0]?.errorCode, 100, 'UNKNOWN_TOPIC_ID')
  c.send(ApiKey.DeleteTopics, 6, 9, { topics: [{ name: null, topicId: id }], timeoutMs: 5000 })
  assert.equal((await c.response<DeleteTopicsResponse>(ApiKey.DeleteTopics, 6)).body.responses[0]?.errorCode, 100)
  assert.ok(h.broker.getStream('by-id'), 'the new topic is untouched')
})
