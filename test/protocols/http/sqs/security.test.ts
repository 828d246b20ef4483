// SQS authentication and authorization with the real @aws-sdk/client-sqs (JSON 1.0, query-compatible
// errors): SigV4 with the right and a wrong secret, unknown key ids with the anonymous policy on and off, an
// unsigned request, the 15-minute clock window (and the SDK taking its clock offset from our Date header),
// ACL decisions (AccessDenied with AWS's text, filtered listings, a rule change taking effect at once), and
// a cross-site form post refused the anonymous principal.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs'
import {
  ALICE,
  BOB,
  INVALID_TOKEN,
  rejectsWith,
  SIGNATURE_MISMATCH,
  STRANGER,
  sqsAs,
  startSecured,
} from '../aws-security.ts'
import { startHarness } from '../helpers.ts'

test('SigV4: the right secret is served, a wrong one is SignatureDoesNotMatch, an unknown key is anonymous', async (t) => {
  const { url } = await startSecured(t)
  const alice = sqsAs(t, url, ALICE)
  const { QueueUrl } = await alice.send(new CreateQueueCommand({ QueueName: 'orders' }))
  await alice.send(new SendMessageCommand({ QueueUrl, MessageBody: 'signed by alice' }))
  const got = await alice.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }))
  assert.deepEqual(
    got.Messages?.map((m) => m.Body),
    ['signed by alice'],
  )

  const forger = sqsAs(t, url, { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'not-alices-secret' })
  await rejectsWith(forger.send(new SendMessageCommand({ QueueUrl, MessageBody: 'forged' })), {
    name: 'SignatureDoesNotMatch',
    code: 'SignatureDoesNotMatch',
    status: 403,
    message: SIGNATURE_MISMATCH,
  })
  await rejectsWith(forger.send(new ListQueuesCommand({})), { name: 'SignatureDoesNotMatch', status: 403 })

  // Anonymous access is on (the default on loopback): a key id nobody holds acts as User:ANONYMOUS.
  const stranger = sqsAs(t, url, STRANGER)
  assert.deepEqual((await stranger.send(new ListQueuesCommand({}))).QueueUrls, [QueueUrl])
  await stranger.send(new SendMessageCommand({ QueueUrl, MessageBody: 'anonymous' }))
  // The forged message never arrived; the anonymous one did.
  const after = await alice.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))
  assert.deepEqual(
    after.Messages?.map((m) => m.Body),
    ['anonymous'],
  )
})

test('anonymous off: an unknown key is InvalidClientTokenId, an unsigned request MissingAuthenticationToken, a malformed one IncompleteSignature', async (t) => {
  const { url } = await startSecured(t, { anonymous: false })
  await rejectsWith(sqsAs(t, url, STRANGER).send(new ListQueuesCommand({})), {
    name: 'InvalidClientTokenId',
    code: 'InvalidClientTokenId',
    status: 403,
    message: INVALID_TOKEN,
  })
  await rejectsWith(
    sqsAs(t, url, { accessKeyId: BOB.accessKeyId, secretAccessKey: 'wrong' }).send(new ListQueuesCommand({})),
    { name: 'SignatureDoesNotMatch', status: 403, message: SIGNATURE_MISMATCH },
  )
  assert.deepEqual((await sqsAs(t, url, BOB).send(new ListQueuesCommand({}))).QueueUrls ?? [], [])

  // No SDK sends an unsigned request; a plain HTTP client does.
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
    body: '{}',
  })
  assert.equal(response.status, 403)
  assert.equal(response.headers.get('x-amzn-query-error'), 'MissingAuthenticationToken;Sender')
  assert.deepEqual(await response.json(), {
    __type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
    Message: 'Request is missing Authentication Token',
  })
  // A SigV4 header without its Signature (or date) is IncompleteSignature, whatever the policy.
  const incomplete = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AmazonSQS.ListQueues',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIDALICE/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host',
    },
    body: '{}',
  })
  assert.equal(incomplete.status, 403)
  assert.equal(incomplete.headers.get('x-amzn-query-error'), 'IncompleteSignature;Sender')
  assert.match(
    ((await incomplete.json()) as { Message: string }).Message,
    /^Authorization header requires 'Signature' parameter\. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header\.$/,
  )
})

test('the clock window: 15 minutes either way, and the SDK corrects its clock offset from the reply', async (t) => {
  const { url } = await startSecured(t)
  const late = sqsAs(t, url, ALICE, { systemClockOffset: -20 * 60_000 })
  await rejectsWith(late.send(new ListQueuesCommand({})), {
    name: 'SignatureDoesNotMatch',
    status: 403,
    message: /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/,
  })
  const early = sqsAs(t, url, ALICE, { systemClockOffset: 20 * 60_000 })
  await rejectsWith(early.send(new ListQueuesCommand({})), {
    name: 'SignatureDoesNotMatch',
    status: 403,
    message: /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/,
  })
  // Within the window is fine.
  await sqsAs(t, url, ALICE, { systemClockOffset: -10 * 60_000 }).send(new ListQueuesCommand({}))
  // The SDK took the offset from our Date header when it failed, so its next request is on time.
  assert.ok(Math.abs(late.config.systemClockOffset) < 5_000, `offset ${late.config.systemClockOffset}`)
  await late.send(new CreateQueueCommand({ QueueName: 'after-skew' }))
})

