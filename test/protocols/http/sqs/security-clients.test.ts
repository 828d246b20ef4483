// SQS authentication and authorization with other real clients: Debian's boto3 (botocore 1.29, SQS over the
// query protocol with XML errors), a boto3 presigned URL fetched with plain HTTP, and the `aws` CLI (JSON
// protocol) when it is installed — it is not in CI, where that test is skipped.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs'
import {
  ALICE,
  awsCli,
  BOB,
  boto,
  cli,
  INVALID_TOKEN,
  SIGNATURE_MISMATCH,
  STRANGER,
  sqsAs,
  startSecured,
} from '../aws-security.ts'

const KEYS = `
ALICE = ('${ALICE.accessKeyId}', '${ALICE.secretAccessKey}')
BOB = ('${BOB.accessKeyId}', '${BOB.secretAccessKey}')
STRANGER = ('${STRANGER.accessKeyId}', '${STRANGER.secretAccessKey}')
`

test('boto3 (query protocol): right secret, wrong secret, AccessDenied, unknown key with anonymous on', async (t) => {
  const { url } = await startSecured(t)
  const out = await boto(
    url,
    `${KEYS}
alice = client('sqs', *ALICE)
assert alice.meta.service_model.protocol == 'query', alice.meta.service_model.protocol
q = alice.create_queue(QueueName='payments')['QueueUrl']
alice.send_message(QueueUrl=q, MessageBody='from alice')
out['wrong'] = err(client('sqs', ALICE[0], 'not-the-secret').send_message, QueueUrl=q, MessageBody='forged')
bob = client('sqs', *BOB)
out['denied'] = err(bob.send_message, QueueUrl=q, MessageBody='from bob')
out['bobReads'] = [m['Body'] for m in bob.receive_message(QueueUrl=q, WaitTimeSeconds=1).get('Messages', [])]
out['stranger'] = client('sqs', *STRANGER).list_queues().get('QueueUrls')
`,
  )
  assert.deepEqual(out.wrong, { code: 'SignatureDoesNotMatch', status: 403, message: SIGNATURE_MISMATCH })
  assert.deepEqual(out.denied, {
    code: 'AccessDenied',
    status: 403,
    message:
      'User: arn:aws:iam::000000000000:user/bob is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:000000000000:payments',
  })
  assert.deepEqual(out.bobReads, ['from alice'])
  assert.deepEqual(out.stranger, [`${url}/000000000000/payments`])
})

test('boto3 with anonymous off: an unknown key is InvalidClientTokenId, the right key works', async (t) => {
  const { url } = await startSecured(t, { anonymous: false })
  const out = await boto(
    url,
    `${KEYS}
out['unknown'] = err(client('sqs', *STRANGER).list_queues)
out['created'] = client('sqs', *BOB).create_queue(QueueName='jobs')['QueueUrl']
`,
  )
  assert.deepEqual(out.unknown, { code: 'InvalidClientTokenId', status: 403, message: INVALID_TOKEN })
  assert.equal(out.created, `${url}/000000000000/jobs`)
})

test("botocore's own signer: repeated and encoded query fields, padded header values, a queue URL path", async (t) => {
  const { url } = await startSecured(t, { anonymous: false })
  await sqsAs(t, url, ALICE).send(new CreateQueueCommand({ QueueName: 'odd' }))
  const out = await boto(
    url,
    `${KEYS}
import urllib.request, urllib.error
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
def send(keys, path, body, headers):
    request = AWSRequest(method='POST', url=URL + path, data=body, headers=headers)
    SigV4Auth(Credentials(*keys), 'sqs', 'ap-south-1').add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method='POST')
    try:
        with urllib.request.urlopen(raw) as response:
            return [response.status, response.read().decode()]
    except urllib.error.HTTPError as e:
        return [e.code, e.read().decode()]
path = '/000000000000/odd?z=last&a=second%20one&a=first&tilde=~x&empty='
body = b'Action=GetQueueAttributes&Version=2012-11-05&AttributeName.1=QueueArn'
headers = {'Content-Type': 'application/x-www-form-urlencoded', 'X-Wharf-Note': '  spaced   out  value '}
out['ok'] = send(ALICE, path, body, headers)
out['wrong'] = send((ALICE[0], 'not-the-secret'), path, body, headers)
`,
  )
  assert.equal(out.ok[0], 200, out.ok[1])
  assert.match(out.ok[1], /<Name>QueueArn<\/Name><Value>arn:aws:sqs:us-east-1:000000000000:odd<\/Value>/)
  assert.equal(out.wrong[0], 403)
  assert.match(out.wrong[1], /<Code>SignatureDoesNotMatch<\/Code>/)
})

