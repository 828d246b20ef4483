// Kafka listener benchmark with kafkajs over loopback: 1 KiB messages, batches of 100, acks=-1, one producer,
// then one consumer group reading everything back. Prints msgs/s and MB/s for each phase.
// Run: node --import tsx bench/kafka.ts [--quick] [--durability always|never]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { createBroker } from '../src/index.ts'
import { startKafkaListener } from '../src/protocols/kafka/index.ts'
import { silentLogger } from '../src/util/logger.ts'
import { durability, quick } from './args.ts'

const N = quick ? 20_000 : 200_000
const BATCH = 100
/** Concurrent produce requests in flight (kafkajs sends one request per send() call). */
const WINDOW = 8
const payload = Buffer.alloc(1024, 'x')

const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-kafka-'))
const broker = await createBroker({ dataDir: dir, durability })
const listener = await startKafkaListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
const kafka = new Kafka({ clientId: 'bench', brokers: [`127.0.0.1:${listener.port}`], logLevel: logLevel.NOTHING })
try {
  await broker.createStream('bench', { partitions: 1 })
  const producer = kafka.producer()
  await producer.connect()
  const messages = Array.from({ length: BATCH }, () => ({ value: payload }))
  let t0 = performance.now()
  let sent = 0
  const inflight = new Set<Promise<unknown>>()
  while (sent < N) {
    const p = producer.send({ topic: 'bench', acks: -1, messages })
    inflight.add(p)
    void p.finally(() => inflight.delete(p))
    sent += BATCH
    if (inflight.size >= WINDOW) await Promise.race(inflight)
  }
  await Promise.all(inflight)
  let seconds = (performance.now() - t0) / 1000
  console.log(
    `produce: ${N} x 1 KiB acks=-1 durability=${durability}: ${Math.round(N / seconds)} msg/s, ${((N * 1024) / seconds / 1e6).toFixed(1)} MB/s`,
  )
  await producer.disconnect()

  const consumer = kafka.consumer({ groupId: 'bench', maxBytes: 16 * 1024 * 1024 })
  await consumer.connect()
  await consumer.subscribe({ topic: 'bench', fromBeginning: true })
  t0 = performance.now()
  let received = 0
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        received += batch.messages.length
        if (received >= N) resolve()
      },
    })
  })
  seconds = (performance.now() - t0) / 1000
  console.log(
    `consume: ${received} msgs: ${Math.round(received / seconds)} msg/s, ${((received * 1024) / seconds / 1e6).toFixed(1)} MB/s (includes the group join)`,
  )
  await consumer.disconnect()
} finally {
  await listener.close()
  await broker.close()
  rmSync(dir, { recursive: true, force: true })
}
