// The AMQP persistent work queue on a cluster of Wharf brokers over one PostgreSQL, 1 broker vs 3 brokers in the
// same run: QUEUES durable queues, one amqplib publisher (confirms, WINDOW outstanding) and one consumer
// (prefetch WINDOW, ack each) per queue, N x 1 KiB in all, time until every message is consumed. With 3 brokers
// queue i's publisher connects to broker i mod 3 and its consumer to broker (i + 1) mod 3, so most clients reach
// a broker that does not serve their queue and go through the broker-to-broker link (appends to the owner,
// deliveries relayed back). The queues are declared through broker 1 before the others start.
// Run: node --import tsx bench/cluster-amqp.ts [--quick] [--reps 3]   (prints a Markdown table)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import amqp from 'amqplib'
import { startPostgres } from '../test/fixtures/postgres.ts'
import { freePort, spawnWharf, type WharfProcess } from '../test/fixtures/wharf-process.ts'
import { quick } from './args.ts'
import { benchContext, cleanups, cpuSeconds } from './lib/postgres-bench.ts'

const N = quick ? 12_000 : 60_000
const QUEUES = 6
const WINDOW = 256
const repsArg = process.argv.indexOf('--reps')
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 1
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function withCluster<T>(url: string, count: number, run: (amqpPorts: number[], pids: number[]) => Promise<T>) {
  const root = mkdtempSync(join(tmpdir(), 'wharf-bench-cluster-amqp-'))
  const brokers: WharfProcess[] = []
  const amqpPorts: number[] = []
  const httpPorts: number[] = []
  const start = async (nodeId: number) => {
    const [port, http] = [await freePort(), await freePort()]
    const wharf = spawnWharf([
      ...['--data-dir', join(root, `node-${nodeId}`), '--storage', url, '--node-id', String(nodeId)],
      ...['--amqp-port', String(port), '--http-port', String(http)],
    ])
    brokers.push(wharf)
    amqpPorts.push(port)
    httpPorts.push(http)
    await wharf.ready
  }
  try {
    await start(1)
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${amqpPorts[0]}`)
    const channel = await connection.createChannel()
    for (let q = 0; q < QUEUES; q++) await channel.assertQueue(`work-${q}`, { durable: true })
    await connection.close()
    for (let id = 2; id <= count; id++) await start(id)
    // Wait until the controller has spread the queues' logs over every broker.
    const deadline = Date.now() + 120_000
    for (;;) {
      const view = (await (await fetch(`http://127.0.0.1:${httpPorts[0]}/api/v1/cluster`)).json()) as {
        streams: Array<{ name: string; owners: Array<{ owner: number } | null> }>
      }
      const owners = view.streams.filter((s) => s.name.startsWith('work-')).map((s) => s.owners[0]?.owner)
      if (owners.length === QUEUES && new Set(owners).size === count && !owners.includes(undefined)) break
      if (Date.now() > deadline) throw new Error(`queues never spread: ${JSON.stringify(owners)}`)
      await sleep(250)
    }
    await sleep(1500) // every broker moves its queue objects within a second of an owner change
    return await run(
      amqpPorts,
      brokers.map((b) => b.proc.pid!),
    )
  } finally {
    for (const b of brokers) b.proc.kill('SIGTERM')
    await Promise.all(brokers.map((b) => b.exit))
    rmSync(root, { recursive: true, force: true })
  }
}

async function workQueues(ports: number[]): Promise<number> {
  const per = N / QUEUES
  const body = Buffer.alloc(1024, 'x')
  const connections: amqp.ChannelModel[] = []
  const t0 = performance.now()
  const jobs = Array.from({ length: QUEUES }, async (_, q) => {
    const queue = `work-${q}`
    const consumerConnection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports[(q + 1) % ports.length]}`)
    const publisherConnection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports[q % ports.length]}`)
    connections.push(consumerConnection, publisherConnection)
    const consumer = await consumerConnection.createChannel()
    await consumer.prefetch(WINDOW)
    let got = 0
    const consumed = new Promise<void>((resolve) => {
      void consumer.consume(queue, (m) => {
        if (m === null) return
        consumer.ack(m)
        if (++got === per) resolve()
      })
    })
    const publisher = await publisherConnection.createConfirmChannel()
    for (let sent = 0; sent < per; ) {
      const batch = Math.min(WINDOW, per - sent)
      for (let i = 0; i < batch; i++) publisher.sendToQueue(queue, body, { persistent: true })
      sent += batch
      await publisher.waitForConfirms()
    }
    await consumed
  })
  await Promise.all(jobs)
  const seconds = (performance.now() - t0) / 1000
  for (const c of connections) await c.close().catch(() => {})
  return N / seconds
}

const server = await startPostgres(benchContext)
try {
  const postmaster = Number(readFileSync(join(server!.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0])
  const results: Array<{ brokers: number; rate: number }> = []
  for (let rep = 0; rep < REPS; rep++) {
    for (const count of [1, 3]) {
      const url = await server!.createDatabase(`bench_amqp_${rep}_${count}`)
      const rate = await withCluster(url, count, async (ports, pids) => {
        const w0 = pids.map((pid) => cpuSeconds(pid))
        const p0 = cpuSeconds(postmaster, true)
        const c0 = process.cpuUsage()
        const t0 = performance.now()
        const rate = await workQueues(ports)
        const wall = (performance.now() - t0) / 1000
        const w = pids.map((pid, i) => (cpuSeconds(pid) - w0[i]!).toFixed(1))
        const p = cpuSeconds(postmaster, true) - p0
        const c = process.cpuUsage(c0)
        console.error(
          `  ${count} broker(s): ${wall.toFixed(1)} s wall, Wharf CPU ${w.join(' + ')} s, PostgreSQL CPU ${p.toFixed(1)} s, clients CPU ${((c.user + c.system) / 1e6).toFixed(1)} s`,
        )
        return rate
      })
      results.push({ brokers: count, rate })
      console.error(`rep ${rep + 1}, ${count} broker(s): ${Math.round(rate)} msg/s`)
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!
  const of = (count: number) => median(results.filter((r) => r.brokers === count).map((r) => r.rate))
  console.log('| workload | 1 broker msg/s | 3 brokers msg/s | 3 / 1 |')
  console.log('|---|---|---|---|')
  console.log(
    `| AMQP work queues: ${QUEUES} durable queues, ${N} x 1 KiB persistent, confirms and acks, PostgreSQL | ${Math.round(of(1))} | ${Math.round(of(3))} | ${(of(3) / of(1)).toFixed(2)}x |`,
  )
} finally {
  for (const fn of cleanups.reverse()) await fn()
}
