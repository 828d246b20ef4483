import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { SNSClient } from '@aws-sdk/client-sns'
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import type { Broker } from '../../../src/index.ts'
import { type HttpListener, type HttpListenerContext, startHttpListener } from '../../../src/protocols/http/listener.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'

export interface Harness {
  broker: Broker
  listener: HttpListener
  url: string
  dir: string
}

/** A broker and the HTTP listener (with `config`, the server config it reads; `context`, more listener settings), closed after the test. */
export async function startHarness(
  t: TestContext,
  dir?: string,
  config?: HttpListenerContext['config'],
  context: Partial<HttpListenerContext> = {},
): Promise<Harness> {
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'wharf-http-'))
  if (dir === undefined) t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const broker = await createTestBroker({ dataDir, durability: 'never' })
  const listener = await startHttpListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    ...(config === undefined ? {} : { config }),
    ...context,
  })
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await listener.close().catch(() => {})
    await broker.close()
  }
  t.after(close)
  return { broker, listener, url: `http://127.0.0.1:${listener.port}`, dir: dataDir }
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

export function sqsClient(t: TestContext, url: string): SQSClient {
  const client = new SQSClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 })
  t.after(() => client.destroy())
  return client
}

export function snsClient(t: TestContext, url: string): SNSClient {
  const client = new SNSClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 })
  t.after(() => client.destroy())
  return client
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Receives (and deletes) until the queue answers empty; the ids (each body's text before its `|`). */
export async function drainIds(sqs: SQSClient, QueueUrl: string): Promise<string[]> {
  const ids: string[] = []
  for (;;) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 600 }),
    )
    if (Messages === undefined || Messages.length === 0) return ids
    for (const m of Messages) ids.push(m.Body!.slice(0, m.Body!.indexOf('|')))
    // On a full disk a delete may fail to be recorded: the message would come back, which SQS allows.
    await sqs
      .send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      )
      .catch(() => {})
  }
}
