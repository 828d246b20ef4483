// SQS over the AWS query protocol (form in, XML out) against a real, unmodified query client: Debian's
// boto3/botocore 1.29 (botocore switched SQS to JSON only in 1.31.82; the installed aws-sdk v2 2.1693 already
// speaks JSON, so it cannot prove this front end). botocore does not check MD5s, so the test checks them
// here against what the client parsed out of the XML. A message sent over query is also received with the
// JSON SDK (@aws-sdk/client-sqs), proving both front ends share one service.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs'
import { md5OfAttributes } from '../../../../src/protocols/http/sqs/md5.ts'
import { sqsClient, startHarness } from '../helpers.ts'

const PRELUDE = `
import sys, json, base64
import boto3, botocore
from botocore.config import Config
from botocore.exceptions import ClientError
sqs = boto3.client('sqs', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='x',
                   aws_secret_access_key='x', config=Config(retries={'max_attempts': 1}))
assert sqs.meta.service_model.protocol == 'query', sqs.meta.service_model.protocol
out = {}
def err(fn, **kw):
    try:
        fn(**kw)
        return None
    except ClientError as e:
        return {'code': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode'],
                'message': e.response['Error'].get('Message')}
def strip(r):
    r = dict(r); r.pop('ResponseMetadata', None); return r
`

// biome-ignore lint/suspicious/noExplicitAny: the Python client's replies are asserted field by field
type Py = Record<string, any>

