// SQS over HTTP with the real AWS SDK, end to end. The SDK's per-call CPU (signing, middleware) is far
// larger than the server's, so clients and server run in separate processes (in one process they share
// one event loop and the figure measures the SDK): this file forks
//   - one server process: in-process broker + HTTP listener,
//   - P producer processes, each looping SendMessageBatch (10 × 1 KiB) with K calls in flight,
//   - P consumer processes, each looping ReceiveMessage (10, long poll 1 s) + DeleteMessageBatch, K loops,
// each client process with its own SQSClient. Reports messages/s end to end (first send to last receive)
// and p50/p99 of each call.
// Run: node --import tsx bench/sqs.ts [--quick] [--clients P] [--inflight K] [--messages N]
//        [--durability always|interval|never]   (default always: every send is fsynced before the reply)
//        [--raw]   (clients speak plain HTTP + JSON instead of the SDK: the server's capacity alone)
//        [--profile DIR] [--profile-clients]   (--cpu-prof for the server, and the clients too; profiles in DIR)
import { type ChildProcess, fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'

const BODY = 'x'.repeat(1024)
const BATCH = 10

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name)
  return at > 0 ? Number(process.argv[at + 1]) : fallback
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

function sqsClient(port: number): SQSClient {
  return new SQSClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  })
}

// ---- clients: the AWS SDK, or (--raw) plain keep-alive HTTP + JSON, to measure the server without the SDK's CPU ----

interface BenchClient {
  sendBatch(entries: Array<{ Id: string; MessageBody: string }>): Promise<{ failed: number }>
  receive(max: number, waitSeconds: number): Promise<Array<{ ReceiptHandle?: string | undefined }>>
  deleteBatch(entries: Array<{ Id: string; ReceiptHandle: string | undefined }>): Promise<{ failed: number }>
  warmUp(): Promise<void>
  close(): void
}

function sdkClient(port: number, queueUrl: string): BenchClient {
  const sqs = sqsClient(port)
  return {
    async sendBatch(entries) {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }))
      return { failed: (out.Failed ?? []).length }
    },
    async receive(max, waitSeconds) {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: max, WaitTimeSeconds: waitSeconds }),
      )
      return got.Messages ?? []
    },
    async deleteBatch(entries) {
      const out = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }))
      return { failed: (out.Failed ?? []).length }
    },
    async warmUp() {
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))
    },
    close: () => sqs.destroy(),
  }
}

function rawClient(port: number, queueUrl: string): BenchClient {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const call = (action: string, input: object): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ QueueUrl: queueUrl, ...input })
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/',
          agent,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': `AmazonSQS.${action}`,
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          const chunks: Buffer[] = []
          response.on('data', (c: Buffer) => chunks.push(c))
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            if (response.statusCode !== 200) reject(new Error(`${action}: ${response.statusCode} ${text}`))
            else resolve(JSON.parse(text) as Record<string, unknown>)
          })
          response.on('error', reject)
        },
      )
      request.on('error', reject)
      request.end(body)
    })
  const failed = (out: Record<string, unknown>) => (Array.isArray(out.Failed) ? out.Failed.length : 0)
  return {
    sendBatch: async (entries) => ({ failed: failed(await call('SendMessageBatch', { Entries: entries })) }),
    async receive(max, waitSeconds) {
      const out = await call('ReceiveMessage', { MaxNumberOfMessages: max, WaitTimeSeconds: waitSeconds })
      return (out.Messages as Array<{ ReceiptHandle?: string }> | undefined) ?? []
    },
    deleteBatch: async (entries) => ({ failed: failed(await call('DeleteMessageBatch', { Entries: entries })) }),
    async warmUp() {
      await call('GetQueueAttributes', { AttributeNames: ['All'] })
    },
    close: () => agent.destroy(),
  }
}

function benchClient(port: number, queueUrl: string): BenchClient {
  return process.argv.includes('--raw') ? rawClient(port, queueUrl) : sdkClient(port, queueUrl)
}

// ---- messages between the orchestrator and its children ----

type ToChild = { type: 'go' } | { type: 'stop' }
type FromChild =
  | { type: 'listening'; port: number }
  | { type: 'ready' }
  | { type: 'progress'; count: number }
  | { type: 'done'; count: number; lastAt: number; latencies: number[]; cpuMs: number }

/** CPU time (user + system) this process used since `since`, in ms. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1000
}

function send(message: FromChild): void {
  process.send?.(message)
}

/** A client's last message; it then exits on its own (not killed), so --cpu-prof can write its profile. */
function finish(message: FromChild): void {
  process.send?.(message, () => process.disconnect())
}

