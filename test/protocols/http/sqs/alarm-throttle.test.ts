// SQS and SNS under a resource alarm: SendMessage(Batch) and Publish(Batch) are throttled as AWS throttles
// (SQS RequestThrottled, SNS Throttled: SDKs back off and retry), while reads, deletes and queue management
// keep working; publishing resumes once the alarm clears. Real AWS SDK v3 clients, maxAttempts 1.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CreateTopicCommand, ListTopicsCommand, PublishCommand, SubscribeCommand } from '@aws-sdk/client-sns'
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs'
import { startAlarmedWharf } from '../../../fixtures/alarmed-wharf.ts'
import { snsClient, sqsClient } from '../helpers.ts'

test('under a disk alarm SQS sends and SNS publishes are throttled; reads keep working', async (t) => {
  const w = await startAlarmedWharf(t, { prefix: 'wharf-sqs-alarm-', limitBytes: 1000, freeBytes: 1_000_000 })
  const sqs = sqsClient(t, w.base)
  const sns = snsClient(t, w.base)
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'jobs' }))
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'before' }))
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'news' }))

  w.disk.free = 10
  await w.alarms.check()
  await assert.rejects(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'during' })), (error: Error) => {
    assert.equal((error as { Code?: string }).Code ?? error.name, 'RequestThrottled')
    return true
  })
  await assert.rejects(
    sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: '1', MessageBody: 'during' }] })),
    /throttled/i,
  )
  await assert.rejects(sns.send(new PublishCommand({ TopicArn, Message: 'during' })), (error: Error) => {
    assert.match(error.name, /^Throttled/)
    return true
  })
  // Reads, settles and management go on.
  const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }))
  assert.deepEqual(
    received.Messages?.map((m) => m.Body),
    ['before'],
  )
  await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: received.Messages![0]!.ReceiptHandle }))
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))
  assert.equal(attributes.Attributes?.ApproximateNumberOfMessages, '0')
  assert.ok((await sns.send(new ListTopicsCommand({}))).Topics?.some((topic) => topic.TopicArn === TopicArn))
  await sns.send(
    new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: 'arn:aws:sqs:us-east-1:000000000000:jobs' }),
  )

  w.disk.free = 1_000_000
  await w.alarms.check()
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'after' }))
  await sns.send(new PublishCommand({ TopicArn, Message: 'after' }))
  const after = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))
  assert.ok(
    after.Messages?.some((m) => m.Body === 'after'),
    'sending works again once the alarm clears',
  )
})