/** Runs a boto3 script (PRELUDE + body, which fills `out`) and returns `out`. */
async function boto(url: string, body: string): Promise<Py> {
  const script = `${PRELUDE}\n${body}\nprint(json.dumps(out, default=lambda b: base64.b64encode(b).decode() if isinstance(b, bytes) else str(b)))\n`
  const child = spawn('/usr/bin/python3', ['-c', script, url], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  assert.equal(code, 0, `python failed: ${stderr}`)
  return JSON.parse(stdout) as Py
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex')

test('query: queue lifecycle — create, url, list, attributes, tags, purge, delete, errors', async (t) => {
  const { url } = await startHarness(t)
  const out = await boto(
    url,
    `
q = sqs.create_queue(QueueName='orders', Attributes={'VisibilityTimeout': '45'}, tags={'team': 'a'})['QueueUrl']
out['url'] = q
out['again'] = sqs.create_queue(QueueName='orders', Attributes={'VisibilityTimeout': '45'})['QueueUrl']
sqs.create_queue(QueueName='other')
out['byName'] = sqs.get_queue_url(QueueName='orders')['QueueUrl']
out['all'] = sorted(sqs.list_queues()['QueueUrls'])
out['prefixed'] = sqs.list_queues(QueueNamePrefix='ord')['QueueUrls']
out['none'] = strip(sqs.list_queues(QueueNamePrefix='zzz'))
out['attrs'] = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=['All'])['Attributes']
sqs.set_queue_attributes(QueueUrl=q, Attributes={'DelaySeconds': '2', 'MaximumMessageSize': '2048'})
out['after'] = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=['DelaySeconds', 'MaximumMessageSize'])['Attributes']
sqs.tag_queue(QueueUrl=q, Tags={'env': 'dev', 'x': '<&>'})
sqs.untag_queue(QueueUrl=q, TagKeys=['team'])
out['tags'] = sqs.list_queue_tags(QueueUrl=q)['Tags']
sqs.set_queue_attributes(QueueUrl=q, Attributes={'DelaySeconds': '0'})
sqs.send_message(QueueUrl=q, MessageBody='gone soon')
sqs.purge_queue(QueueUrl=q)
out['afterPurge'] = strip(sqs.receive_message(QueueUrl=q))
out['badAttr'] = err(sqs.set_queue_attributes, QueueUrl=q, Attributes={'VisibilityTimeout': 'nope'})
sqs.delete_queue(QueueUrl=q)
out['missing'] = err(sqs.get_queue_url, QueueName='orders')
out['missingSend'] = err(sqs.send_message, QueueUrl=q, MessageBody='x')
out['badName'] = err(sqs.create_queue, QueueName='bad name!')
`,
  )
  const queueUrl = `${url}/000000000000/orders`
  assert.equal(out.url, queueUrl)
  assert.equal(out.again, queueUrl)
  assert.equal(out.byName, queueUrl)
  assert.deepEqual(out.all, [queueUrl, `${url}/000000000000/other`])
  assert.deepEqual(out.prefixed, [queueUrl])
  assert.deepEqual(out.none, {})
  assert.equal(out.attrs.VisibilityTimeout, '45')
  assert.equal(out.attrs.QueueArn, 'arn:aws:sqs:us-east-1:000000000000:orders')
  assert.equal(out.attrs.ApproximateNumberOfMessages, '0')
  assert.deepEqual(out.after, { DelaySeconds: '2', MaximumMessageSize: '2048' })
  assert.deepEqual(out.tags, { env: 'dev', x: '<&>' })
  assert.deepEqual(out.afterPurge, {})
  assert.equal(out.badAttr.code, 'InvalidAttributeValue')
  assert.deepEqual(
    { code: out.missing.code, status: out.missing.status },
    { code: 'AWS.SimpleQueueService.NonExistentQueue', status: 400 },
  )
  assert.equal(out.missingSend.code, 'AWS.SimpleQueueService.NonExistentQueue')
  assert.equal(out.badName.code, 'InvalidParameterValue')
})

test('query: send/receive with message and system attributes, batches, visibility, delete; JSON sees it', async (t) => {
  const { url } = await startHarness(t)
  const body = 'hello <xml> & "quotes" \u00e9\u4e2d\r\nline2'
  const out = await boto(
    url,
    `
q = sqs.create_queue(QueueName='work')['QueueUrl']
body = ${JSON.stringify(body)}
attrs = {'color': {'DataType': 'String', 'StringValue': 'red & <blue>'},
         'n': {'DataType': 'Number', 'StringValue': '42'},
         'raw': {'DataType': 'Binary', 'BinaryValue': b'\\x00\\x01\\xff'}}
out['sent'] = strip(sqs.send_message(QueueUrl=q, MessageBody=body, MessageAttributes=attrs))
r = sqs.receive_message(QueueUrl=q, MessageAttributeNames=['All'], AttributeNames=['All'], VisibilityTimeout=1)
out['got'] = r['Messages']
m = r['Messages'][0]
out['deleteStale'] = err(sqs.delete_message, QueueUrl=q, ReceiptHandle='not-a-handle')
sqs.change_message_visibility(QueueUrl=q, ReceiptHandle=m['ReceiptHandle'], VisibilityTimeout=0)
again = sqs.receive_message(QueueUrl=q, AttributeNames=['ApproximateReceiveCount'], MessageAttributeNames=['color'])['Messages'][0]
out['again'] = again
sqs.delete_message(QueueUrl=q, ReceiptHandle=again['ReceiptHandle'])
out['empty'] = strip(sqs.receive_message(QueueUrl=q, WaitTimeSeconds=1))
out['batch'] = strip(sqs.send_message_batch(QueueUrl=q, Entries=[
    {'Id': 'a', 'MessageBody': 'one', 'MessageAttributes': {'k': {'DataType': 'String', 'StringValue': 'v'}}},
    {'Id': 'b', 'MessageBody': 'two'},
    {'Id': 'c', 'MessageBody': 'three', 'DelaySeconds': 901},
]))
got = []
for _ in range(5):
    got += sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, MessageAttributeNames=['All']).get('Messages', [])
    if len(got) >= 2: break
out['batchGot'] = got
out['vis'] = strip(sqs.change_message_visibility_batch(QueueUrl=q, Entries=[
    {'Id': 'x', 'ReceiptHandle': got[0]['ReceiptHandle'], 'VisibilityTimeout': 30}]))
out['del'] = strip(sqs.delete_message_batch(QueueUrl=q, Entries=[
    {'Id': 'd' + str(i), 'ReceiptHandle': g['ReceiptHandle']} for i, g in enumerate(got)]))
out['emptyBatch'] = err(sqs.delete_message_batch, QueueUrl=q, Entries=[])
sqs.send_message(QueueUrl=q, MessageBody='for json', MessageAttributes={'via': {'DataType': 'String', 'StringValue': 'query'}})
`,
  )
  const expectedAttrMd5 = md5OfAttributes({
    color: { DataType: 'String', StringValue: 'red & <blue>' },
    n: { DataType: 'Number', StringValue: '42' },
    raw: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 255]) },
  })
  assert.equal(out.sent.MD5OfMessageBody, md5(body))
  assert.equal(out.sent.MD5OfMessageAttributes, expectedAttrMd5)
  assert.match(out.sent.MessageId, /^[0-9a-f-]{36}$/)
  const [m] = out.got
  assert.equal(out.got.length, 1)
  assert.equal(m.Body, body, 'body survives XML escaping, including CR')
  assert.equal(m.MD5OfBody, md5(body))
  assert.equal(m.MessageId, out.sent.MessageId)
  assert.equal(m.MD5OfMessageAttributes, expectedAttrMd5)
  assert.deepEqual(m.MessageAttributes, {
    color: { DataType: 'String', StringValue: 'red & <blue>' },
    n: { DataType: 'Number', StringValue: '42' },
    raw: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 255]).toString('base64') },
  })
  assert.equal(m.Attributes.ApproximateReceiveCount, '1')
  assert.equal(m.Attributes.SenderId, '000000000000')
  assert.match(m.Attributes.SentTimestamp, /^\d{13}$/)
  assert.equal(out.deleteStale.code, 'ReceiptHandleIsInvalid')
  assert.equal(out.again.Attributes.ApproximateReceiveCount, '2')
  assert.deepEqual(Object.keys(out.again.MessageAttributes), ['color'])
  assert.deepEqual(out.empty, {})

  assert.deepEqual(
    out.batch.Successful.map((s: { Id: string }) => s.Id),
    ['a', 'b'],
  )
  assert.equal(out.batch.Successful[0].MD5OfMessageBody, md5('one'))
  assert.equal(
    out.batch.Successful[0].MD5OfMessageAttributes,
    md5OfAttributes({ k: { DataType: 'String', StringValue: 'v' } }),
  )
  assert.equal(out.batch.Failed.length, 1)
  assert.equal(out.batch.Failed[0].Id, 'c')
  assert.equal(out.batch.Failed[0].SenderFault, true)
  assert.deepEqual(out.batchGot.map((g: { Body: string }) => g.Body).sort(), ['one', 'two'])
  assert.deepEqual(out.vis, { Successful: [{ Id: 'x' }] })
  assert.deepEqual(out.del.Successful.map((s: { Id: string }) => s.Id).sort(), ['d0', 'd1'])
  assert.equal(out.emptyBatch.code, 'AWS.SimpleQueueService.EmptyBatchRequest')

  // The same queue over JSON 1.0: one service behind both front ends.
  const json = sqsClient(t, url)
  const QueueUrl = `${url}/000000000000/work`
  const received = await json.send(new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['All'] }))
  assert.equal(received.Messages?.[0]?.Body, 'for json')
  assert.equal(received.Messages?.[0]?.MessageAttributes?.via?.StringValue, 'query')
  await json.send(new SendMessageCommand({ QueueUrl, MessageBody: 'from json' }))
  const back = await boto(
    url,
    `out['m'] = sqs.receive_message(QueueUrl='${QueueUrl}', VisibilityTimeout=0)['Messages']`,
  )
  assert.deepEqual(
    back.m.map((x: { Body: string }) => x.Body),
    ['from json'],
  )
})

