// SQS on a real full disk (a small tmpfs, disk alarm off so the writes themselves fail), through the AWS SDK
// v3: a send that could not be stored gets 503 ServiceUnavailable, which the SDK retries (and gives up on, reporting its attempts),
// never a 200; receives keep working, deleting a queue frees its space, sending works again without a
// restart, and every message that got a 200 is there after a SIGKILL and restart. Needs root (mount).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { startFullDiskWharf } from '../../../fixtures/full-disk-wharf.ts'
import { drainIds } from '../helpers.ts'

const BODY = 8 * 1024
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

/** Sends ten messages in one batch; the ids the broker accepted, and whether any entry or the call failed. */
async function sendBatch(sqs: SQSClient, QueueUrl: string, ids: string[]): Promise<{ ok: string[]; failed: boolean }> {
  try {
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: ids.map((id, i) => ({ Id: String(i), MessageBody: `${id}|${'x'.repeat(BODY)}` })),
      }),
    )
    return { ok: (out.Successful ?? []).map((s) => ids[Number(s.Id)]!), failed: (out.Failed ?? []).length > 0 }
  } catch {
    return { ok: [], failed: true }
  }
}

test('AWS SDK SendMessage on a full disk: a retried 5xx, never a 200 for what was not stored; recovery; nothing lost', {
  timeout: 120_000,
}, async (t) => {
  const w = await startFullDiskWharf(t, {
    size: '12m',
    portFlag: '--http-port',
    args: ['--disk-free-limit-bytes', '0'],
  })
  if (w === undefined) return
  const endpoint = `http://127.0.0.1:${w.port}`
  const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 })
  t.after(() => sqs.destroy())
  const work = (await sqs.send(new CreateQueueCommand({ QueueName: 'work' }))).QueueUrl!
  const ballast = (await sqs.send(new CreateQueueCommand({ QueueName: 'ballast' }))).QueueUrl!

  // Fill, alternating between the queues, until a send fails.
  const sent = new Set<string>()
  let failed = false
  for (let round = 0; !failed && round < 1000; round++) {
    const [a, b] = await Promise.all(
      ['work', 'ballast'].map((kind) =>
        sendBatch(
          sqs,
          kind === 'work' ? work : ballast,
          Array.from({ length: 10 }, (_, i) => `${kind}-${round}-${i}`),
        ),
      ),
    )
    for (const r of [a!, b!]) {
      for (const id of r.ok) sent.add(id)
      failed ||= r.failed
    }
  }
  assert.ok(failed, 'a send failed once the disk was full')
  assert.ok(w.free() < 64 * 1024, `the disk is full (${w.free()} bytes free)`)

  // A single send now: a server error (5xx) that the SDK's standard retry strategy retries.
  const retrying = new SQSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 3 })
  t.after(() => retrying.destroy())
  const body = `work-single|${'x'.repeat(BODY)}`
  let single: { status?: number; attempts?: number; fault?: string } | undefined
  for (let i = 0; i < 50 && single === undefined; i++) {
    try {
      await retrying.send(new SendMessageCommand({ QueueUrl: work, MessageBody: body }))
      sent.add('work-single') // a failed write gives its pages back, so one may still fit
    } catch (error) {
      const e = error as { $metadata?: { httpStatusCode?: number; attempts?: number }; $fault?: string }
      single = { status: e.$metadata?.httpStatusCode, attempts: e.$metadata?.attempts, fault: e.$fault }
    }
  }
  assert.ok(single !== undefined, 'sends keep failing while the disk is full')
  assert.equal(single.status, 503, `ServiceUnavailable, got ${JSON.stringify(single)}`)
  assert.equal(single.fault, 'server')
  assert.equal(single.attempts, 3, 'the SDK retried it')

  // Receives keep working.
  const drained = await drainIds(sqs, work)
  const sentWork = [...sent].filter((id) => id.startsWith('work-'))
  for (const id of sentWork) assert.ok(drained.includes(id), `${id} (200) was received`)

  // Deleting the ballast queue frees its space; sending recovers without a restart.
  const freeFull = w.free()
  await sqs.send(new DeleteQueueCommand({ QueueUrl: ballast }))
  assert.ok(w.free() > freeFull + 2 * 1024 * 1024, `space came back (${freeFull} → ${w.free()} bytes free)`)
  const after = Array.from({ length: 20 }, (_, i) => `work-after-${i}`)
  for (const id of after) await sqs.send(new SendMessageCommand({ QueueUrl: work, MessageBody: `${id}|x` }))

  // Every message that got a 200 survives a SIGKILL.
  await w.restart()
  const restarted = await drainIds(sqs, work)
  for (const id of after) assert.ok(restarted.includes(id), `${id} survived the restart`)
  for (const id of sentWork) assert.ok(drained.includes(id) || restarted.includes(id))
})
