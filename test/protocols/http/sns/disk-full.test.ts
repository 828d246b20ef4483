// SNS Publish on a real full disk (a small tmpfs, disk alarm off so the writes themselves fail), through the
// AWS SDK v3: a publish whose message could not be stored in a subscribed queue gets 503 ServiceUnavailable
// (AWS's common temporary-failure error, as SQS answers; the SDK retries it as a server fault), never a 200;
// a PublishBatch entry that could not be stored is Failed with that code and SenderFault false; deleting a
// subscribed queue frees its space and publishing works again without a restart; every message whose
// publish got a 200 is in the queue after a SIGKILL and restart. Needs root (mount).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CreateTopicCommand,
  PublishBatchCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns'
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs'
import { startFullDiskWharf } from '../../../fixtures/full-disk-wharf.ts'
import { drainIds } from '../helpers.ts'

const BODY = 64 * 1024
const region = 'us-east-1'
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

/** Publishes one message; true when it got a 200. */
async function publish(sns: SNSClient, TopicArn: string, id: string): Promise<boolean> {
  try {
    await sns.send(new PublishCommand({ TopicArn, Message: `${id}|${'x'.repeat(BODY)}` }))
    return true
  } catch {
    return false
  }
}

test('AWS SDK SNS Publish on a full disk: a retried 503 ServiceUnavailable, never a 200 for what was not stored; recovery; nothing lost', {
  timeout: 180_000,
}, async (t) => {
  const w = await startFullDiskWharf(t, {
    size: '12m',
    portFlag: '--http-port',
    args: ['--disk-free-limit-bytes', '0'],
  })
  if (w === undefined) return
  const endpoint = `http://127.0.0.1:${w.port}`
  const sns = new SNSClient({ endpoint, region, credentials, maxAttempts: 1 })
  const sqs = new SQSClient({ endpoint, region, credentials, maxAttempts: 1 })
  t.after(() => {
    sns.destroy()
    sqs.destroy()
  })
  // Raw delivery: the queue holds the published text itself, so a drained body names its publish.
  const queue = async (QueueName: string, TopicArn: string) => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName }))
    const Endpoint = `arn:aws:sqs:${region}:000000000000:${QueueName}`
    await sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint, Attributes: { RawMessageDelivery: 'true' } }),
    )
    return QueueUrl!
  }
  const work = (await sns.send(new CreateTopicCommand({ Name: 'work' }))).TopicArn!
  const ballast = (await sns.send(new CreateTopicCommand({ Name: 'ballast' }))).TopicArn!
  const workQueue = await queue('work', work)
  const ballastQueue = await queue('ballast', ballast)

  // Fill, alternating between the topics, until a publish fails.
  const published = new Set<string>()
  let failed = false
  for (let n = 0; !failed && n < 2000; n++) {
    const results = await Promise.all(
      (['work', 'ballast'] as const).map(async (kind) => {
        const id = `${kind}-${n}`
        const ok = await publish(sns, kind === 'work' ? work : ballast, id)
        if (ok) published.add(id)
        return ok
      }),
    )
    failed = results.includes(false)
  }
  assert.ok(failed, 'a publish failed once the disk was full')
  assert.ok(w.free() < 256 * 1024, `the disk is full (${w.free()} bytes free)`)

  // One publish now: a 503 that the SDK's standard retry strategy retries.
  const retrying = new SNSClient({ endpoint, region, credentials, maxAttempts: 3 })
  t.after(() => retrying.destroy())
  let single: { status?: number; attempts?: number; fault?: string; name?: string } | undefined
  for (let i = 0; i < 50 && single === undefined; i++) {
    try {
      await retrying.send(new PublishCommand({ TopicArn: work, Message: `work-single-${i}|${'x'.repeat(BODY)}` }))
      published.add(`work-single-${i}`) // a failed write gives its pages back, so one may still fit
    } catch (error) {
      const e = error as { $metadata?: { httpStatusCode?: number; attempts?: number }; $fault?: string; name?: string }
      single = { status: e.$metadata?.httpStatusCode, attempts: e.$metadata?.attempts, fault: e.$fault, name: e.name }
    }
  }
  assert.ok(single !== undefined, 'publishes keep failing while the disk is full')
  assert.equal(single.status, 503, `ServiceUnavailable, got ${JSON.stringify(single)}`)
  assert.equal(single.name, 'ServiceUnavailable')
  assert.equal(single.fault, 'server')
  assert.equal(single.attempts, 3, 'the SDK retried it')

  // A batch: its entries fail one by one with the same code, as the server's fault.
  const batch = await sns.send(
    new PublishBatchCommand({
      TopicArn: work,
      PublishBatchRequestEntries: Array.from({ length: 10 }, (_, i) => ({
        Id: String(i),
        Message: `work-batch-${i}|${'x'.repeat(BODY)}`,
      })),
    }),
  )
  for (const ok of batch.Successful ?? []) published.add(`work-batch-${ok.Id}`)
  assert.ok((batch.Failed ?? []).length > 0, 'batch entries failed on the full disk')
  for (const entry of batch.Failed ?? []) {
    assert.equal(entry.Code, 'ServiceUnavailable')
    assert.equal(entry.SenderFault, false)
  }

  // Deleting the ballast queue frees its space; publishing recovers without a restart.
  const freeFull = w.free()
  await sqs.send(new DeleteQueueCommand({ QueueUrl: ballastQueue }))
  assert.ok(w.free() > freeFull + 2 * 1024 * 1024, `space came back (${freeFull} → ${w.free()} bytes free)`)
  const after = Array.from({ length: 20 }, (_, i) => `work-after-${i}`)
  for (const id of after) await sns.send(new PublishCommand({ TopicArn: work, Message: `${id}|x` }))

  // Every publish that got a 200 is in the queue, after a SIGKILL too.
  await w.restart()
  const found = await drainIds(sqs, workQueue)
  for (const id of [...published].filter((id) => id.startsWith('work-')))
    assert.ok(found.includes(id), `${id} (200) was stored`)
  for (const id of after) assert.ok(found.includes(id), `${id} survived the restart`)
})
