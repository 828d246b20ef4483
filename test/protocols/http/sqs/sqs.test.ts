// SQS JSON 1.0 against the real @aws-sdk/client-sqs (with its MD5 checks on): queue lifecycle,
// attributes, send/receive/delete, visibility, long polling, FIFO, redrive to a DLQ and back, errors.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  StartMessageMoveTaskCommand,
  TagQueueCommand,
  UntagQueueCommand,
} from '@aws-sdk/client-sqs'
import { md5OfAttributes } from '../../../../src/protocols/http/sqs/md5.ts'
import { sleep, sqsClient, startHarness } from '../helpers.ts'

async function rejects(promise: Promise<unknown>, name: string, code?: string): Promise<void> {
  await assert.rejects(promise, (error: Error & { Code?: string; $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, `${error.name}: ${error.message}`)
    if (code !== undefined) assert.equal(error.Code, code)
    return true
  })
}

test('attribute MD5 matches the AWS test vector', () => {
  assert.equal(
    md5OfAttributes({ MyAttribute: { DataType: 'String', StringValue: 'foobar' } }),
    'adb59cd4678ea5a855436b949cd07ab6',
  )
  assert.equal(md5OfAttributes({}), undefined)
})

test('queue lifecycle: create (idempotent), url, list with prefix and pages, attributes, tags, delete', async (t) => {
  const { url } = await startHarness(t)
  const sqs = sqsClient(t, url)
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: 'orders', Attributes: { VisibilityTimeout: '45' }, tags: { team: 'a' } }),
  )
  assert.equal(QueueUrl, `${url}/000000000000/orders`)
  assert.equal(
    (await sqs.send(new CreateQueueCommand({ QueueName: 'orders', Attributes: { VisibilityTimeout: '45' } }))).QueueUrl,
    QueueUrl,
  )
  await rejects(
    sqs.send(new CreateQueueCommand({ QueueName: 'orders', Attributes: { VisibilityTimeout: '46' } })),
    'QueueNameExists',
    'QueueAlreadyExists',
  )
  await rejects(sqs.send(new CreateQueueCommand({ QueueName: 'bad name!' })), 'InvalidParameterValue')
  await rejects(
    sqs.send(new CreateQueueCommand({ QueueName: 'x', Attributes: { VisibilityTimeout: '99999' } })),
    'InvalidAttributeValue',
  )
  await rejects(
    sqs.send(new CreateQueueCommand({ QueueName: 'x', Attributes: { Bogus: '1' } as Record<string, string> })),
    'InvalidAttributeName',
  )
  await rejects(sqs.send(new CreateQueueCommand({ QueueName: 'x.fifo' })), 'InvalidParameterValue')
  assert.equal((await sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }))).QueueUrl, QueueUrl)
  await rejects(
    sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' })),
    'QueueDoesNotExist',
    'AWS.SimpleQueueService.NonExistentQueue',
  )

  for (const n of ['orders-2', 'orders-3', 'other']) await sqs.send(new CreateQueueCommand({ QueueName: n }))
  assert.deepEqual(
    (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'orders' }))).QueueUrls?.map((u) => u.split('/').pop()),
    ['orders', 'orders-2', 'orders-3'],
  )
  const page1 = await sqs.send(new ListQueuesCommand({ MaxResults: 2 }))
  assert.equal(page1.QueueUrls?.length, 2)
  assert.ok(page1.NextToken)
  const page2 = await sqs.send(new ListQueuesCommand({ MaxResults: 2, NextToken: page1.NextToken }))
  assert.deepEqual(
    page2.QueueUrls?.map((u) => u.split('/').pop()),
    ['orders-3', 'other'],
  )
  assert.equal(page2.NextToken, undefined)

  const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes!
  assert.equal(attrs.VisibilityTimeout, '45')
  assert.equal(attrs.MessageRetentionPeriod, '345600')
  assert.equal(attrs.QueueArn, 'arn:aws:sqs:us-east-1:000000000000:orders')
  assert.equal(attrs.ApproximateNumberOfMessages, '0')
  await sqs.send(
    new SetQueueAttributesCommand({ QueueUrl, Attributes: { DelaySeconds: '1', ReceiveMessageWaitTimeSeconds: '2' } }),
  )
  const some = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['DelaySeconds', 'ReceiveMessageWaitTimeSeconds'] }),
    )
  ).Attributes
  assert.deepEqual(some, { DelaySeconds: '1', ReceiveMessageWaitTimeSeconds: '2' })
  await rejects(
    sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { FifoQueue: 'true' } })),
    'InvalidAttributeName',
  )

  await sqs.send(new TagQueueCommand({ QueueUrl, Tags: { env: 'test' } }))
  assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl }))).Tags, { team: 'a', env: 'test' })
  await sqs.send(new UntagQueueCommand({ QueueUrl, TagKeys: ['team'] }))
  assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl }))).Tags, { env: 'test' })

  await sqs.send(new DeleteQueueCommand({ QueueUrl }))
  await rejects(sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' })), 'QueueDoesNotExist')
  await rejects(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })), 'QueueDoesNotExist')
})

