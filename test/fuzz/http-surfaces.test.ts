// Hostile bodies into every HTTP decoder over real sockets: SQS JSON 1.0 (each action), the SQS/SNS query
// forms, schema-registry schemas (JSON Schema and Avro, as strings inside the Confluent JSON body), and the
// REST admin bodies. Inputs are structure-aware mutations (fast-check) of valid requests: values replaced by
// other JSON types, deep nesting, huge numbers, truncation, byte flips, and random bytes. Checked after every
// input: the answer is the service's own error or a success (never a 5xx, never a dropped connection), and
// after each surface the listener still serves a valid request. WHARF_LONG=1 runs 1,000,000 inputs per
// surface instead of 200 (over loopback: hours, not minutes).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { startHarness } from '../protocols/http/helpers.ts'
import { damagedBytes } from './mutations.ts'

// WHARF_FUZZ_RUNS overrides the count (a medium run between the two modes).
const runs = Number(process.env.WHARF_FUZZ_RUNS) || (process.env.WHARF_LONG === '1' ? 1_000_000 : 200)

const sqsJson = (action: string, body: object) => ({ action, body: JSON.stringify(body) })
const jsonSeeds = [
  sqsJson('CreateQueue', { QueueName: 'fz', Attributes: { VisibilityTimeout: '30', DelaySeconds: '0' } }),
  sqsJson('SendMessage', {
    QueueUrl: 'http://127.0.0.1/000000000000/fz',
    MessageBody: 'hello',
    MessageAttributes: { a: { DataType: 'String', StringValue: 'x' } },
  }),
  sqsJson('SendMessageBatch', {
    QueueUrl: 'http://127.0.0.1/000000000000/fz',
    Entries: [{ Id: '1', MessageBody: 'a', DelaySeconds: 0 }],
  }),
  sqsJson('ReceiveMessage', {
    QueueUrl: 'http://127.0.0.1/000000000000/fz',
    MaxNumberOfMessages: 10,
    WaitTimeSeconds: 0,
  }),
  sqsJson('DeleteMessageBatch', {
    QueueUrl: 'http://127.0.0.1/000000000000/fz',
    Entries: [{ Id: '1', ReceiptHandle: 'x' }],
  }),
  sqsJson('SetQueueAttributes', {
    QueueUrl: 'http://127.0.0.1/000000000000/fz',
    Attributes: {
      RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"3"}',
    },
  }),
]

/** A JSON value mutated in structure: one leaf or node replaced by a hostile value. */
function hostileJson(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.constant(1e308),
    fc.constant(-1),
    fc.constant(2 ** 53 + 1),
    fc.string({ maxLength: 50 }),
    fc.constant('x'.repeat(300_000)),
    fc.constant('__proto__'),
    fc.integer({ min: 1, max: 3000 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
    fc.integer({ min: 1, max: 3000 }).map((depth) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 20 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 10 }),
  )
}

function mutateJson(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length === 0) return replacement
  const [key, child] = entries[(path[0] as number) % entries.length] as [string, unknown]
  const copy: Record<string, unknown> = Array.isArray(value)
    ? ([...value] as unknown as Record<string, unknown>)
    : { ...value }
  copy[key] = mutateJson(child, path.slice(1), replacement)
  return copy
}

function damaged(seed: string): fc.Arbitrary<Buffer> {
  return damagedBytes(Buffer.from(seed))
}

async function post(url: string, headers: Record<string, string>, body: Buffer | string): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers, body })
  await response.arrayBuffer()
  return response.status
}

function assertServiceAnswer(status: number, what: string): void {
  assert.ok(status >= 200 && status < 500, `${what}: got ${status}`)
}

