// Two brokers over one PostgreSQL create 20 topics each at the same time (kafkajs admin createTopics, each
// admin bootstrapped on one broker, which names itself controller): the numeric stream ids, allocated in the
// database, are all distinct, each topic has its own partition log, and a producer and a consumer
// bootstrapped on either broker write to and read back every topic.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { startCluster } from '../fixtures/cluster.ts'
import { kafkaClient, sleep, waitForTopicOn } from './kafka-helpers.ts'

const PER_BROKER = 20

test(`two brokers creating ${PER_BROKER} topics each at once give every stream its own id`, {
  timeout: 300_000,
}, async (t) => {
  const cluster = await startCluster(t, { brokers: 2 })
  if (cluster === undefined) return
  const topicsOf = (nodeId: number) => Array.from({ length: PER_BROKER }, (_, i) => `ids-${nodeId}-${i}`)
  const all = cluster.brokers.flatMap((b) => topicsOf(b.nodeId))
  // Patient admins: a CreateTopics that kafkajs gave up on and sent again, possibly to the other broker, would
  // create that name on both at once (the last commit wins the catalog row), a race this test is not about.
  const admins = cluster.brokers.map((b) =>
    new Kafka({
      clientId: `admin-${b.nodeId}`,
      brokers: [`127.0.0.1:${b.ports.kafka}`],
      logLevel: logLevel.NOTHING,
      requestTimeout: 120_000,
      retry: { retries: 0 },
    }).admin(),
  )
  await Promise.all(admins.map((admin) => admin.connect()))
  try {
    await Promise.all(
      cluster.brokers.map((broker, i) =>
        // One request per topic, all in flight together, so both brokers allocate ids at the same time.
        Promise.all(
          topicsOf(broker.nodeId).map((topic) =>
            admins[i]!.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false, timeout: 120_000 }),
          ),
        ),
      ),
    )
  } finally {
    await Promise.all(admins.map((admin) => admin.disconnect()))
  }
  const db = new pg.Client({ connectionString: cluster.url })
  await db.connect()
  const { rows } = await db
    .query<{ name: Buffer; json: string }>(`SELECT name, json FROM wharf_metadata WHERE kind = 'stream'::bytea`)
    .finally(() => db.end())
  const ids = new Map(rows.map((row) => [row.name.toString(), (JSON.parse(row.json) as { id: number }).id]))
  assert.deepEqual([...ids.keys()].filter((name) => all.includes(name)).sort(), [...all].sort())
  const distinct = new Set(all.map((topic) => ids.get(topic)))
  assert.equal(distinct.size, all.length, `stream ids: ${JSON.stringify(Object.fromEntries(ids))}`)

  for (const broker of cluster.brokers) for (const topic of all) await waitForTopicOn(broker.ports.kafka!, topic, 1)
  // Both brokers created topics, each once. Not exactly their own 20 each: kafkajs sends CreateTopics to the
  // controller its latest Metadata named, and a refresh answered by the other broker names that one. Counted
  // only now: a broker's log line can reach this process after its CreateTopics answer.
  const created = cluster.brokers.map(
    (broker) => (broker.wharf.output().match(/"stream":"ids-\d+-\d+","msg":"stream created"/g) ?? []).length,
  )
  assert.equal(created[0]! + created[1]!, all.length, `topics created per broker: ${created}`)
  for (const count of created) assert.ok(count >= PER_BROKER / 2, `topics created per broker: ${created}`)
  // Through either broker: one message per topic each, then every topic read back holding both.
  for (const broker of cluster.brokers) {
    const producer = kafkaClient([`127.0.0.1:${broker.ports.kafka}`], `producer-${broker.nodeId}`).producer({
      allowAutoTopicCreation: false,
    })
    await producer.connect()
    try {
      await producer.sendBatch({
        acks: -1,
        topicMessages: all.map((topic) => ({ topic, messages: [{ value: `${topic} via ${broker.nodeId}` }] })),
      })
    } finally {
      await producer.disconnect()
    }
  }
  for (const broker of cluster.brokers) {
    const kafka = kafkaClient([`127.0.0.1:${broker.ports.kafka}`], `consumer-${broker.nodeId}`)
    const consumer = kafka.consumer({ groupId: `ids-read-${broker.nodeId}`, sessionTimeout: 30_000 })
    await consumer.connect()
    const seen = new Map<string, string[]>()
    try {
      await consumer.subscribe({ topics: all, fromBeginning: true })
      await consumer.run({
        eachMessage: async ({ topic, message }) => {
          seen.set(topic, [...(seen.get(topic) ?? []), String(message.value)])
        },
      })
      const deadline = Date.now() + 120_000
      while ([...seen.values()].flat().length < all.length * 2 && Date.now() < deadline) await sleep(200)
    } finally {
      await consumer.disconnect()
    }
    for (const topic of all)
      assert.deepEqual(
        (seen.get(topic) ?? []).sort(),
        cluster.brokers.map((b) => `${topic} via ${b.nodeId}`).sort(),
        `${topic} read through broker ${broker.nodeId}`,
      )
  }
})
