// The two halves of the PostgreSQL fault tests: a kafkajs producer sending acks=all one message at a time until
// stopped, recording every acknowledged id; and a read-back that names the acknowledged ids a consumer never sees.
import { Kafka, logLevel } from 'kafkajs'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface AckedLoad {
  readonly kafka: Kafka
  /** Ids the broker acknowledged. */
  readonly acked: Set<string>
  /** Sends that failed (retried with the next id after 100 ms). */
  failures(): number
  /** Resolves once `count` ids are acknowledged, or the timeout passes. */
  untilAcked(count: number, timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

/** Creates `topic` (one partition) and starts sending ids `<topic>-0`, `<topic>-1`, ... to it. */
export async function ackedLoad(kafkaPort: number, topic: string): Promise<AckedLoad> {
  const kafka = new Kafka({
    brokers: [`127.0.0.1:${kafkaPort}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 1000 },
  })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  const acked = new Set<string>()
  let failures = 0
  let next = 0
  let stopped = false
  const sending = (async () => {
    while (!stopped) {
      const id = `${topic}-${next++}`
      try {
        await producer.send({ topic, acks: -1, messages: [{ value: id }] })
        acked.add(id)
      } catch {
        failures++
        await sleep(100)
      }
    }
  })()
  return {
    kafka,
    acked,
    failures: () => failures,
    async untilAcked(count, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs
      while (acked.size < count && Date.now() < deadline) await sleep(20)
    },
    async stop() {
      stopped = true
      await sending
      await producer.disconnect()
    },
  }
}

/** The acknowledged ids a consumer reading `topic` from the beginning has not seen within a minute. */
export async function unseen(load: AckedLoad, topic: string): Promise<string[]> {
  const consumer = load.kafka.consumer({ groupId: 'check' })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const seen = new Set<string>()
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.add(message.value!.toString())
    },
  })
  const until = Date.now() + 60_000
  while ([...load.acked].some((id) => !seen.has(id)) && Date.now() < until) await sleep(100)
  await consumer.disconnect()
  return [...load.acked].filter((id) => !seen.has(id))
}