test('query: FIFO queue — one in flight per group, order, dedup, sequence numbers', async (t) => {
  const { url } = await startHarness(t)
  const out = await boto(
    url,
    `
q = sqs.create_queue(QueueName='jobs.fifo', Attributes={'FifoQueue': 'true', 'ContentBasedDeduplication': 'true'})['QueueUrl']
out['url'] = q
out['s1'] = strip(sqs.send_message(QueueUrl=q, MessageBody='first', MessageGroupId='g'))
out['dup'] = strip(sqs.send_message(QueueUrl=q, MessageBody='first', MessageGroupId='g'))
out['s2'] = strip(sqs.send_message(QueueUrl=q, MessageBody='second', MessageGroupId='g', MessageDeduplicationId='d2'))
out['noGroup'] = err(sqs.send_message, QueueUrl=q, MessageBody='x')
r = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, AttributeNames=['All'])['Messages']
out['blocked'] = strip(sqs.receive_message(QueueUrl=q))
sqs.delete_message(QueueUrl=q, ReceiptHandle=r[0]['ReceiptHandle'])
r += sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, AttributeNames=['All'])['Messages']
out['got'] = r
`,
  )
  assert.equal(out.url, `${url}/000000000000/jobs.fifo`)
  assert.equal(out.dup.MessageId, out.s1.MessageId, 'content-based dedup returns the original id')
  assert.ok(BigInt(out.s2.SequenceNumber) > BigInt(out.s1.SequenceNumber))
  assert.equal(out.noGroup.code, 'MissingParameter')
  assert.deepEqual(
    out.got.map((m: { Body: string }) => m.Body),
    ['first', 'second'],
  )
  assert.equal(out.got[0].Attributes.MessageGroupId, 'g')
  assert.equal(out.got[1].Attributes.MessageDeduplicationId, 'd2')
  assert.equal(out.got[0].Attributes.SequenceNumber, out.s1.SequenceNumber)
  assert.deepEqual(out.blocked, {}, 'the group is in flight')
})