test('a boto3 presigned URL is served over plain HTTP; tampered or expired, it is refused', async (t) => {
  const { url } = await startSecured(t, { anonymous: false })
  const alice = sqsAs(t, url, ALICE)
  const { QueueUrl } = await alice.send(new CreateQueueCommand({ QueueName: 'inbox' }))
  const out = await boto(
    url,
    `${KEYS}
import datetime
from unittest import mock
alice = client('sqs', *ALICE)
params = {'QueueUrl': '${QueueUrl}', 'MessageBody': 'via a presigned url'}
out['url'] = alice.generate_presigned_url('send_message', Params=params, ExpiresIn=300)
# Signed ten minutes ago for one minute: expired, though within the 15-minute clock window.
# botocore signs in botocore.auth, or in botocore.crt.auth when awscrt is installed (the aws CLI brings it).
import contextlib
past = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)
clocks = ['botocore.auth.datetime']
try:
    import botocore.crt.auth
    clocks.append('botocore.crt.auth.datetime')
except ImportError:
    pass
with contextlib.ExitStack() as stack:
    for target in clocks:
        clock = stack.enter_context(mock.patch(target))
        clock.datetime.utcnow.return_value = past
        clock.timezone = datetime.timezone
    out['expired'] = alice.generate_presigned_url('send_message', Params=params, ExpiresIn=60)
`,
  )
  const presigned = new URL(out.url as string)
  assert.equal(presigned.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256')
  assert.equal(presigned.searchParams.get('Action'), 'SendMessage')

  const sent = await fetch(presigned, { method: 'POST' })
  const sentXml = await sent.text()
  assert.equal(sent.status, 200, sentXml)
  assert.match(sentXml, /<SendMessageResponse .*<MD5OfMessageBody>[0-9a-f]{32}<\/MD5OfMessageBody>/)
  const got = await alice.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }))
  assert.deepEqual(
    got.Messages?.map((m) => m.Body),
    ['via a presigned url'],
  )

  const tampered = new URL(presigned)
  tampered.searchParams.set('MessageBody', 'something else')
  const refused = await fetch(tampered, { method: 'POST' })
  assert.equal(refused.status, 403)
  assert.match(await refused.text(), /<Code>SignatureDoesNotMatch<\/Code><Message>The request signature we calculated/)

  const expired = await fetch(out.expired as string, { method: 'POST' })
  assert.equal(expired.status, 400)
  assert.match(await expired.text(), /<Code>RequestExpired<\/Code><Message>Request has expired\.<\/Message>/)
  const none = await alice.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }))
  assert.equal(none.Messages, undefined)
})

test('the aws CLI: right secret, wrong secret, AccessDenied', async (t) => {
  const aws = awsCli()
  if (aws === undefined) {
    t.skip('the aws CLI is not installed')
    return
  }
  const { url } = await startSecured(t, { anonymous: false })
  const created = await cli(aws, url, ALICE, ['sqs', 'create-queue', '--queue-name', 'payments'])
  assert.equal(created.code, 0, created.stderr)
  const queueUrl = (JSON.parse(created.stdout) as { QueueUrl: string }).QueueUrl
  const sent = await cli(aws, url, ALICE, ['sqs', 'send-message', '--queue-url', queueUrl, '--message-body', 'hi'])
  assert.equal(sent.code, 0, sent.stderr)

  const wrong = await cli(aws, url, { ...ALICE, secretAccessKey: 'not-the-secret' }, ['sqs', 'list-queues'])
  assert.notEqual(wrong.code, 0)
  assert.match(
    wrong.stderr,
    /An error occurred \(SignatureDoesNotMatch\) when calling the ListQueues operation( \(reached max retries: \d+\))?: The request signature we calculated does not match/,
  )
  const unknown = await cli(aws, url, STRANGER, ['sqs', 'list-queues'])
  assert.notEqual(unknown.code, 0)
  assert.match(unknown.stderr, /\(InvalidClientTokenId\) when calling the ListQueues operation/)
  const denied = await cli(aws, url, BOB, ['sqs', 'send-message', '--queue-url', queueUrl, '--message-body', 'x'])
  assert.notEqual(denied.code, 0)
  assert.match(
    denied.stderr,
    /\(AccessDenied\) when calling the SendMessage operation( \(reached max retries: \d+\))?: User: arn:aws:iam::000000000000:user\/bob is not authorized to perform: sqs:sendmessage/,
  )
})
