// AMQP listener benchmark with amqplib over loopback, shaped like /work/shared/peerbench/amqp.mjs so the
// numbers compare with its RabbitMQ baselines: 1 KiB messages, durable queue, persistent + confirmed
// publishes (window 1000), consumers with prefetch 500 and manual acks.
//   queue  : 1 producer → default exchange → 1 durable queue → 1 consumer
//   fanout : 1 producer → fanout exchange → 4 queues, one consumer each (every consumer gets all)
//   log    : stream queue written first, then read from offset 'first' by one consumer
// Run: node --import tsx bench/amqp.ts [--quick] [--durability always|never]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import amqp from 'amqplib'
import { createBroker } from '../src/index.ts'
import { startAmqpListener } from '../src/protocols/amqp/index.ts'
import { silentLogger } from '../src/util/logger.ts'
import { durability, quick } from './args.ts'

const N = quick ? 20_000 : 100_000
const WINDOW = 1000
const PREFETCH = 500
const payload = Buffer.alloc(1024, 'x')

async function publishConfirmed(ch: amqp.ConfirmChannel, exchange: string, key: string, n: number): Promise<void> {
  let inflight = 0
  let wake: (() => void) | null = null
  for (let i = 0; i < n; i++) {
    while (inflight >= WINDOW) await new Promise<void>((r) => (wake = r))
    inflight++
    const ok = ch.publish(exchange, key, payload, { persistent: true }, (err) => {
      if (err) throw err
      inflight--
      wake?.()
      wake = null
    })
    if (!ok) await new Promise((r) => ch.once('drain', r))
  }
  await ch.waitForConfirms()
}

async function consume(conn: amqp.ChannelModel, queue: string, n: number, args?: object): Promise<void> {
  const ch = await conn.createChannel()
  await ch.prefetch(PREFETCH)
  let got = 0
  await new Promise<void>((resolve) => {
    void ch.consume(
      queue,
      (m) => {
        if (!m) return
        got++
        if (got % 50 === 0 || got === n) ch.ack(m, true)
        if (got === n) resolve()
      },
      { arguments: args },
    )
  })
  await ch.close()
}

async function scenario(name: string, url: string, run: (conn: amqp.ChannelModel) => Promise<number>): Promise<void> {
  const conn = await amqp.connect(url)
  const started = process.hrtime.bigint()
  const messages = await run(conn)
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  console.log(`${name.padEnd(8)} ${messages} msgs in ${seconds.toFixed(2)} s = ${Math.round(messages / seconds)} msg/s`)
  await conn.close()
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp-bench-'))
  const broker = await createBroker({ dataDir: dir, durability })
  const listener = await startAmqpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  const url = `amqp://guest:guest@127.0.0.1:${listener.port}`
  console.log(`amqp bench: ${N} × 1 KiB, durability ${durability}, confirm window ${WINDOW}, prefetch ${PREFETCH}`)
  try {
    await scenario('queue', url, async (conn) => {
      const ch = await conn.createConfirmChannel()
      await ch.assertQueue('bench.q', { durable: true })
      await Promise.all([publishConfirmed(ch, '', 'bench.q', N), consume(conn, 'bench.q', N)])
      return N
    })
    await scenario('fanout', url, async (conn) => {
      const ch = await conn.createConfirmChannel()
      await ch.assertExchange('bench.fanout', 'fanout', { durable: false })
      const n = Math.floor(N / 4)
      const queues = ['f0', 'f1', 'f2', 'f3']
      for (const q of queues) {
        await ch.assertQueue(q, { durable: true })
        await ch.bindQueue(q, 'bench.fanout', '')
      }
      await Promise.all([publishConfirmed(ch, 'bench.fanout', '', n), ...queues.map((q) => consume(conn, q, n))])
      return n * queues.length
    })
    await scenario('log', url, async (conn) => {
      const ch = await conn.createConfirmChannel()
      await ch.assertQueue('bench.stream', { durable: true, arguments: { 'x-queue-type': 'stream' } })
      await publishConfirmed(ch, '', 'bench.stream', N)
      await consume(conn, 'bench.stream', N, { 'x-stream-offset': 'first' })
      return 2 * N
    })
  } finally {
    await listener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
