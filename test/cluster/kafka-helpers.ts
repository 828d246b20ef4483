// kafkajs helpers for the cluster fault tests: a client that re-routes quickly, leaders as Metadata names
// them, producers that record every acknowledged id with the partition and offset it was acknowledged at,
// and a consumer that reads everything back with partitions and offsets.
import type { TestContext } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { ApiKey, type MetadataResponse } from '../../src/protocols/kafka/codec/index.ts'
import { type ClusterOptions, startCluster } from '../fixtures/cluster.ts'
import { RawClient } from '../protocols/kafka/raw-client.ts'

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function kafkaClient(bootstrap: string[], clientId = 'cluster-test'): Kafka {
  return new Kafka({
    clientId,
    brokers: bootstrap,
    logLevel: logLevel.NOTHING,
    // Short timeouts so that a killed or paused broker is given up on quickly; many retries so that a send
    // survives the seconds a failover takes.
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 60, initialRetryTime: 100, maxRetryTime: 1000, factor: 0.2 },
  })
}

/** Partition → leader node id from a fresh Metadata request; -1 where there is none. */
export async function leaders(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    const out = new Map<number, number>()
    for (const p of metadata.topics[0]!.partitions) out.set(p.partitionId, p.partitionErrorCode === 0 ? p.leader : -1)
    return out
  } finally {
    await admin.disconnect()
  }
}

/** Polls Metadata until `accept` holds for the leader map; returns it, or throws after timeoutMs. */
export async function waitForLeaders(
  kafka: Kafka,
  topic: string,
  accept: (leaders: Map<number, number>) => boolean,
  timeoutMs = 60_000,
): Promise<Map<number, number>> {
  const deadline = Date.now() + timeoutMs
  let last: Map<number, number> | string = 'no answer'
  while (Date.now() < deadline) {
    try {
      const found = await leaders(kafka, topic)
      if (accept(found)) return found
      last = found
    } catch (error) {
      last = String(error)
    }
    await sleep(250)
  }
  throw new Error(`leaders of ${topic} never settled: ${last instanceof Map ? JSON.stringify([...last]) : last}`)
}

export interface Acked {
  id: string
  partition: number
  offset: number
  /** When the send started and when it was acknowledged (epoch ms). */
  sentAt: number
  at: number
}

/**
 * One sequential acks=all sender per partition: each sends `${prefix}-${partition}-${n}` one at a time until
 * stopped, recording every acknowledged id; a send that fails after all retries is counted, not recorded.
 */
export function producePerPartition(kafka: Kafka, topic: string, partitions: number, prefix: string) {
  // kafkajs re-reads metadata on a NOT_LEADER answer but not on a request timeout, which is all a paused
  // (SIGSTOP) broker gives: without a short metadata age it would retry the paused broker for its default 5 min.
  const producer = kafka.producer({ allowAutoTopicCreation: false, metadataMaxAge: 2000 })
  const acked: Acked[] = []
  let failed = 0
  let stopped = false
  const loops = async () => {
    await producer.connect()
    await Promise.all(
      Array.from({ length: partitions }, async (_, partition) => {
        for (let n = 0; !stopped; n++) {
          const id = `${prefix}-${partition}-${n}`
          const sentAt = Date.now()
          try {
            const [meta] = await producer.send({ topic, acks: -1, messages: [{ partition, value: id }] })
            acked.push({ id, partition, offset: Number(meta!.baseOffset), sentAt, at: Date.now() })
          } catch {
            failed++
          }
        }
      }),
    )
    await producer.disconnect()
  }
  const running = loops()
  return {
    acked,
    get failed() {
      return failed
    },
    /** Acknowledged sends to a partition that started after a time. */
    ackedSince(partition: number, at: number) {
      return acked.filter((a) => a.partition === partition && a.sentAt > at)
    },
    async stop() {
      stopped = true
      await running
    },
  }
}

export interface Consumed {
  value: string
  partition: number
  offset: number
}

/**
 * A fresh group reads the topic from the beginning (read_committed unless told) until `done` holds for what it
 * read, or timeoutMs.
 */
