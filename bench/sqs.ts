// SQS over HTTP with the real AWS SDK: C clients each loop SendMessageBatch (10 × 1 KiB), and C clients
// loop ReceiveMessage (10, long poll) + DeleteMessageBatch, against an in-process broker and HTTP
// listener (durability 'always'). Reports messages/s end to end and p50/p99 of each call.
// Run: node --import tsx bench/sqs.ts [--quick] [--clients N]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { createBroker } from '../src/index.ts'
import { startHttpListener } from '../src/protocols/http/listener.ts'
import { silentLogger } from '../src/util/logger.ts'

const quick = process.argv.includes('--quick')
const clientsAt = process.argv.indexOf('--clients')
const CLIENTS = clientsAt > 0 ? Number(process.argv[clientsAt + 1]) : 4
const MESSAGES = quick ? 5_000 : 50_000
const BODY = 'x'.repeat(1024)

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-sqsbench-'))
  const broker = await createBroker({ dataDir: dir })
  const listener = await startHttpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  const endpoint = `http://127.0.0.1:${listener.port}`
  const client = () =>
    new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } })
  try {
    const admin = client()
    const { QueueUrl } = await admin.send(new CreateQueueCommand({ QueueName: 'bench' }))
    const sendLatency: number[] = []
    const receiveLatency: number[] = []
    let sent = 0
    let received = 0
    const started = performance.now()
    const producers = Array.from({ length: CLIENTS }, async () => {
      const sqs = client()
      while (sent < MESSAGES) {
        sent += 10
        const t0 = performance.now()
        await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: BODY })),
          }),
        )
        sendLatency.push(performance.now() - t0)
      }
      sqs.destroy()
    })
    const consumers = Array.from({ length: CLIENTS }, async () => {
      const sqs = client()
      while (received < MESSAGES) {
        const t0 = performance.now()
        const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))
        const messages = got.Messages ?? []
        if (messages.length === 0) continue
        received += messages.length
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
          }),
        )
        receiveLatency.push(performance.now() - t0)
      }
      sqs.destroy()
    })
    await Promise.all([...producers, ...consumers])
    const seconds = (performance.now() - started) / 1000
    sendLatency.sort((a, b) => a - b)
    receiveLatency.sort((a, b) => a - b)
    const ms = (n: number) => n.toFixed(1)
    process.stdout.write(
      `sqs ${CLIENTS}+${CLIENTS} clients, ${received} msgs of 1 KiB in ${seconds.toFixed(2)} s: ${Math.round(received / seconds)} msg/s end to end\n` +
        `  SendMessageBatch p50 ${ms(percentile(sendLatency, 0.5))} ms p99 ${ms(percentile(sendLatency, 0.99))} ms\n` +
        `  Receive+DeleteBatch p50 ${ms(percentile(receiveLatency, 0.5))} ms p99 ${ms(percentile(receiveLatency, 0.99))} ms\n`,
    )
    admin.destroy()
  } finally {
    await listener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
