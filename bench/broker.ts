// In-process broker benchmark, 1 KiB messages, durability 'always' (fdatasync before a publish resolves):
// queue publish→deliver→ack with 1 and 8 consumers, log append + tail, fan-out 1→10 (ten queues over one
// stream), and RSS with 1M messages queued. Run: node --expose-gc --import tsx bench/broker.ts [--quick]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Delivery } from '../src/broker/queue/types.ts'
import { type Broker, createBroker } from '../src/index.ts'

const quick = process.argv.includes('--quick')
const N = quick ? 50_000 : 200_000
const SIZE = 1024
const WINDOW = 1000
const payload = Buffer.alloc(SIZE, 'x')

async function withBroker<T>(run: (broker: Broker) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bbench-'))
  const broker = await createBroker({ dataDir: dir })
  try {
    return await run(broker)
  } finally {
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Publishes n single-message calls keeping `window` unresolved at once (like confirms in flight). */
async function publishWindowed(n: number, publish: () => Promise<unknown>): Promise<void> {
  let sent = 0
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (sent < n) {
        sent++
        await publish()
      }
    }),
  )
}

async function queueE2E(consumers: number): Promise<number> {
  return withBroker(async (broker) => {
    const queue = await broker.createQueue('bench')
    let received = 0
    let done: () => void = () => {}
    const finished = new Promise<void>((r) => {
      done = r
    })
    for (let c = 0; c < consumers; c++) {
      broker.consume('bench', {
        owner: `c${c}`,
        prefetch: 500,
        onDeliver: (ds: Delivery[]) => {
          for (const d of ds) void queue.ack(d.partition, d.offset)
          received += ds.length
          if (received >= N) done()
        },
      })
    }
    const start = performance.now()
    await publishWindowed(N, () => broker.sendToQueue('bench', [{ value: payload }]))
    await finished
    return N / ((performance.now() - start) / 1000)
  })
}

async function logAppendTail(): Promise<number> {
  return withBroker(async (broker) => {
    await broker.createStream('log')
    let read = 0
    const tail = (async () => {
      let offset = 0
      while (read < N) {
        await broker.log.waitForData('log', 0, offset, 1000)
        const { messages, nextOffset } = await broker.readMessages('log', 0, offset, 1 << 20)
        read += messages.length
        offset = nextOffset
      }
    })()
    const start = performance.now()
    await publishWindowed(N, () => broker.produce('log', [{ value: payload }]))
    await tail
    return N / ((performance.now() - start) / 1000)
  })
}

async function fanOut(): Promise<number> {
  const n = N / 4
  return withBroker(async (broker) => {
    await broker.createStream('fan', { workQueue: true })
    let deliveries = 0
    let done: () => void = () => {}
    const finished = new Promise<void>((r) => {
      done = r
    })
    for (let q = 0; q < 10; q++) {
      const queue = await broker.createQueue(`sub${q}`, { stream: 'fan' })
      broker.consume(`sub${q}`, {
        owner: `o${q}`,
        prefetch: 1000,
        onDeliver: (ds) => {
          for (const d of ds) void queue.ack(d.partition, d.offset)
          deliveries += ds.length
          if (deliveries >= n * 10) done()
        },
      })
    }
    const start = performance.now()
    await publishWindowed(n, () => broker.produce('fan', [{ value: payload }]))
    await finished
    return (n * 10) / ((performance.now() - start) / 1000)
  })
}

async function rssQueued(): Promise<{ count: number; rssMB: number; heapMB: number }> {
  const count = quick ? 200_000 : 1_000_000
  return withBroker(async (broker) => {
    await broker.createQueue('deep')
    const batch = Array.from({ length: 1000 }, () => ({ value: payload }))
    for (let i = 0; i < count; i += 1000) await broker.sendToQueue('deep', batch)
    ;(globalThis as { gc?: () => void }).gc?.()
    const depth = broker.queueStats('deep').depth
    const { rss, heapUsed } = process.memoryUsage()
    return { count: depth, rssMB: rss / 1e6, heapMB: heapUsed / 1e6 }
  })
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
console.log(`broker bench (in-process, ${SIZE} B messages, durability always, ${N} messages, window ${WINDOW})\n`)
console.log('| scenario | msg/s |')
console.log('|---|---|')
console.log(`| queue publish→deliver→ack, 1 consumer | ${fmt(await queueE2E(1))} |`)
console.log(`| queue publish→deliver→ack, 8 consumers | ${fmt(await queueE2E(8))} |`)
console.log(`| log append + tail read | ${fmt(await logAppendTail())} |`)
console.log(`| fan-out 1→10 (deliveries/s) | ${fmt(await fanOut())} |`)
const rss = await rssQueued()
console.log(
  `\nRSS with ${fmt(rss.count)} queued ${SIZE} B messages: ${rss.rssMB.toFixed(0)} MB (heap ${rss.heapMB.toFixed(0)} MB)`,
)
