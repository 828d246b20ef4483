// SNS query protocol with the real @aws-sdk/client-sns, fanning out to SQS queues read with
// @aws-sdk/client-sqs: envelope and raw delivery, filter policies (attributes and body), batches, errors.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  PublishBatchCommand,
  PublishCommand,
  SetSubscriptionAttributesCommand,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns'
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import { snsClient, sqsClient, startHarness } from '../helpers.ts'

async function queue(sqs: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }))
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!
    .QueueArn!
  return { url: QueueUrl!, arn }
}

async function bodies(sqs: SQSClient, url: string, wait = 1): Promise<string[]> {
  const got = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: wait,
      MessageAttributeNames: ['All'],
    }),
  )
  return (got.Messages ?? []).map((m) => m.Body!)
}

test('topics and subscriptions: create (idempotent), list, attributes, filter policies, unsubscribe, delete', async (t) => {
  const { url } = await startHarness(t)
  const sns = snsClient(t, url)
  const sqs = sqsClient(t, url)
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'orders' }))
  assert.equal(TopicArn, 'arn:aws:sns:us-east-1:000000000000:orders')
  assert.equal((await sns.send(new CreateTopicCommand({ Name: 'orders' }))).TopicArn, TopicArn)
  assert.deepEqual(
    (await sns.send(new ListTopicsCommand({}))).Topics?.map((x) => x.TopicArn),
    [TopicArn],
  )
  await assert.rejects(
    sns.send(new CreateTopicCommand({ Name: 'bad name' })),
    (e: Error) => e.name === 'InvalidParameterException',
  )

  const all = await queue(sqs, 'all')
  const red = await queue(sqs, 'red')
  const raw = await queue(sqs, 'raw')
  const subAll = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: all.arn }))
  const subRed = await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: red.arn,
      Attributes: { FilterPolicy: JSON.stringify({ color: ['red'] }) },
    }),
  )
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: raw.arn,
      Attributes: {
        RawMessageDelivery: 'true',
        FilterPolicyScope: 'MessageBody',
        FilterPolicy: JSON.stringify({ size: [{ numeric: ['>', 10] }] }),
      },
    }),
  )
  assert.equal((await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions?.length, 3)
  assert.equal((await sns.send(new ListSubscriptionsCommand({}))).Subscriptions?.length, 3)
  const attrs = (await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subRed.SubscriptionArn })))
    .Attributes!
  assert.equal(attrs.FilterPolicy, JSON.stringify({ color: ['red'] }))
  assert.equal(attrs.RawMessageDelivery, 'false')
  assert.equal(attrs.Endpoint, red.arn)

  await sns.send(
    new PublishCommand({
      TopicArn,
      Subject: 'hi',
      Message: JSON.stringify({ size: 20 }),
      MessageAttributes: { color: { DataType: 'String', StringValue: 'red' } },
    }),
  )
  await sns.send(
    new PublishCommand({
      TopicArn,
      Message: JSON.stringify({ size: 5 }),
      MessageAttributes: { color: { DataType: 'String', StringValue: 'blue' } },
    }),
  )

  const allBodies = await bodies(sqs, all.url)
  assert.equal(allBodies.length, 2)
  const envelope = JSON.parse(allBodies[0]!)
  assert.equal(envelope.Type, 'Notification')
  assert.equal(envelope.TopicArn, TopicArn)
  assert.equal(envelope.Subject, 'hi')
  assert.equal(envelope.Message, JSON.stringify({ size: 20 }))
  assert.deepEqual(envelope.MessageAttributes, { color: { Type: 'String', Value: 'red' } })
  const redBodies = await bodies(sqs, red.url)
  assert.deepEqual(
    redBodies.map((b) => JSON.parse(b).Message),
    [JSON.stringify({ size: 20 })],
    'attribute filter kept only red',
  )
  const rawGot = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: raw.url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
    }),
  )
  assert.deepEqual(
    rawGot.Messages?.map((m) => m.Body),
    [JSON.stringify({ size: 20 })],
    'body filter and raw delivery',
  )
  assert.equal(rawGot.Messages?.[0]?.MessageAttributes?.color?.StringValue, 'red', 'raw delivery carries attributes')

  // Turn the red filter off: it receives everything.
  await sns.send(
    new SetSubscriptionAttributesCommand({
      SubscriptionArn: subRed.SubscriptionArn,
      AttributeName: 'FilterPolicy',
      AttributeValue: '',
    }),
  )
  await sns.send(
    new SetSubscriptionAttributesCommand({
      SubscriptionArn: subRed.SubscriptionArn,
      AttributeName: 'RawMessageDelivery',
      AttributeValue: 'true',
    }),
  )
  const batch = await sns.send(
    new PublishBatchCommand({
      TopicArn,
      PublishBatchRequestEntries: [
        { Id: 'a', Message: 'one', MessageAttributes: { color: { DataType: 'String', StringValue: 'green' } } },
        { Id: 'b', Message: 'two' },
        { Id: 'c', Message: '' },
      ],
    }),
  )
  assert.deepEqual(
    batch.Successful?.map((s) => s.Id),
    ['a', 'b'],
  )
  assert.equal(batch.Failed?.[0]?.Id, 'c')
  assert.deepEqual((await bodies(sqs, red.url)).sort(), ['one', 'two'])

  await sns.send(new UnsubscribeCommand({ SubscriptionArn: subAll.SubscriptionArn }))
  assert.equal((await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions?.length, 2)
  await assert.rejects(
    sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subAll.SubscriptionArn })),
    (e: Error) => e.name === 'NotFoundException',
  )
  await sns.send(new DeleteTopicCommand({ TopicArn }))
  await assert.rejects(
    sns.send(new PublishCommand({ TopicArn, Message: 'x' })),
    (e: Error) => e.name === 'NotFoundException',
  )
  await assert.rejects(
    sns.send(
      new SubscribeCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:none', Protocol: 'sqs', Endpoint: all.arn }),
    ),
    (e: Error) => e.name === 'NotFoundException',
  )
})

