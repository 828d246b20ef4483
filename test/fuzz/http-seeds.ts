// Valid requests the HTTP fuzzers damage: one per SQS JSON action shape, SQS and SNS query forms, a JSON
// Schema and an Avro schema for the registry, and the REST admin bodies. Shared by the socket-level and the
// in-process fuzzers so both start from the same requests.

const sqsJson = (action: string, body: object) => ({ action, body: JSON.stringify(body) })
const queueUrl = 'http://127.0.0.1/000000000000/fz'

export const sqsJsonSeeds = [
  sqsJson('CreateQueue', { QueueName: 'fz', Attributes: { VisibilityTimeout: '30', DelaySeconds: '0' } }),
  sqsJson('SendMessage', {
    QueueUrl: queueUrl,
    MessageBody: 'hello',
    MessageAttributes: { a: { DataType: 'String', StringValue: 'x' } },
  }),
  sqsJson('SendMessageBatch', { QueueUrl: queueUrl, Entries: [{ Id: '1', MessageBody: 'a', DelaySeconds: 0 }] }),
  sqsJson('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  sqsJson('DeleteMessageBatch', { QueueUrl: queueUrl, Entries: [{ Id: '1', ReceiptHandle: 'x' }] }),
  sqsJson('SetQueueAttributes', {
    QueueUrl: queueUrl,
    Attributes: {
      RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"3"}',
    },
  }),
]

export const sqsQueryForms = [
  'Action=CreateQueue&QueueName=fz&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=30&Version=2012-11-05',
  'Action=SendMessage&QueueUrl=http%3A%2F%2F127.0.0.1%2F000000000000%2Ffz&MessageBody=hi&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=x&Version=2012-11-05',
  'Action=SendMessageBatch&QueueUrl=http%3A%2F%2F127.0.0.1%2F000000000000%2Ffz&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.1.DelaySeconds=0&Version=2012-11-05',
  'Action=ReceiveMessage&QueueUrl=http%3A%2F%2F127.0.0.1%2F000000000000%2Ffz&MaxNumberOfMessages=10&AttributeName.1=All&Version=2012-11-05',
]

export const snsQueryForms = [
  'Action=CreateTopic&Name=fzt&Version=2010-03-31',
  'Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Afzt&Message=hi&MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=x',
  'Action=Subscribe&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Afzt&Protocol=sqs&Endpoint=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Afz&Attributes.entry.1.key=FilterPolicy&Attributes.entry.1.value=%7B%22a%22%3A%5B%22x%22%5D%7D',
  'Action=PublishBatch&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Afzt&PublishBatchRequestEntries.member.1.Id=a&PublishBatchRequestEntries.member.1.Message=x',
]

export const registrySeeds: Array<{ schemaType?: string; schema: string }> = [
  {
    schemaType: 'JSON',
    schema: JSON.stringify({ type: 'object', properties: { a: { type: 'string', pattern: '^a+$' } } }),
  },
  { schema: JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] }) },
]

export const adminSeeds: Array<[route: string, body: object]> = [
  ['/api/v1/streams', { name: 'fzs', partitions: 2, retentionMs: 1000 }],
  ['/api/v1/queues', { name: 'fzq', durable: true, arguments: { 'x-max-length': 10 } }],
  ['/api/v1/exchanges', { name: 'fzx', type: 'topic', durable: true }],
  ['/api/v1/bindings', { source: 'fzx', destination: { kind: 'queue', name: 'fzq' }, key: 'a.#' }],
  ['/api/v1/queues/fzq/messages', { value: 'hi', headers: { a: 'b' } }],
]
