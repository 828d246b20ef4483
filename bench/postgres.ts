// The PostgreSQL storage engine beside the local one, in the same run: `wharf start` (from source) on each
// backend in turn, then
//   - Kafka produce: kcat -P, N x 1 KiB, acks=all, one partition (time until kcat has every ack);
//   - AMQP persistent work queue: amqplib, N x 1 KiB persistent publishes with confirms (a window in flight)
//     while one consumer acks each delivery (time until the last ack).
// PostgreSQL is a private server from test/fixtures/postgres.ts (fsync=on, synchronous_commit=on).
// Run: node --import tsx bench/postgres.ts [--quick] [--reps 3]   (prints a Markdown table)
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import amqp from 'amqplib'
import { startPostgres } from '../test/fixtures/postgres.ts'
import { freePort, spawnWharf } from '../test/fixtures/wharf-process.ts'
import { quick } from './args.ts'
import { benchContext, cleanups, cpuSeconds } from './lib/postgres-bench.ts'

const KAFKA_N = quick ? 10_000 : 50_000
const AMQP_N = quick ? 5_000 : 20_000
const CONFIRM_WINDOW = 500
const repsArg = process.argv.indexOf('--reps')
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 1

/** Children running now (Wharf, kcat): an interrupted run stops them too. */
const children = new Set<ChildProcess>()

function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

async function withWharf<T>(storage: string, run: (ports: { kafka: number; amqp: number }, pid: number) => Promise<T>) {
  const root = mkdtempSync(join(tmpdir(), 'wharf-bench-pg-'))
  const ports = { kafka: await freePort(), amqp: await freePort() }
  const wharf = spawnWharf([
    ...['--data-dir', join(root, 'data'), '--storage', storage, '--durability', 'always'],
    ...['--kafka-port', String(ports.kafka), '--amqp-port', String(ports.amqp)],
  ])
  track(wharf.proc)
  const removeRoot = () => rmSync(root, { recursive: true, force: true })
  cleanups.push(removeRoot)
  try {
    await wharf.ready
    return await run(ports, wharf.proc.pid!)
  } finally {
    wharf.proc.kill('SIGTERM')
    await wharf.exit
    removeRoot()
    cleanups.splice(cleanups.indexOf(removeRoot), 1)
  }
}

async function kcatProduce(port: number, topic: string, file: string): Promise<number> {
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const kcat = track(
      spawn(
        'kcat',
        ['-P', '-b', `127.0.0.1:${port}`, '-t', topic, '-p', '0', '-X', 'acks=all', '-X', 'linger.ms=5', '-l', file],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      ),
    )
    let err = ''
    kcat.stderr!.on('data', (d) => {
      err += d
    })
    kcat.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited ${code}: ${err}`))))
  })
  return KAFKA_N / ((performance.now() - t0) / 1000)
}

async function amqpWorkQueue(port: number, queue: string): Promise<number> {
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`)
  try {
    const pub = await connection.createConfirmChannel()
    const sub = await connection.createChannel()
    await pub.assertQueue(queue, { durable: true })
    await sub.prefetch(200)
    const body = Buffer.alloc(1024, 'x')
    const t0 = performance.now()
    let acked = 0
    const consumed = new Promise<void>((resolve) => {
      void sub.consume(queue, (msg) => {
        if (msg === null) return
        sub.ack(msg)
        if (++acked === AMQP_N) resolve()
      })
    })
    let inflight = 0
    let wake: () => void = () => {}
    for (let i = 0; i < AMQP_N; i++) {
      while (inflight >= CONFIRM_WINDOW) await new Promise<void>((r) => (wake = r))
      inflight++
      pub.sendToQueue(queue, body, { persistent: true }, () => {
        inflight--
        wake()
      })
    }
    await pub.waitForConfirms()
    await consumed
    return AMQP_N / ((performance.now() - t0) / 1000)
  } finally {
    await connection.close()
  }
}

// Interrupted (Ctrl-C, a timeout): stop the children (by PID, SIGKILL after 10 s), then the private
// PostgreSQL, and remove the directories.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await Promise.all(
      [...children].map(async (child) => {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }),
    )
    for (const fn of cleanups.reverse()) await fn()
    process.exit(130)
  })
}

const server = await startPostgres(benchContext)
try {
  const file = join(server!.dir, 'messages.txt')
  writeFileSync(file, `${'x'.repeat(1023)}\n`.repeat(KAFKA_N))
  const results: Array<{ backend: string; kafka: number; amqp: number }> = []
  const postmaster = Number(readFileSync(join(server!.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0])
  /** Runs work, printing the CPU seconds Wharf and PostgreSQL spent on it. */
  const measured = async (label: string, wharfPid: number, work: () => Promise<number>) => {
    const w0 = cpuSeconds(wharfPid)
    const p0 = cpuSeconds(postmaster, true)
    const t0 = performance.now()
    const rate = await work()
    const wall = (performance.now() - t0) / 1000
    const w = cpuSeconds(wharfPid) - w0
    const p = cpuSeconds(postmaster, true) - p0
    console.error(
      `  ${label}: ${wall.toFixed(1)} s wall, Wharf CPU ${w.toFixed(1)} s, PostgreSQL CPU ${p.toFixed(1)} s`,
    )
    return rate
  }
  for (let rep = 0; rep < REPS; rep++) {
    for (const backend of ['local', 'postgres']) {
      const storage = backend === 'local' ? 'local' : await server!.createDatabase(`bench_${rep}`)
      const row = await withWharf(storage, async (ports, pid) => ({
        backend,
        kafka: await measured(`${backend} kafka`, pid, () => kcatProduce(ports.kafka, `bench-${rep}`, file)),
        amqp: await measured(`${backend} amqp`, pid, () => amqpWorkQueue(ports.amqp, `work-${rep}`)),
      }))
      if (backend === 'postgres') {
        const pg = (await import('pg')).default
        const client = new pg.Client({ connectionString: storage })
        await client.connect()
        const { rows } = await client.query(
          `SELECT l.name, count(c.*) AS chunks, round(avg(c.last_offset - c.base_offset + 1), 1) AS records_per_chunk,
                  round(avg(octet_length(c.batches))) AS bytes_per_chunk
           FROM wharf_log l JOIN wharf_chunk c ON c.log_id = l.id GROUP BY l.name ORDER BY l.name`,
        )
        await client.end()
        for (const r of rows)
          console.error(
            `  log ${r.name}: ${r.chunks} chunk rows, ${r.records_per_chunk} records and ${r.bytes_per_chunk} bytes per row`,
          )
      }
      results.push(row)
      console.error(
        `rep ${rep + 1} ${backend}: kafka ${Math.round(row.kafka)} msg/s, amqp ${Math.round(row.amqp)} msg/s`,
      )
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!
  const of = (backend: string, key: 'kafka' | 'amqp') =>
    median(results.filter((r) => r.backend === backend).map((r) => r[key]))
  console.log(`| workload | local msg/s | postgres msg/s | postgres / local |`)
  console.log(`|---|---|---|---|`)
  for (const [key, label] of [
    ['kafka', `Kafka produce kcat ${KAFKA_N} x 1 KiB acks=all, 1 partition`],
    ['amqp', `AMQP persistent work queue ${AMQP_N} x 1 KiB, confirms + acks`],
  ] as const) {
    const local = of('local', key)
    const pg = of('postgres', key)
    console.log(`| ${label} | ${Math.round(local)} | ${Math.round(pg)} | ${((pg / local) * 100).toFixed(0)}% |`)
  }
} finally {
  for (const fn of cleanups.reverse()) await fn()
}