test('FIFO topic to FIFO queue keeps group ids; malformed query bodies get XML errors', async (t) => {
  const { url } = await startHarness(t)
  const sns = snsClient(t, url)
  const sqs = sqsClient(t, url)
  const { TopicArn } = await sns.send(
    new CreateTopicCommand({ Name: 't.fifo', Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'true' } }),
  )
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: 'q.fifo', Attributes: { FifoQueue: 'true' } }),
  )
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!
    .QueueArn!
  await sns.send(
    new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: arn, Attributes: { RawMessageDelivery: 'true' } }),
  )
  await assert.rejects(
    sns.send(new PublishCommand({ TopicArn, Message: 'x' })),
    (e: Error) => e.name === 'InvalidParameterException',
  )
  await sns.send(new PublishCommand({ TopicArn, Message: 'm1', MessageGroupId: 'g', MessageDeduplicationId: 'd1' }))
  await sns.send(new PublishCommand({ TopicArn, Message: 'm2', MessageGroupId: 'g', MessageDeduplicationId: 'd2' }))
  const got = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['MessageGroupId'],
    }),
  )
  assert.deepEqual(
    got.Messages?.map((m) => m.Body),
    ['m1'],
    'one in flight per group',
  )
  assert.equal(got.Messages?.[0]?.Attributes?.MessageGroupId, 'g')

  const post = (body: string) =>
    fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
  let res = await post('Action=Nope&Version=2010-03-31')
  assert.equal(res.status, 400)
  assert.match(await res.text(), /<Code>InvalidAction<\/Code>/)
  res = await post('Action=Publish&TopicArn=garbage&Message=x')
  assert.equal(res.status, 400)
  assert.match(await res.text(), /<ErrorResponse/)
  res = await post('%%%')
  assert.equal(res.status, 400)
})
