// SNS authentication and authorization with real clients: @aws-sdk/client-sns (query protocol, XML errors),
// Debian's boto3 and, when installed, the `aws` CLI (skipped in CI). SigV4 right and wrong, unknown keys with
// the anonymous policy on and off, Publish denied by an ACL (AuthorizationError, SNS's access-denied error),
// Subscribe needing Write on the endpoint queue, and ListTopics showing only what the caller may describe.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CreateTopicCommand,
  ListTopicsCommand,
  PublishBatchCommand,
  PublishCommand,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns'
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs'
import {
  ALICE,
  awsCli,
  BOB,
  boto,
  cli,
  INVALID_TOKEN,
  rejectsWith,
  SIGNATURE_MISMATCH,
  STRANGER,
  snsAs,
  sqsAs,
  startSecured,
} from '../aws-security.ts'

const ALERTS = 'arn:aws:sns:us-east-1:000000000000:alerts'

test('SDK v3: right secret publishes, wrong secret is SignatureDoesNotMatch, bob may not publish to alerts', async (t) => {
  const { url, broker } = await startSecured(t)
  const alice = snsAs(t, url, ALICE)
  const bob = snsAs(t, url, BOB)
  const sqs = sqsAs(t, url, ALICE)
  const { TopicArn } = await alice.send(new CreateTopicCommand({ Name: 'alerts' }))
  assert.equal(TopicArn, ALERTS)
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'alert-inbox' }))
  const { SubscriptionArn } = await alice.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: 'arn:aws:sqs:us-east-1:000000000000:alert-inbox',
      Attributes: { RawMessageDelivery: 'true' },
    }),
  )

  await rejectsWith(
    snsAs(t, url, { ...ALICE, secretAccessKey: 'not-the-secret' }).send(new PublishCommand({ TopicArn, Message: 'x' })),
    { name: 'SignatureDoesNotMatch', status: 403, message: SIGNATURE_MISMATCH },
  )
  const denied = {
    name: 'AuthorizationErrorException',
    code: 'AuthorizationError',
    status: 403,
    message:
      'User: arn:aws:iam::000000000000:user/bob is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:000000000000:alerts',
  }
  await rejectsWith(bob.send(new PublishCommand({ TopicArn, Message: 'from bob' })), denied)
  await rejectsWith(
    bob.send(new PublishBatchCommand({ TopicArn, PublishBatchRequestEntries: [{ Id: '1', Message: 'from bob' }] })),
    denied,
  )
  // Other topics are not covered by the rule.
  const other = await bob.send(new CreateTopicCommand({ Name: 'chatter' }))
  await bob.send(new PublishCommand({ TopicArn: other.TopicArn, Message: 'fine' }))

  // bob may not change alerts' subscriptions, also not through an ARN that names another topic.
  await broker.security.acls.add([
    {
      principal: 'User:bob',
      host: '*',
      operation: 'Alter',
      permission: 'Deny',
      resourceType: 'Exchange',
      resourceName: 'alerts',
      patternType: 'Literal',
    },
  ])
  const unsubscribeDenied = {
    name: 'AuthorizationErrorException',
    status: 403,
    message:
      /user\/bob is not authorized to perform: SNS:Unsubscribe on resource: arn:aws:sns:us-east-1:000000000000:alerts$/,
  }
  await rejectsWith(bob.send(new UnsubscribeCommand({ SubscriptionArn })), unsubscribeDenied)
  const forged = SubscriptionArn!.replace(':alerts:', ':chatter:')
  await rejectsWith(bob.send(new UnsubscribeCommand({ SubscriptionArn: forged })), unsubscribeDenied)

  await alice.send(new PublishCommand({ TopicArn, Message: 'from alice' }))
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))
  assert.deepEqual(
    got.Messages?.map((m) => m.Body),
    ['from alice'],
  )

  // Subscribing makes the topic write into the queue: bob may not point a topic at a queue he may not write.
  await sqs.send(new CreateQueueCommand({ QueueName: 'payments' }))
  await rejectsWith(
    bob.send(
      new SubscribeCommand({
        TopicArn: other.TopicArn,
        Protocol: 'sqs',
        Endpoint: 'arn:aws:sqs:us-east-1:000000000000:payments',
      }),
    ),
    {
      name: 'AuthorizationErrorException',
      status: 403,
      message:
        /user\/bob is not authorized to perform: SNS:Subscribe on resource: arn:aws:sqs:us-east-1:000000000000:payments$/,
    },
  )

  await broker.security.acls.add([
    {
      principal: 'User:bob',
      host: '*',
      operation: 'Describe',
      permission: 'Deny',
      resourceType: 'Exchange',
      resourceName: 'alerts',
      patternType: 'Literal',
    },
  ])
  assert.deepEqual(
    (await bob.send(new ListTopicsCommand({}))).Topics?.map((x) => x.TopicArn),
    [other.TopicArn],
  )
  assert.equal((await alice.send(new ListTopicsCommand({}))).Topics?.length, 2)
})

