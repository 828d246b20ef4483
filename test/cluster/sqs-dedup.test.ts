// SQS FIFO deduplication on two brokers over one PostgreSQL, with the AWS SDK: a SendMessage retried through
// the other broker (a load balancer's choice) with the same MessageDeduplicationId is answered with the first
// one's MessageId and not delivered again, whichever of the two brokers serves the queue; and a message group
// has one message in flight at a time across both brokers.
import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SendMessageCommandOutput,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { type ClusterBroker, startCluster } from '../fixtures/cluster.ts'
import { sleep } from './kafka-helpers.ts'

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

/** An SDK client per broker (no retries: each call goes to the broker asked), destroyed after the test. */
function sqsClients(t: TestContext, brokers: ClusterBroker[]): [SQSClient, SQSClient] {
  const clients = brokers.map((broker) => {
    const client = new SQSClient({
      endpoint: `http://127.0.0.1:${broker.ports.http}`,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    })
    t.after(() => client.destroy())
    return client
  })
  return clients as [SQSClient, SQSClient]
}

test('a FIFO SendMessage retried through another broker is deduplicated', { timeout: 180_000 }, async (t) => {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['http'] })
  if (cluster === undefined) return
  const [one, two] = sqsClients(t, cluster.brokers)
  await one.send(new CreateQueueCommand({ QueueName: 'orders.fifo', Attributes: { FifoQueue: 'true' } }))
  // The queue reaches the other broker through the catalog within moments.
  let QueueUrl: string | undefined
  for (const deadline = Date.now() + 15_000; QueueUrl === undefined; await sleep(200)) {
    QueueUrl = (await two.send(new GetQueueUrlCommand({ QueueName: 'orders.fifo' })).catch(() => undefined))?.QueueUrl
    assert.ok(Date.now() < deadline, 'the queue reached the second broker')
  }

  // Each message sent through one broker, then again (same deduplication id) through the other, so one of the
  // two retries reaches the broker that serves the queue and the other one that does not.
  for (const [body, first, retry] of [
    ['a', one, two],
    ['b', two, one],
  ] as const) {
    const send = (client: SQSClient): Promise<SendMessageCommandOutput> =>
      client.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: body,
          MessageGroupId: 'g',
          MessageDeduplicationId: `d-${body}`,
        }),
      )
    const original = await send(first)
    await sleep(500)
    const again = await send(retry)
    assert.equal(again.MessageId, original.MessageId, `the retry of ${body} is answered with the first MessageId`)
  }

  const bodies: string[] = []
  for (let empty = 0; empty < 2; ) {
    const got = await one.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))
    if (got.Messages === undefined || got.Messages.length === 0) empty++
    for (const message of got.Messages ?? []) {
      bodies.push(message.Body!)
      await one.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }))
    }
  }
  assert.deepEqual(bodies, ['a', 'b'])
})

test('a FIFO group has one message in flight across both brokers, in order', { timeout: 180_000 }, async (t) => {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['http'] })
  if (cluster === undefined) return
  const [one, two] = sqsClients(t, cluster.brokers)
  const { QueueUrl } = await one.send(
    new CreateQueueCommand({
      QueueName: 'jobs.fifo',
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
    }),
  )
  for (let i = 0; i < 3; i++)
    await one.send(new SendMessageCommand({ QueueUrl, MessageBody: `g-${i}`, MessageGroupId: 'g' }))
  for (const deadline = Date.now() + 15_000; ; await sleep(200)) {
    if (await two.send(new GetQueueUrlCommand({ QueueName: 'jobs.fifo' })).catch(() => undefined)) break
    assert.ok(Date.now() < deadline, 'the queue reached the second broker')
  }
  const order: string[] = []
  let receiver = one
  for (let i = 0; i < 3; i++) {
    const { Messages = [] } = await receiver.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
    )
    assert.equal(Messages.length, 1, 'one message of the group at a time')
    order.push(Messages[0]!.Body!)
    // Taken through one broker, the group's next message is not given out through the other meanwhile.
    const other = receiver === one ? two : one
    const meanwhile = await other.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }))
    assert.deepEqual(meanwhile.Messages ?? [], [], 'nothing of the group while one is in flight')
    await receiver.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages[0]!.ReceiptHandle! }))
    receiver = other
  }
  assert.deepEqual(order, ['g-0', 'g-1', 'g-2'])
})
