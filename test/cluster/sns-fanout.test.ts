// SNS fan-out to SQS on two brokers over one PostgreSQL, with the AWS SDK: a topic created through one broker,
// queues and their subscriptions made through the other, a Publish through either: every subscribed queue
// gets each message once, read through either broker.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns'
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { type ClusterBroker, startCluster } from '../fixtures/cluster.ts'
import { sleep } from './kafka-helpers.ts'

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
const region = 'us-east-1'

test('SNS topics fan out to SQS queues across the brokers of a cluster', { timeout: 180_000 }, async (t) => {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['http'] })
  if (cluster === undefined) return
  const clients = (cluster.brokers as ClusterBroker[]).map((broker) => {
    const endpoint = `http://127.0.0.1:${broker.ports.http}`
    const sns = new SNSClient({ endpoint, region, credentials })
    const sqs = new SQSClient({ endpoint, region, credentials })
    t.after(() => {
      sns.destroy()
      sqs.destroy()
    })
    return { sns, sqs }
  })
  const [one, two] = clients as [(typeof clients)[0], (typeof clients)[0]]
  const { TopicArn } = await one.sns.send(new CreateTopicCommand({ Name: 'events' }))
  const inboxes = ['inbox-a', 'inbox-b']
  const urls: string[] = []
  for (const QueueName of inboxes) {
    urls.push((await two.sqs.send(new CreateQueueCommand({ QueueName }))).QueueUrl!)
    // The topic reaches the second broker through the catalog within moments.
    for (const deadline = Date.now() + 15_000; ; await sleep(200)) {
      const subscribed = await two.sns
        .send(
          new SubscribeCommand({
            TopicArn,
            Protocol: 'sqs',
            Endpoint: `arn:aws:sqs:${region}:000000000000:${QueueName}`,
            Attributes: { RawMessageDelivery: 'true' },
          }),
        )
        .catch(() => undefined)
      if (subscribed !== undefined) break
      assert.ok(Date.now() < deadline, 'the topic reached the second broker')
    }
  }
  // Both subscriptions known to the first broker too (a publish there fans out to the subscriptions it knows).
  for (const deadline = Date.now() + 15_000; ; await sleep(200)) {
    const listed = await one.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }))
    if ((listed.Subscriptions ?? []).length === inboxes.length) break
    assert.ok(Date.now() < deadline, 'the subscriptions reached the first broker')
  }
  for (let i = 0; i < 5; i++)
    await (i % 2 === 0 ? one : two).sns.send(new PublishCommand({ TopicArn, Message: `event-${i}` }))

  const expected = Array.from({ length: 5 }, (_, i) => `event-${i}`)
  for (const [q, url] of urls.entries()) {
    const got: string[] = []
    for (const deadline = Date.now() + 20_000; got.length < 5 && Date.now() < deadline; ) {
      const reader = q === 0 ? one : two
      const { Messages = [] } = await reader.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      )
      for (const m of Messages) {
        got.push(m.Body!)
        await reader.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }))
      }
    }
    assert.deepEqual(got.sort(), expected, `${inboxes[q]} got each event once`)
  }
})