function next<T extends FromChild['type']>(child: ChildProcess, type: T): Promise<Extract<FromChild, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromChild) => {
      if (m.type !== type) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(m as Extract<FromChild, { type: T }>)
    }
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before '${type}'`))
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

function waitFor(type: ToChild['type']): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: ToChild) => {
      if (m.type !== type) return
      process.off('message', on)
      resolve()
    }
    process.on('message', on)
  })
}

// ---- roles ----

async function serverRole(): Promise<void> {
  const { createBroker } = await import('../src/index.ts')
  const { startHttpListener } = await import('../src/protocols/http/listener.ts')
  const { silentLogger } = await import('../src/util/logger.ts')
  const dir = mkdtempSync(join(tmpdir(), 'wharf-sqsbench-'))
  const durabilityAt = process.argv.indexOf('--durability')
  const durability = durabilityAt > 0 ? process.argv[durabilityAt + 1] : 'always'
  if (durability !== 'always' && durability !== 'interval' && durability !== 'never')
    throw new Error('--durability must be always, interval or never')
  const broker = await createBroker({ dataDir: dir, durability })
  const listener = await startHttpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  send({ type: 'listening', port: listener.port })
  await waitFor('go')
  const cpu = process.cpuUsage()
  await waitFor('stop')
  send({ type: 'done', count: 0, lastAt: Date.now(), latencies: [], cpuMs: cpuMs(cpu) })
  await listener.close()
  await broker.close()
  rmSync(dir, { recursive: true, force: true })
  // Exit normally (not process.exit) so --cpu-prof writes its profile.
  process.disconnect()
}

async function producerRole(port: number, queueUrl: string, quota: number, inflight: number): Promise<void> {
  const client = benchClient(port, queueUrl)
  const entries = Array.from({ length: BATCH }, (_, i) => ({ Id: `m${i}`, MessageBody: BODY }))
  await client.sendBatch(entries.slice(0, 1)) // warm-up
  send({ type: 'ready' })
  await waitFor('go')
  const cpu = process.cpuUsage()
  const latencies: number[] = []
  let sent = 1 // the warm-up message counts: consumers receive it
  let lastAt = Date.now()
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (sent < quota) {
        const n = Math.min(BATCH, quota - sent)
        sent += n
        const t0 = performance.now()
        const out = await client.sendBatch(entries.slice(0, n))
        if (out.failed > 0) throw new Error(`${out.failed} sends failed`)
        latencies.push(performance.now() - t0)
        lastAt = Date.now()
      }
    }),
  )
  client.close()
  finish({ type: 'done', count: sent, lastAt, latencies, cpuMs: cpuMs(cpu) })
}

async function consumerRole(port: number, queueUrl: string, inflight: number): Promise<void> {
  const client = benchClient(port, queueUrl)
  // Warm-up that consumes nothing (a received warm-up message would stay invisible for 30 s).
  await client.warmUp()
  send({ type: 'ready' })
  await waitFor('go')
  const cpu = process.cpuUsage()
  let stopped = false
  void waitFor('stop').then(() => {
    stopped = true
  })
  const latencies: number[] = []
  let received = 0
  const progress = setInterval(() => send({ type: 'progress', count: received }), 50)
  let lastAt = Date.now()
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (!stopped) {
        const t0 = performance.now()
        const messages = await client.receive(BATCH, 1)
        if (messages.length === 0) continue
        const out = await client.deleteBatch(messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })))
        if (out.failed > 0) throw new Error(`${out.failed} deletes failed`)
        received += messages.length
        lastAt = Date.now()
        latencies.push(performance.now() - t0)
      }
    }),
  )
  clearInterval(progress)
  client.close()
  finish({ type: 'done', count: received, lastAt, latencies, cpuMs: cpuMs(cpu) })
}

// ---- orchestrator ----

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const clients = arg('--clients', 4)
  const inflight = arg('--inflight', 4)
  const messages = arg('--messages', quick ? 10_000 : 100_000)
  const profileAt = process.argv.indexOf('--profile')
  const profileDir = profileAt > 0 ? process.argv[profileAt + 1] : undefined
  const self = fileURLToPath(import.meta.url)
  const children: ChildProcess[] = []
  const profileClients = process.argv.includes('--profile-clients')
  const spawn = (role: string[], profile = profileClients) => {
    const execArgv = [
      ...process.execArgv,
      ...(profile && profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    ]
    const child = fork(self, role, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.push(child)
    return child
  }
  const durabilityAt = process.argv.indexOf('--durability')
  const durability = durabilityAt > 0 ? process.argv[durabilityAt + 1]! : 'always'
  const server = spawn(['--role', 'server', '--durability', durability], true)
  try {
    const { port } = await next(server, 'listening')
    const admin = sqsClient(port)
    const { QueueUrl } = await admin.send(new CreateQueueCommand({ QueueName: 'bench' }))
    admin.destroy()
    const url = QueueUrl!
    const quota = Math.ceil(messages / clients)
    const rawFlag = process.argv.includes('--raw') ? ['--raw'] : []
    const producers = Array.from({ length: clients }, () =>
      spawn(['--role', 'producer', String(port), url, String(quota), String(inflight), ...rawFlag]),
    )
    const consumers = Array.from({ length: clients }, () =>
      spawn(['--role', 'consumer', String(port), url, String(inflight), ...rawFlag]),
    )
    const total = quota * clients
    await Promise.all([...producers, ...consumers].map((c) => next(c, 'ready')))
    const counts = new Map<ChildProcess, number>()
    const allReceived = new Promise<void>((resolve) => {
      for (const c of consumers)
        c.on('message', (m: FromChild) => {
          if (m.type !== 'progress') return
          counts.set(c, m.count)
          let sum = 0
          for (const n of counts.values()) sum += n
          if (sum >= total) resolve()
        })
    })
    const producersDone = producers.map((c) => next(c, 'done'))
    const consumersDone = consumers.map((c) => next(c, 'done'))
    const started = Date.now()
    const serverDone = next(server, 'done')
    for (const c of [server, ...producers, ...consumers]) c.send({ type: 'go' } satisfies ToChild)
    const sent = await Promise.all(producersDone)
    await allReceived
    for (const c of consumers) c.send({ type: 'stop' } satisfies ToChild)
    const got = await Promise.all(consumersDone)
    const received = got.reduce((n, r) => n + r.count, 0)
    const ended = Math.max(...got.map((r) => r.lastAt))
    const sendSeconds = (Math.max(...sent.map((r) => r.lastAt)) - started) / 1000
    const seconds = (ended - started) / 1000
    const sendLatency = sent.flatMap((r) => r.latencies).sort((a, b) => a - b)
    const receiveLatency = got.flatMap((r) => r.latencies).sort((a, b) => a - b)
    server.send({ type: 'stop' } satisfies ToChild)
    const serverCpu = (await serverDone).cpuMs
    const producerCpu = sent.reduce((n, r) => n + r.cpuMs, 0)
    const consumerCpu = got.reduce((n, r) => n + r.cpuMs, 0)
    const perMessage = (cpu: number) => `${((cpu / received) * 1000).toFixed(0)} µs/msg`
    const ms = (n: number) => n.toFixed(1)
    process.stdout.write(
      `sqs ${rawFlag.length > 0 ? 'raw HTTP' : 'AWS SDK'} ${clients}+${clients} client processes × ${inflight} in flight, ${received}/${total} msgs of 1 KiB in ${seconds.toFixed(2)} s: ` +
        `${Math.round(received / seconds)} msg/s end to end (sends done in ${sendSeconds.toFixed(2)} s: ${Math.round(total / sendSeconds)} msg/s)\n` +
        `  SendMessageBatch p50 ${ms(percentile(sendLatency, 0.5))} ms p99 ${ms(percentile(sendLatency, 0.99))} ms\n` +
        `  Receive+DeleteBatch p50 ${ms(percentile(receiveLatency, 0.5))} ms p99 ${ms(percentile(receiveLatency, 0.99))} ms` +
        ` (${(received / Math.max(1, receiveLatency.length)).toFixed(1)} msgs per non-empty receive)\n` +
        `  CPU: server ${perMessage(serverCpu)}, producers ${perMessage(producerCpu)}, consumers ${perMessage(consumerCpu)}` +
        ` (${(((serverCpu + producerCpu + consumerCpu) / 1000 / seconds) * 100).toFixed(0)}% of one core)\n`,
    )
    // Children exit by themselves (profiles get written); the finally kills stragglers.
    await Promise.all(children.map((c) => exited(c, 15_000)))
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) c.kill()
  }
}

const roleAt = process.argv.indexOf('--role')
const role = roleAt > 0 ? process.argv[roleAt + 1] : undefined
const rest = process.argv.slice(roleAt + 2)
if (role === 'server') await serverRole()
else if (role === 'producer') await producerRole(Number(rest[0]), rest[1]!, Number(rest[2]), Number(rest[3]))
else if (role === 'consumer') await consumerRole(Number(rest[0]), rest[1]!, Number(rest[2]))
else await main()
