// Kafka produce on a cluster of Wharf brokers over one PostgreSQL, 1 broker vs 3 brokers in the same run:
// kcat -P, N x 1 KiB, acks=all, spread over 6 partitions (random partitioner), time until kcat has every ack.
// Each broker is `wharf start --storage postgres://... --node-id N` (from source); the single broker runs in
// cluster mode too, so the two differ only in how many brokers share the partitions. The topic is created
// through broker 1 before the others start (they read it from the catalog when they open), then the run
// waits until the controller has spread the partitions over every broker.
// Run: node --import tsx bench/cluster.ts [--quick] [--reps 3]   (prints a Markdown table)
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { kafkaClient, waitForLeaders } from '../test/cluster/kafka-helpers.ts'
import { startPostgres } from '../test/fixtures/postgres.ts'
import { freePort, spawnWharf, type WharfProcess } from '../test/fixtures/wharf-process.ts'
import { quick } from './args.ts'
import { benchContext, cleanups, cpuSeconds } from './lib/postgres-bench.ts'

const N = quick ? 10_000 : 50_000
const PARTITIONS = 6
const repsArg = process.argv.indexOf('--reps')
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 1

interface Running {
  ports: number[]
  pids: number[]
}

/** Starts `count` brokers over the database with the topic created before brokers 2.. open; stops them after. */
async function withCluster<T>(url: string, count: number, topic: string, run: (c: Running) => Promise<T>) {
  const root = mkdtempSync(join(tmpdir(), 'wharf-bench-cluster-'))
  const brokers: WharfProcess[] = []
  const ports: number[] = []
  const start = async (nodeId: number) => {
    const port = await freePort()
    const wharf = spawnWharf([
      ...['--data-dir', join(root, `node-${nodeId}`), '--storage', url, '--node-id', String(nodeId)],
      ...['--kafka-port', String(port)],
    ])
    brokers.push(wharf)
    ports.push(port)
    await wharf.ready
  }
  try {
    await start(1)
    const admin = kafkaClient([`127.0.0.1:${ports[0]}`]).admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: false })
    await admin.disconnect()
    for (let id = 2; id <= count; id++) await start(id)
    const bootstrap = ports.map((p) => `127.0.0.1:${p}`)
    await waitForLeaders(
      kafkaClient(bootstrap),
      topic,
      (found) =>
        found.size === PARTITIONS && ![...found.values()].includes(-1) && new Set(found.values()).size === count,
      120_000,
    )
    return await run({ ports, pids: brokers.map((b) => b.proc.pid!) })
  } finally {
    for (const b of brokers) b.proc.kill('SIGTERM')
    await Promise.all(brokers.map((b) => b.exit))
    rmSync(root, { recursive: true, force: true })
  }
}

async function kcatProduce(ports: number[], topic: string, file: string): Promise<number> {
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const kcat = spawn(
      'kcat',
      [
        ...['-P', '-b', ports.map((p) => `127.0.0.1:${p}`).join(','), '-t', topic],
        ...['-X', 'acks=all', '-X', 'linger.ms=5', '-X', 'topic.partitioner=random', '-l', file],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let err = ''
    kcat.stderr.on('data', (d) => {
      err += d
    })
    kcat.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited ${code}: ${err}`))))
  })
  return N / ((performance.now() - t0) / 1000)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    for (const fn of cleanups.reverse()) await fn()
    process.exit(130)
  })
}

const server = await startPostgres(benchContext)
try {
  const file = join(server!.dir, 'messages.txt')
  writeFileSync(file, `${'x'.repeat(1023)}\n`.repeat(N))
  const postmaster = Number(readFileSync(join(server!.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0])
  const results: Array<{ brokers: number; rate: number }> = []
  for (let rep = 0; rep < REPS; rep++) {
    for (const count of [1, 3]) {
      const url = await server!.createDatabase(`bench_${rep}_${count}`)
      const rate = await withCluster(url, count, `bench-${rep}`, async ({ ports, pids }) => {
        const w0 = pids.map((pid) => cpuSeconds(pid))
        const p0 = cpuSeconds(postmaster, true)
        const t0 = performance.now()
        const rate = await kcatProduce(ports, `bench-${rep}`, file)
        const wall = (performance.now() - t0) / 1000
        const w = pids.map((pid, i) => (cpuSeconds(pid) - w0[i]!).toFixed(1))
        const p = cpuSeconds(postmaster, true) - p0
        console.error(
          `  ${count} broker(s): ${wall.toFixed(1)} s wall, Wharf CPU ${w.join(' + ')} s, PostgreSQL CPU ${p.toFixed(1)} s`,
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
    `| Kafka produce kcat ${N} x 1 KiB acks=all, ${PARTITIONS} partitions, PostgreSQL | ${Math.round(of(1))} | ${Math.round(of(3))} | ${(of(3) / of(1)).toFixed(2)}x |`,
  )
} finally {
  for (const fn of cleanups.reverse()) await fn()
}