test('send, receive with attributes and MD5s, delete, batch, visibility timeout expiry and change', async (t) => {
  const { url } = await startHarness(t)
  const sqs = sqsClient(t, url)
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: 'work', Attributes: { VisibilityTimeout: '1' } }),
  )
  const sent = await sqs.send(
    new SendMessageCommand({
      QueueUrl,
      MessageBody: 'hello ✓',
      MessageAttributes: {
        MyAttribute: { DataType: 'String', StringValue: 'foobar' },
        n: { DataType: 'Number', StringValue: '42' },
        b: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]) },
      },
    }),
  )
  assert.ok(sent.MessageId)
  assert.equal(sent.MD5OfMessageBody, createHash('md5').update('hello ✓').digest('hex'))
  const received = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
      MaxNumberOfMessages: 10,
    }),
  )
  assert.equal(received.Messages?.length, 1)
  const m = received.Messages![0]!
  assert.equal(m.Body, 'hello ✓')
  assert.equal(m.MessageId, sent.MessageId)
  assert.equal(m.MD5OfMessageAttributes, sent.MD5OfMessageAttributes)
  assert.equal(m.MessageAttributes?.n?.StringValue, '42')
  assert.equal(m.MessageAttributes?.n?.DataType, 'Number')
  assert.deepEqual(Buffer.from(m.MessageAttributes!.b!.BinaryValue!), Buffer.from([0, 1, 2, 255]))
  assert.equal(m.Attributes?.ApproximateReceiveCount, '1')
  assert.ok(Number(m.Attributes?.SentTimestamp) > 0)

  // Invisible while leased; back after the 1 s visibility timeout with a higher receive count.
  assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined)
  const again = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl,
      WaitTimeSeconds: 5,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  )
  assert.equal(again.Messages?.[0]?.Attributes?.ApproximateReceiveCount, '2')
  // The first handle is stale: deleting with it is a no-op; the fresh one deletes.
  await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }))
  await rejects(
    sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 10 })),
    'MessageNotInflight',
  )
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl,
      ReceiptHandle: again.Messages![0]!.ReceiptHandle,
      VisibilityTimeout: 30,
    }),
  )
  await sleep(1300)
  assert.equal(
    (await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages,
    undefined,
    'extended lease keeps it hidden',
  )
  await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: again.Messages![0]!.ReceiptHandle }))
  await rejects(
    sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'forged.handle' })),
    'ReceiptHandleIsInvalid',
  )
  const tampered = `${again.Messages![0]!.ReceiptHandle!.slice(0, -3)}AAA`
  await rejects(sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: tampered })), 'ReceiptHandleIsInvalid')

  const batch = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl,
      Entries: [
        ...Array.from({ length: 9 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body ${i}` })),
        { Id: 'bad', MessageBody: 'x', DelaySeconds: 5000 },
      ],
    }),
  )
  assert.equal(batch.Successful?.length, 9)
  assert.equal(batch.Failed?.[0]?.Id, 'bad')
  assert.equal(batch.Failed?.[0]?.Code, 'InvalidParameterValue')
  await rejects(
    sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'x' },
          { Id: 'a', MessageBody: 'y' },
        ],
      }),
    ),
    'BatchEntryIdsNotDistinct',
  )
  await rejects(
    sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `i${i}`, MessageBody: 'x' })),
      }),
    ),
    'TooManyEntriesInBatchRequest',
  )
  const attrs = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))
  ).Attributes
  assert.equal(attrs?.ApproximateNumberOfMessages, '9')
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 20 }))
  assert.equal(got.Messages?.length, 9)
  const notVisible = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }),
    )
  ).Attributes
  assert.equal(notVisible?.ApproximateNumberOfMessagesNotVisible, '9')
  const changed = await sqs.send(
    new ChangeMessageVisibilityBatchCommand({
      QueueUrl,
      Entries: [{ Id: 'c', ReceiptHandle: got.Messages![0]!.ReceiptHandle, VisibilityTimeout: 0 }],
    }),
  )
  assert.equal(changed.Successful?.length, 1)
  const deleted = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl,
      Entries: got.Messages!.slice(1).map((msg, i) => ({ Id: `d${i}`, ReceiptHandle: msg.ReceiptHandle })),
    }),
  )
  assert.equal(deleted.Successful?.length, 8)
  const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2 }))
  assert.equal(back.Messages?.[0]?.Body, got.Messages![0]!.Body, 'visibility 0 made it available at once')
  await sqs.send(new PurgeQueueCommand({ QueueUrl }))
})

test('DeleteMessageBatch settles each entry on its own: valid, stale (a no-op, as AWS), forged, other queue', async (t) => {
  const { url } = await startHarness(t)
  const sqs = sqsClient(t, url)
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'settle' }))
  const { QueueUrl: otherUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'settle-other' }))
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl,
      Entries: ['a', 'b', 'c'].map((body) => ({ Id: body, MessageBody: `body ${body} ✓ 😀` })),
    }),
  )
  await sqs.send(new SendMessageCommand({ QueueUrl: otherUrl, MessageBody: 'elsewhere' }))
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 1 }))
  assert.equal(got.Messages?.length, 3)
  assert.deepEqual(got.Messages!.map((m) => m.Body).sort(), ['body a ✓ 😀', 'body b ✓ 😀', 'body c ✓ 😀'])
  const [first, second, third] = got.Messages!
  await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: second!.ReceiptHandle }))
  const other = await sqs.send(new ReceiveMessageCommand({ QueueUrl: otherUrl }))
  // One payload character changed (to a different one): the handle's MAC no longer matches.
  const handle = third!.ReceiptHandle!
  const forged = `${handle.slice(0, 10)}${handle[10] === 'x' ? 'y' : 'x'}${handle.slice(11)}`
  const result = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl,
      Entries: [
        { Id: 'valid', ReceiptHandle: first!.ReceiptHandle },
        { Id: 'stale', ReceiptHandle: second!.ReceiptHandle },
        { Id: 'forged', ReceiptHandle: forged },
        { Id: 'foreign', ReceiptHandle: other.Messages![0]!.ReceiptHandle },
      ],
    }),
  )
  assert.deepEqual(result.Successful?.map((r) => r.Id).sort(), ['stale', 'valid'])
  assert.deepEqual(result.Failed?.map((f) => [f.Id, f.Code, f.SenderFault]).sort(), [
    ['foreign', 'ReceiptHandleIsInvalid', true],
    ['forged', 'ReceiptHandleIsInvalid', true],
  ])
  // After the 1 s visibility timeout only the message whose handle was forged comes back.
  const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 3 }))
  assert.deepEqual(
    back.Messages?.map((m) => m.Body),
    [third!.Body],
  )
  assert.equal(back.Messages![0]!.MessageId, third!.MessageId)
})

test('long polling returns as soon as a message arrives and honours the wait time', async (t) => {
  const { url } = await startHarness(t)
  const sqs = sqsClient(t, url)
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'poll' }))
  const started = Date.now()
  const empty = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }))
  assert.equal(empty.Messages, undefined)
  assert.ok(Date.now() - started >= 900, 'waited about a second')
  const t0 = Date.now()
  const pending = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }))
  await sleep(200)
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'wake' }))
  const got = await pending
  assert.equal(got.Messages?.[0]?.Body, 'wake')
  assert.ok(Date.now() - t0 < 5000)
  await rejects(sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 21 })), 'InvalidParameterValue')
  await rejects(sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 11 })), 'InvalidParameterValue')
})

test('FIFO: group ordering, one in-flight message per group, deduplication, sequence numbers', async (t) => {
  const { url } = await startHarness(t)
  const sqs = sqsClient(t, url)
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'jobs.fifo',
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
    }),
  )
  await rejects(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })), 'MissingParameter')
  await rejects(
    sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', MessageGroupId: 'g', DelaySeconds: 3 })),
    'InvalidParameterValue',
  )
  const first = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'a1', MessageGroupId: 'a' }))
  const dup = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'a1', MessageGroupId: 'a' }))
  assert.equal(dup.MessageId, first.MessageId, 'content-based duplicate returns the original id')
  const second = await sqs.send(
    new SendMessageCommand({ QueueUrl, MessageBody: 'a2', MessageGroupId: 'a', MessageDeduplicationId: 'explicit' }),
  )
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'b1', MessageGroupId: 'b' }))
  assert.ok(BigInt(second.SequenceNumber!) > BigInt(first.SequenceNumber!))
  const got = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }),
  )
  assert.deepEqual(
    got.Messages?.map((m) => m.Body),
    ['a1', 'b1'],
    'one message per group in flight',
  )
  assert.equal(got.Messages?.[0]?.Attributes?.MessageGroupId, 'a')
  assert.equal(got.Messages?.[0]?.Attributes?.SequenceNumber, first.SequenceNumber)
  assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined)
  await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: got.Messages![0]!.ReceiptHandle }))
  const next = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }))
  assert.deepEqual(
    next.Messages?.map((m) => m.Body),
    ['a2'],
  )
  const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes
  assert.equal(attrs?.FifoQueue, 'true')
  assert.equal(attrs?.ContentBasedDeduplication, 'true')
})

test('redrive: past maxReceiveCount to the DLQ, listed as source, moved back with StartMessageMoveTask', async (t) => {
  const { url } = await startHarness(t)
  const sqs = sqsClient(t, url)
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'work-dlq' }))
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!
  const RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 })
  await rejects(
    sqs.send(
      new CreateQueueCommand({
        QueueName: 'w2',
        Attributes: {
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:missing',
            maxReceiveCount: 2,
          }),
        },
      }),
    ),
    'QueueDoesNotExist',
  )
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'work', Attributes: { RedrivePolicy } }))
  await sqs.send(
    new SendMessageCommand({
      QueueUrl,
      MessageBody: 'poison',
      MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } },
    }),
  )
  for (let i = 1; i <= 2; i++) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 2,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    )
    assert.equal(got.Messages?.[0]?.Attributes?.ApproximateReceiveCount, String(i))
    await sleep(150)
  }
  const dead = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: dlq.QueueUrl,
      WaitTimeSeconds: 3,
      VisibilityTimeout: 0,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  )
  assert.equal(dead.Messages?.[0]?.Body, 'poison')
  assert.equal(dead.Messages?.[0]?.MessageAttributes?.k?.StringValue, 'v')
  assert.equal(dead.Messages?.[0]?.Attributes?.DeadLetterQueueSourceArn, 'arn:aws:sqs:us-east-1:000000000000:work')
  assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined)
  const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq.QueueUrl }))
  assert.deepEqual(sources.queueUrls, [QueueUrl])

  await sleep(100)
  const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }))
  assert.ok(task.TaskHandle)
  const back = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl,
      WaitTimeSeconds: 5,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  )
  assert.equal(back.Messages?.[0]?.Body, 'poison')
  assert.equal(back.Messages?.[0]?.Attributes?.ApproximateReceiveCount, '1')
  let tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }))
  for (let i = 0; i < 50 && tasks.Results?.[0]?.Status === 'RUNNING'; i++) {
    await sleep(20)
    tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }))
  }
  assert.equal(tasks.Results?.[0]?.Status, 'COMPLETED')
  assert.equal(tasks.Results?.[0]?.ApproximateNumberOfMessagesMoved, 1)
  await rejects(
    sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] })))
          .Attributes!.QueueArn!,
      }),
    ),
    'InvalidParameterValue',
  )
})

test('bad input gets SQS error shapes and 4xx, never a 500', async (t) => {
  const { url } = await startHarness(t)
  const post = (body: string, target = 'AmazonSQS.ListQueues', type = 'application/x-amz-json-1.0') =>
    fetch(`${url}/`, { method: 'POST', headers: { 'content-type': type, 'x-amz-target': target }, body })
  let res = await post('{not json')
  assert.equal(res.status, 400)
  assert.match(res.headers.get('x-amzn-query-error') ?? '', /;Sender$/)
  assert.match(((await res.json()) as { __type: string }).__type, /SerializationException/)
  res = await post('{}', 'AmazonSQS.Frobnicate')
  assert.equal(res.status, 400)
  assert.match(((await res.json()) as { __type: string }).__type, /InvalidAction/)
  res = await post(JSON.stringify({ QueueName: 'q', Attributes: 'nope' }), 'AmazonSQS.CreateQueue')
  assert.equal(res.status, 400)
  res = await post(JSON.stringify({ QueueUrl: 5 }), 'AmazonSQS.SendMessage')
  assert.equal(res.status, 400)
  res = await post('x'.repeat(5 * 1024 * 1024))
  assert.equal(res.status, 413)
  assert.match(((await res.json()) as { __type: string }).__type, /RequestEntityTooLarge/)
  res = await post('[]')
  assert.equal(res.status, 400)
})

test('queues, attributes and unacked messages survive a broker restart; old receipt handles are stale', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-http-restart-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const first = await startHarness(t, dir)
  let sqs = sqsClient(t, first.url)
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: 'durable', Attributes: { VisibilityTimeout: '7' } }),
  )
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'kept' }))
  const leased = await sqs.send(new ReceiveMessageCommand({ QueueUrl }))
  await first.listener.close()
  await first.broker.close()

  const second = await startHarness(t, dir)
  sqs = sqsClient(t, second.url)
  const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'durable' }))).QueueUrl
  const attrs = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['VisibilityTimeout'] }))
  ).Attributes
  assert.equal(attrs?.VisibilityTimeout, '7')
  await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: leased.Messages![0]!.ReceiptHandle }))
  const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 2 }))
  assert.equal(again.Messages?.[0]?.Body, 'kept', 'a pre-restart handle deleted nothing')
  assert.equal(again.Messages?.[0]?.MessageId, leased.Messages![0]!.MessageId)
})