test(`SQS JSON 1.0 actions: ${runs} structurally hostile bodies per run, only 2xx/4xx`, async (t) => {
  const { url } = await startHarness(t)
  await post(
    `${url}/`,
    { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.CreateQueue' },
    jsonSeeds[0]!.body,
  )
  await fc.assert(
    fc.asyncProperty(
      fc.nat(jsonSeeds.length - 1),
      fc.array(fc.nat(20), { maxLength: 4 }),
      hostileJson(),
      fc.boolean(),
      async (i, path, replacement, raw) => {
        const seed = jsonSeeds[i]!
        const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${seed.action}` }
        const body = JSON.stringify(mutateJson(JSON.parse(seed.body), path, replacement))
        assertServiceAnswer(await post(`${url}/`, headers, body), `${seed.action} ${body.slice(0, 200)}`)
        if (raw) {
          const bytes = fc.sample(damaged(seed.body), 1)[0]!
          assertServiceAnswer(await post(`${url}/`, headers, bytes), `${seed.action} damaged`)
        }
      },
    ),
    { numRuns: runs },
  )
  const ok = await post(
    `${url}/`,
    { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
    '{}',
  )
  assert.equal(ok, 200, 'still serving')
})

test(`SQS and SNS query forms: ${runs} damaged forms, only 2xx/4xx`, async (t) => {
  const { url } = await startHarness(t)
  const forms = [
    'Action=CreateQueue&QueueName=fz&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=30&Version=2012-11-05',
    'Action=SendMessage&QueueUrl=http%3A%2F%2F127.0.0.1%2F000000000000%2Ffz&MessageBody=hi&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=x',
    'Action=CreateTopic&Name=fzt&Version=2010-03-31',
    'Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Afzt&Message=hi&MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=x',
    'Action=Subscribe&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Afzt&Protocol=sqs&Endpoint=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Afz&Attributes.entry.1.key=FilterPolicy&Attributes.entry.1.value=%7B%22a%22%3A%5B%22x%22%5D%7D',
  ]
  const headers = { 'content-type': 'application/x-www-form-urlencoded' }
  for (const form of forms) await post(`${url}/`, headers, form)
  await fc.assert(
    fc.asyncProperty(
      fc.nat(forms.length - 1).chain((i) => damaged(forms[i]!)),
      async (body) => {
        assertServiceAnswer(await post(`${url}/`, headers, body), `form ${body.toString('latin1').slice(0, 200)}`)
      },
    ),
    { numRuns: runs },
  )
  assert.equal(await post(`${url}/`, headers, 'Action=ListQueues&Version=2012-11-05'), 200, 'still serving')
})

test(`schema registry: ${runs} hostile JSON Schema and Avro schemas, only 2xx/4xx`, async (t) => {
  const { url } = await startHarness(t)
  const headers = { 'content-type': 'application/vnd.schemaregistry.v1+json' }
  const seeds = [
    {
      schemaType: 'JSON',
      schema: JSON.stringify({ type: 'object', properties: { a: { type: 'string', pattern: '^a+$' } } }),
    },
    { schema: JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] }) },
  ]
  await fc.assert(
    fc.asyncProperty(
      fc.nat(seeds.length - 1),
      fc.array(fc.nat(20), { maxLength: 5 }),
      hostileJson(),
      fc.boolean(),
      async (i, path, replacement, damage) => {
        const seed = seeds[i]!
        const schema = JSON.stringify(mutateJson(JSON.parse(seed.schema), path, replacement))
        const body = JSON.stringify({ ...seed, schema })
        const status = await post(
          `${url}/subjects/fz-${i}/versions`,
          headers,
          damage ? fc.sample(damaged(body), 1)[0]! : body,
        )
        assertServiceAnswer(status, `schema ${body.slice(0, 200)}`)
      },
    ),
    { numRuns: runs },
  )
  const ok = await post(`${url}/subjects/fz-ok/versions`, headers, JSON.stringify(seeds[1]))
  assert.equal(ok, 200, 'still serving')
})

test(`REST admin bodies: ${runs} hostile bodies for streams, queues, exchanges, bindings, messages`, async (t) => {
  const { url } = await startHarness(t)
  const headers = { 'content-type': 'application/json' }
  const seeds: Array<[string, object]> = [
    ['/api/v1/streams', { name: 'fzs', partitions: 2, retentionMs: 1000 }],
    ['/api/v1/queues', { name: 'fzq', durable: true, arguments: { 'x-max-length': 10 } }],
    ['/api/v1/exchanges', { name: 'fzx', type: 'topic', durable: true }],
    ['/api/v1/bindings', { source: 'fzx', destination: { kind: 'queue', name: 'fzq' }, key: 'a.#' }],
    ['/api/v1/queues/fzq/messages', { value: 'hi', headers: { a: 'b' } }],
  ]
  for (const [path, body] of seeds) await post(`${url}${path}`, headers, JSON.stringify(body))
  await fc.assert(
    fc.asyncProperty(
      fc.nat(seeds.length - 1),
      fc.array(fc.nat(20), { maxLength: 4 }),
      hostileJson(),
      async (i, path, replacement) => {
        const [route, seed] = seeds[i]!
        const body = JSON.stringify(mutateJson(seed, path, replacement))
        assertServiceAnswer(await post(`${url}${route}`, headers, body), `${route} ${body.slice(0, 200)}`)
      },
    ),
    { numRuns: runs },
  )
  const overview = await fetch(`${url}/api/v1/overview`)
  assert.equal(overview.status, 200, 'still serving')
})