test('query: raw requests — queue-URL path, unknown action, SNS still answers on POST /', async (t) => {
  const { url } = await startHarness(t)
  const post = async (path: string, form: Record<string, string>) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    })
    return { status: response.status, text: await response.text() }
  }
  const v = { Version: '2012-11-05' }
  const created = await post('/', { ...v, Action: 'CreateQueue', QueueName: 'pathy' })
  assert.equal(created.status, 200)
  assert.match(created.text, /<CreateQueueResponse xmlns="http:\/\/queue.amazonaws.com\/doc\/2012-11-05\/">/)
  const sent = await post('/000000000000/pathy', { ...v, Action: 'SendMessage', MessageBody: 'via path' })
  assert.equal(sent.status, 200, sent.text)
  assert.match(sent.text, new RegExp(`<MD5OfMessageBody>${md5('via path')}</MD5OfMessageBody>`))
  const got = await post('/000000000000/pathy', { ...v, Action: 'ReceiveMessage' })
  assert.match(got.text, /<ReceiveMessageResult><Message>.*<Body>via path<\/Body>.*<\/Message><\/ReceiveMessageResult>/)
  const deleted = await post('/000000000000/pathy', { ...v, Action: 'DeleteQueue' })
  assert.match(deleted.text, /^<\?xml version="1.0"\?>\n<DeleteQueueResponse [^>]*><ResponseMetadata>/)
  const bad = await post('/', { ...v, Action: 'Frobnicate' })
  assert.equal(bad.status, 400)
  assert.match(bad.text, /<ErrorResponse [^>]*><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code>/)
  const gone = await post('/000000000000/pathy', { ...v, Action: 'GetQueueAttributes' })
  assert.match(gone.text, /<Code>AWS.SimpleQueueService.NonExistentQueue<\/Code>/)
  const sns = await post('/', { Version: '2010-03-31', Action: 'ListTopics' })
  assert.equal(sns.status, 200)
  assert.match(sns.text, /<ListTopicsResponse xmlns="http:\/\/sns.amazonaws.com\/doc\/2010-03-31\/">/)
})