test('SDK v3 with anonymous off: an unknown key is InvalidClientTokenId, unsigned is MissingAuthenticationToken', async (t) => {
  const { url } = await startSecured(t, { anonymous: false })
  await rejectsWith(snsAs(t, url, STRANGER).send(new ListTopicsCommand({})), {
    name: 'InvalidClientTokenId',
    status: 403,
    message: INVALID_TOKEN,
  })
  assert.equal(
    (await snsAs(t, url, BOB).send(new CreateTopicCommand({ Name: 'jobs' }))).TopicArn?.endsWith(':jobs'),
    true,
  )
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=ListTopics&Version=2010-03-31',
  })
  assert.equal(response.status, 403)
  assert.match(
    await response.text(),
    /<Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code><Message>Request is missing Authentication Token<\/Message>/,
  )
})

test('boto3: right secret, wrong secret, AuthorizationError; unknown key served anonymously', async (t) => {
  const { url } = await startSecured(t)
  const out = await boto(
    url,
    `
alice = client('sns', '${ALICE.accessKeyId}', '${ALICE.secretAccessKey}')
arn = alice.create_topic(Name='alerts')['TopicArn']
out['published'] = 'MessageId' in alice.publish(TopicArn=arn, Message='hello')
out['wrong'] = err(client('sns', '${ALICE.accessKeyId}', 'not-the-secret').publish, TopicArn=arn, Message='x')
out['denied'] = err(client('sns', '${BOB.accessKeyId}', '${BOB.secretAccessKey}').publish, TopicArn=arn, Message='x')
out['stranger'] = [t['TopicArn'] for t in client('sns', '${STRANGER.accessKeyId}', 'x').list_topics()['Topics']]
`,
  )
  assert.equal(out.published, true)
  assert.deepEqual(out.wrong, { code: 'SignatureDoesNotMatch', status: 403, message: SIGNATURE_MISMATCH })
  assert.deepEqual(out.denied, {
    code: 'AuthorizationError',
    status: 403,
    message:
      'User: arn:aws:iam::000000000000:user/bob is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:000000000000:alerts',
  })
  assert.deepEqual(out.stranger, [ALERTS])
})

test('the aws CLI: right secret, wrong secret, AuthorizationError', async (t) => {
  const aws = awsCli()
  if (aws === undefined) {
    t.skip('the aws CLI is not installed')
    return
  }
  const { url } = await startSecured(t, { anonymous: false })
  const created = await cli(aws, url, ALICE, ['sns', 'create-topic', '--name', 'alerts'])
  assert.equal(created.code, 0, created.stderr)
  const published = await cli(aws, url, ALICE, ['sns', 'publish', '--topic-arn', ALERTS, '--message', 'hi'])
  assert.equal(published.code, 0, published.stderr)
  const wrong = await cli(aws, url, { ...ALICE, secretAccessKey: 'not-the-secret' }, ['sns', 'list-topics'])
  assert.notEqual(wrong.code, 0)
  assert.match(wrong.stderr, /An error occurred \(SignatureDoesNotMatch\) when calling the ListTopics operation/)
  const denied = await cli(aws, url, BOB, ['sns', 'publish', '--topic-arn', ALERTS, '--message', 'x'])
  assert.notEqual(denied.code, 0)
  assert.match(
    denied.stderr,
    /\(AuthorizationError\) when calling the Publish operation( \(reached max retries: \d+\))?: User: arn:aws:iam::000000000000:user\/bob is not authorized to perform: SNS:Publish/,
  )
})
