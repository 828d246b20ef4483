// Kafka transactions on a cluster: a kafkajs transactional producer writes to partitions that two brokers own
// between them (whichever coordinates its transactional id), commits, aborts and commits again: read_committed
// readers see the committed records once and never the aborted ones, read_uncommitted readers see both, as on
// Kafka. The coordinator has each partition's owner admit the producer and write the markers.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Kafka } from 'kafkajs'
import { clusterWithTopic, consumeUntil, waitForLeaders } from './kafka-helpers.ts'

const PARTITIONS = 4

/** Every value a fresh read_uncommitted group reads from the start of the topic, once `expected` arrived. */
async function readUncommitted(kafka: Kafka, topic: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `uncommitted-${topic}`, readUncommitted: true, maxWaitTimeInMs: 200 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    const values: string[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${values.length} of ${expected}: ${values}`)), 30_000)
      consumer
        .run({
          eachMessage: async ({ message }) => {
            values.push(String(message.value))
            if (values.length === expected) {
              clearTimeout(timer)
              resolve()
            }
          },
        })
        .catch(reject)
    })
    return values.sort()
  } finally {
    await consumer.disconnect()
  }
}

test('a transaction over partitions that two brokers own commits and aborts as a whole', {
  timeout: 180_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'tx', { brokers: 2 }, PARTITIONS)
  if (started === undefined) return
  const { kafka } = started
  await waitForLeaders(kafka, 'tx', (found) => new Set(found.values()).size === 2 && ![...found.values()].includes(-1))
  const producer = kafka.producer({ transactionalId: 'tx-cluster', idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  t.after(() => producer.disconnect())
  const messages = (prefix: string) =>
    Array.from({ length: PARTITIONS }, (_, i) => ({ partition: i, value: `${prefix}${i}` }))
  const committed = await producer.transaction()
  await committed.send({ topic: 'tx', messages: messages('c') })
  await committed.commit()
  const aborted = await producer.transaction()
  await aborted.send({ topic: 'tx', messages: messages('a') })
  await aborted.abort()
  const again = await producer.transaction()
  await again.send({ topic: 'tx', messages: messages('d') })
  await again.commit()

  const read = await consumeUntil(kafka, 'tx', 'tx-committed', (c) => c.length >= 8, 20_000)
  assert.deepEqual(read.map((c) => c.value).sort(), ['c0', 'c1', 'c2', 'c3', 'd0', 'd1', 'd2', 'd3'])
  assert.deepEqual(await readUncommitted(kafka, 'tx', 12), [
    ...['a0', 'a1', 'a2', 'a3', 'c0', 'c1', 'c2', 'c3'],
    ...['d0', 'd1', 'd2', 'd3'],
  ])
})