export async function consumeUntil(
  kafka: Kafka,
  topic: string,
  groupId: string,
  done: (consumed: Consumed[]) => boolean,
  timeoutMs = 120_000,
  options: { readUncommitted?: boolean } = {},
): Promise<Consumed[]> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 1000, ...options })
  await consumer.connect()
  const consumed: Consumed[] = []
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    let finish: () => void = () => {}
    const finished = new Promise<void>((resolve) => {
      finish = resolve
    })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        consumed.push({ value: String(message.value), partition, offset: Number(message.offset) })
        if (done(consumed)) finish()
      },
    })
    // Cleared when done: a pending timer would keep the test file's process alive for the rest of timeoutMs.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      finished,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
      }),
    ])
    clearTimeout(timer)
    return consumed
  } finally {
    await consumer.disconnect()
  }
}

/**
 * Checks what was read against what was acknowledged: every acked id was read at the partition and offset
 * it was acknowledged with, and no offset of a partition holds two values. Returns the problems (empty when
 * none) and how many ids were read more than once (at-least-once for unacknowledged retries is allowed).
 */
export function audit(acked: Acked[], consumed: Consumed[]): { problems: string[]; duplicates: number } {
  const problems: string[] = []
  const atOffset = new Map<string, string>()
  for (const c of consumed) {
    const key = `${c.partition}/${c.offset}`
    const before = atOffset.get(key)
    if (before !== undefined && before !== c.value) problems.push(`offset ${key} holds ${before} and ${c.value}`)
    atOffset.set(key, c.value)
  }
  for (const a of acked) {
    const found = atOffset.get(`${a.partition}/${a.offset}`)
    if (found !== a.id) problems.push(`${a.id} acked at ${a.partition}/${a.offset}, which holds ${found ?? 'nothing'}`)
  }
  const positions = new Map<string, number>()
  for (const value of atOffset.values()) positions.set(value, (positions.get(value) ?? 0) + 1)
  const duplicates = [...positions.values()].filter((n) => n > 1).length
  return { problems, duplicates }
}

/** Every acked id read (at its offset): the stop condition of consumeUntil. */
export function allRead(acked: Acked[]): (consumed: Consumed[]) => boolean {
  const missing = new Set(acked.map((a) => `${a.partition}/${a.offset}`))
  let checked = 0
  return (consumed) => {
    for (; checked < consumed.length; checked++) {
      const c = consumed[checked]!
      missing.delete(`${c.partition}/${c.offset}`)
    }
    return missing.size === 0
  }
}

/** Waits until the broker on this port lists the topic with all its partitions (its catalog has it). */
export async function waitForTopicOn(
  port: number,
  topic: string,
  partitions: number,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let attempt = 1; ; attempt++) {
    const raw = new RawClient(port)
    try {
      raw.send(ApiKey.Metadata, 9, attempt, {
        topics: [{ name: topic }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      })
      const { body } = await raw.response<MetadataResponse>(ApiKey.Metadata, 9)
      if (body.topics[0]?.errorCode === 0 && body.topics[0].partitions.length === partitions) return
    } catch {
      // not answering yet
    } finally {
      raw.socket.destroy()
    }
    if (Date.now() > deadline)
      throw new Error(`the broker on port ${port} does not list ${topic} after ${timeoutMs} ms`)
    await sleep(250)
  }
}

/** Partitions of the fault tests' topics. */
export const PARTITIONS = 6
/** Every partition led, by all three brokers. */
export const spread = (found: Map<number, number>) =>
  found.size === PARTITIONS && ![...found.values()].includes(-1) && new Set(found.values()).size === 3

/** A cluster of 3 (with `options`) whose broker 1 created `topic` (6 partitions) before the others joined. */
export async function clusterWithTopic(
  t: TestContext,
  topic: string,
  options: ClusterOptions = {},
  partitions = PARTITIONS,
) {
  const cluster = await startCluster(t, {
    ...options,
    setup: async (first) => {
      const admin = kafkaClient([`127.0.0.1:${first.ports.kafka}`]).admin()
      await admin.connect()
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: false })
      } finally {
        await admin.disconnect()
      }
    },
  })
  if (cluster === undefined) return undefined
  for (const broker of cluster.brokers) await waitForTopicOn(broker.ports.kafka!, topic, partitions)
  return { cluster, kafka: kafkaClient(cluster.kafkaBootstrap) }
}
