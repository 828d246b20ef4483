// `wharf bench`: a load generator over the REST admin API (produce and read endpoints), since the CLI ships
// no Kafka/AMQP client library. It measures the broker plus HTTP/JSON, so its numbers are a floor for what
// the wire protocols reach, useful to compare two brokers or settings with the same command, not to size
// Kafka clients. Phase 1 produces --messages values of --size bytes in batches of --batch from --producers
// concurrent requests to a fresh stream; phase 2 reads them all back. Progress goes to stderr once a
// second; the summary (msgs/s, MB/s, produce request latency percentiles) to stdout.
import { randomBytes } from 'node:crypto'
import type { Command } from 'commander'
import { api, CliError, enc, type Json, print, progress, progressDone, type Target, withUrl } from './client.js'
import { positiveInt } from './commands.js'

const PROGRESS_MS = 1000
const READ_PAGE = 1000

interface Phase {
  messages: number
  bytes: number
  seconds: number
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

function rates(phase: Phase): { msgsPerSec: number; mbPerSec: number } {
  const s = Math.max(phase.seconds, 1e-9)
  return { msgsPerSec: Math.round(phase.messages / s), mbPerSec: Number((phase.bytes / s / 1e6).toFixed(2)) }
}

/** Calls `tick` every second until the returned stop function runs. */
function every(tick: () => void): () => void {
  const timer = setInterval(tick, PROGRESS_MS)
  return () => {
    clearInterval(timer)
    tick()
    progressDone()
  }
}

async function produce(o: Target & Json, stream: string, latencies: number[]): Promise<Phase> {
  const value = randomBytes(Math.ceil(o.size / 2))
    .toString('hex')
    .slice(0, o.size)
  let next = 0
  let sent = 0
  const started = performance.now()
  const stop = every(() => progress(`produce: ${sent}/${o.messages} messages`))
  const worker = async () => {
    for (;;) {
      const count = Math.min(o.batch, o.messages - next)
      if (count <= 0) return
      next += count
      const body = { encoding: 'text', messages: Array.from({ length: count }, () => ({ value })) }
      const t0 = performance.now()
      await api(o, 'POST', `/streams/${enc(stream)}/messages`, body)
      latencies.push(performance.now() - t0)
      sent += count
    }
  }
  try {
    await Promise.all(Array.from({ length: o.producers }, worker))
  } finally {
    stop()
  }
  return { messages: sent, bytes: sent * o.size, seconds: (performance.now() - started) / 1000 }
}

async function consume(o: Target & Json, stream: string, partitions: number): Promise<Phase> {
  let read = 0
  let bytes = 0
  const started = performance.now()
  const stop = every(() => progress(`consume: ${read}/${o.messages} messages`))
  try {
    for (let partition = 0; partition < partitions; partition++) {
      let offset = 0
      for (;;) {
        const page = await api(
          o,
          'GET',
          `/streams/${enc(stream)}/messages?partition=${partition}&offset=${offset}&limit=${READ_PAGE}&encoding=text`,
        )
        if (page.messages.length === 0) break
        for (const m of page.messages) bytes += Buffer.byteLength(String(m.value))
        read += page.messages.length
        offset = page.nextOffset
      }
    }
  } finally {
    stop()
  }
  return { messages: read, bytes, seconds: (performance.now() - started) / 1000 }
}

export function registerBenchCommand(program: Command): void {
  withUrl(
    program
      .command('bench')
      .description('load generator over the REST API: produce then consume, with throughput and latency')
      .option('-m, --messages <n>', 'messages to produce', positiveInt, 10_000)
      .option('-s, --size <bytes>', 'value size', positiveInt, 100)
      .option('-b, --batch <n>', 'messages per produce request (1-1000)', positiveInt, 100)
      .option('-c, --producers <n>', 'concurrent produce requests', positiveInt, 4)
      .option('-p, --partitions <n>', 'partitions of the bench stream', positiveInt, 1)
      .option('--stream <name>', 'stream to use (default: a new wharf-bench-<random>, deleted afterwards)')
      .option('--json', 'print the summary as JSON'),
  ).action(async (o) => {
    if (o.batch < 1 || o.batch > 1000) throw new CliError('--batch must be 1-1000')
    if (o.producers < 1 || o.partitions < 1) throw new CliError('--producers and --partitions must be at least 1')
    const own = o.stream === undefined
    const stream: string = o.stream ?? `wharf-bench-${randomBytes(4).toString('hex')}`
    if (own) await api(o, 'POST', '/streams', { name: stream, partitions: o.partitions })
    const partitions = (await api(o, 'GET', `/streams/${enc(stream)}`)).partitions.length as number
    try {
      const latencies: number[] = []
      const produced = await produce(o, stream, latencies)
      const consumed = await consume(o, stream, partitions)
      latencies.sort((a, b) => a - b)
      const ms = (v: number) => Number(v.toFixed(2))
      const result = {
        transport: 'REST /api/v1 (HTTP + JSON)',
        stream,
        messageBytes: o.size,
        batch: o.batch,
        producers: o.producers,
        produce: { ...produced, ...rates(produced) },
        consume: { ...consumed, ...rates(consumed) },
        produceRequestLatencyMs: {
          requests: latencies.length,
          p50: ms(percentile(latencies, 50)),
          p95: ms(percentile(latencies, 95)),
          p99: ms(percentile(latencies, 99)),
          max: ms(latencies.at(-1) ?? 0),
        },
      }
      if (o.json) return print(result)
      const p = result.produce
      const c = result.consume
      const l = result.produceRequestLatencyMs
      print(
        [
          `bench over ${result.transport}: ${o.messages} x ${o.size} B, batches of ${o.batch}, ${o.producers} producer(s), ${partitions} partition(s)`,
          `produce: ${p.messages} msgs in ${p.seconds.toFixed(2)} s = ${p.msgsPerSec} msgs/s, ${p.mbPerSec} MB/s`,
          `consume: ${c.messages} msgs in ${c.seconds.toFixed(2)} s = ${c.msgsPerSec} msgs/s, ${c.mbPerSec} MB/s`,
          `produce request latency (ms, ${l.requests} requests of ${o.batch}): p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}`,
        ].join('\n'),
      )
    } finally {
      if (own) await api(o, 'DELETE', `/streams/${enc(stream)}`)
    }
  })
}