test('ACLs: bob may not send to payments (AccessDenied as AWS words it), alice may; bob may still read it', async (t) => {
  const { url, broker } = await startSecured(t)
  const alice = sqsAs(t, url, ALICE)
  const bob = sqsAs(t, url, BOB)
  const { QueueUrl } = await alice.send(new CreateQueueCommand({ QueueName: 'payments' }))
  await alice.send(new SendMessageCommand({ QueueUrl, MessageBody: 'from alice' }))
  const denied = {
    name: 'AccessDenied',
    code: 'AccessDenied',
    status: 403,
    message:
      'User: arn:aws:iam::000000000000:user/bob is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:000000000000:payments',
  }
  await rejectsWith(bob.send(new SendMessageCommand({ QueueUrl, MessageBody: 'from bob' })), denied)
  await rejectsWith(
    bob.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: '1', MessageBody: 'from bob' }] })),
    denied,
  )
  const got = await bob.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))
  assert.deepEqual(
    got.Messages?.map((m) => m.Body),
    ['from alice'],
  )
  // Other queues are not covered by the rule.
  const other = await bob.send(new CreateQueueCommand({ QueueName: 'scratch' }))
  await bob.send(new SendMessageCommand({ QueueUrl: other.QueueUrl, MessageBody: 'fine' }))

  // A rule added at run time applies to the next request; deleting it lifts it.
  const rule = {
    principal: 'User:bob',
    host: '*',
    operation: 'Describe' as const,
    permission: 'Deny' as const,
    resourceType: 'Topic' as const,
    resourceName: 'payments',
    patternType: 'Literal' as const,
  }
  await broker.security.acls.add([rule])
  assert.deepEqual((await bob.send(new ListQueuesCommand({}))).QueueUrls, [other.QueueUrl])
  await rejectsWith(bob.send(new GetQueueUrlCommand({ QueueName: 'payments' })), {
    name: 'AccessDenied',
    status: 403,
    message: /user\/bob is not authorized to perform: sqs:getqueueurl on resource: arn:aws:sqs:.*:payments$/,
  })
  assert.equal((await alice.send(new ListQueuesCommand({}))).QueueUrls?.length, 2)
  await broker.security.acls.delete({ principal: 'User:bob', operation: 'Describe' })
  assert.equal((await bob.send(new ListQueuesCommand({}))).QueueUrls?.length, 2)

  // Deny by default: bob, named by no allow rule, may do nothing; alice, granted Delete on scratch, only that.
  broker.security.configure({ defaultPermission: 'deny' })
  await broker.security.acls.add([
    {
      principal: 'User:alice',
      host: '*',
      operation: 'Delete',
      permission: 'Allow',
      resourceType: 'Topic',
      resourceName: 'scratch',
      patternType: 'Literal',
    },
  ])
  assert.deepEqual((await bob.send(new ListQueuesCommand({}))).QueueUrls ?? [], [])
  await rejectsWith(bob.send(new CreateQueueCommand({ QueueName: 'another' })), {
    name: 'AccessDenied',
    status: 403,
    message: /sqs:createqueue on resource: arn:aws:sqs:us-east-1:000000000000:another$/,
  })
  await rejectsWith(alice.send(new SendMessageCommand({ QueueUrl: other.QueueUrl, MessageBody: 'x' })), {
    name: 'AccessDenied',
    status: 403,
  })
  await alice.send(new DeleteQueueCommand({ QueueUrl: other.QueueUrl }))
})

test('a RedrivePolicy needs Write on its dead-letter queue', async (t) => {
  const { url } = await startSecured(t)
  const alice = sqsAs(t, url, ALICE)
  const bob = sqsAs(t, url, BOB)
  const dlq = await alice.send(new CreateQueueCommand({ QueueName: 'payments' }))
  const redrive = JSON.stringify({
    deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:payments',
    maxReceiveCount: 1,
  })
  await rejectsWith(bob.send(new CreateQueueCommand({ QueueName: 'work', Attributes: { RedrivePolicy: redrive } })), {
    name: 'AccessDenied',
    status: 403,
    message: /user\/bob is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:.*:payments$/,
  })
  await alice.send(new CreateQueueCommand({ QueueName: 'work', Attributes: { RedrivePolicy: redrive } }))
  assert.ok(dlq.QueueUrl)
})

test('anonymous on: a cross-site form post (no signature) is refused on SQS and SNS; a same-origin or tool request is served', async (t) => {
  const { url } = await startHarness(t)
  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    })
  const createQueue = 'Action=CreateQueue&Version=2012-11-05&QueueName=forged'
  const crossSite: Array<Record<string, string>> = [
    { origin: 'https://evil.example' },
    { 'sec-fetch-site': 'cross-site' },
  ]
  for (const headers of crossSite) {
    const response = await post(createQueue, headers)
    assert.equal(response.status, 403)
    assert.match(await response.text(), /MissingAuthenticationToken/)
    const sns = await post('Action=CreateTopic&Name=forged', headers)
    assert.equal(sns.status, 403)
    assert.match(await sns.text(), /MissingAuthenticationToken/)
  }
  assert.equal((await post(createQueue, {})).status, 200)
  assert.equal((await post(createQueue, { 'sec-fetch-site': 'same-origin' })).status, 200)
})
