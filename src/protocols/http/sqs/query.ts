// SQS over the AWS query protocol (`Action=…&Version=2012-11-05`, form in, XML out): what aws-sdk-js v2
// before its JSON switch, botocore < 1.31.82, older Java/PHP SDKs and the CLI built on them speak. This is
// a shape translator only: the form is decoded into the same PascalCase input the JSON 1.0 front end
// passes to SqsService, and the same output object is written as query XML, so both protocols share
// every rule, limit and MD5. Decoding and encoding are sans-I/O; `handleSqsQuery` is the only I/O.
import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { errorXml, escapeXml, flatMap, members, responseXml } from '../sns/query.js'
import { type SqsError, sqsErrorOrInternal } from './errors.js'
import { clientGone, NEVER_ABORTED } from './routes.js'
import type { SqsService } from './service.js'

export const SQS_QUERY_VERSION = '2012-11-05'
export const SQS_NAMESPACE = `http://queue.amazonaws.com/doc/${SQS_QUERY_VERSION}/`

type Input = Record<string, unknown>

/** Flattened scalar lists: `AttributeName.1=All` → `AttributeNames: ['All']`. */
const SCALAR_LISTS: Record<string, string> = {
  AttributeName: 'AttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames',
  MessageAttributeName: 'MessageAttributeNames',
  TagKey: 'TagKeys',
  AWSAccountId: 'AWSAccountIds',
  ActionName: 'Actions',
}

/** Flattened string maps: `Attribute.1.Name/Value`, `Tag.1.Key/Value` (CreateQueue's `tags` reads `Tags` too). */
const STRING_MAPS: Record<string, readonly [member: string, key: string, value: string]> = {
  Attribute: ['Attributes', 'Name', 'Value'],
  Tag: ['Tags', 'Key', 'Value'],
}

/** `MessageAttribute.1.Name` + `MessageAttribute.1.Value.DataType/StringValue/BinaryValue` (binary is base64, as in JSON). */
const ATTRIBUTE_MAPS: Record<string, string> = {
  MessageAttribute: 'MessageAttributes',
  MessageSystemAttribute: 'MessageSystemAttributes',
}

/** `SendMessageBatchRequestEntry.1.Id=…` → `Entries: [{ Id }]`; each entry decodes like a top-level request. */
const BATCH_ENTRY = /^(SendMessage|DeleteMessage|ChangeMessageVisibility)BatchRequestEntry$/

/** Envelope and signing fields, not action input (SigV4 is checked by the authenticator; SigV2 is not supported). */
const ENVELOPE = new Set([
  'Action',
  'Version',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'X-Amz-Content-Sha256',
  'AWSAccessKeyId',
  'SignatureMethod',
  'SignatureVersion',
  'Signature',
  'Timestamp',
  'Expires',
  'SecurityToken',
])

/** An empty list or map is sent as its bare member name (`Entries=`): decoded to an empty one, not a string. */
const EMPTY_LISTS = new Set([...Object.values(SCALAR_LISTS), 'Entries'])
const EMPTY_MAPS = new Set([...Object.values(STRING_MAPS).map((m) => m[0]), ...Object.values(ATTRIBUTE_MAPS)])

function scalarOrEmpty(key: string, value: string): unknown {
  if (value !== '') return value
  return EMPTY_LISTS.has(key) ? [] : EMPTY_MAPS.has(key) ? {} : value
}

/** Scalar lists `Prefix.N=value`, in index order; bounded by the form's field count. */
function scalarList(params: Map<string, string>, prefix: string): string[] {
  const found: Array<[number, string]> = []
  const head = `${prefix}.`
  for (const [key, value] of params) {
    if (!key.startsWith(head)) continue
    const n = Number(key.slice(head.length))
    if (Number.isInteger(n) && n >= 1) found.push([n, value])
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, value]) => value)
}

/** The decoded form as the JSON 1.0 input object SqsService takes. Unknown dotted fields are ignored, as AWS does. */
export function decodeQuery(params: Map<string, string>): Input {
  const out: Input = {}
  const heads = new Set<string>()
  for (const [key, value] of params) {
    const dot = key.indexOf('.')
    if (dot === -1) {
      if (!ENVELOPE.has(key)) out[key] = scalarOrEmpty(key, value)
    } else heads.add(key.slice(0, dot))
  }
  for (const head of heads) {
    const list = SCALAR_LISTS[head]
    if (list !== undefined) {
      out[list] = scalarList(params, head)
      continue
    }
    const map = STRING_MAPS[head]
    if (map !== undefined) {
      out[map[0]] = flatMap(params, head, map[1], map[2])
      continue
    }
    const attributes = ATTRIBUTE_MAPS[head]
    if (attributes !== undefined) {
      const decoded: Record<string, Record<string, string>> = {}
      for (const member of members(params, head)) {
        const name = member.get('Name')
        if (name === undefined) continue
        const value: Record<string, string> = {}
        for (const field of ['DataType', 'StringValue', 'BinaryValue']) {
          const v = member.get(`Value.${field}`)
          if (v !== undefined) value[field] = v
        }
        decoded[name] = value
      }
      out[attributes] = decoded
      continue
    }
    if (BATCH_ENTRY.test(head)) out.Entries = members(params, head).map(decodeQuery)
  }
  return out
}

/** Output lists and maps are flattened in query XML; their element names differ from the JSON member names. */
function encodeMember(action: string, key: string, value: unknown): string {
  if (value === undefined || value === null) return ''
  if (Array.isArray(value)) {
    const element =
      key === 'QueueUrls' || key === 'queueUrls'
        ? 'QueueUrl'
        : key === 'Messages'
          ? 'Message'
          : key === 'Successful'
            ? `${action}ResultEntry`
            : key === 'Failed'
              ? 'BatchResultErrorEntry'
              : key === 'Results'
                ? `${action}ResultEntry`
                : key
    return value.map((v) => encodeMember(action, element, v)).join('')
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    if (key === 'Attributes')
      return entries
        .map(([k, v]) => `<Attribute><Name>${escapeXml(k)}</Name><Value>${text(v)}</Value></Attribute>`)
        .join('')
    if (key === 'Tags')
      return entries.map(([k, v]) => `<Tag><Key>${escapeXml(k)}</Key><Value>${text(v)}</Value></Tag>`).join('')
    if (key === 'MessageAttributes')
      return entries
        .map(
          ([k, v]) =>
            `<MessageAttribute><Name>${escapeXml(k)}</Name><Value>${encodeObject(action, v)}</Value></MessageAttribute>`,
        )
        .join('')
    return `<${key}>${encodeObject(action, value)}</${key}>`
  }
  return `<${key}>${text(value)}</${key}>`
}

function encodeObject(action: string, value: unknown): string {
  let out = ''
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) out += encodeMember(action, key, v)
  return out
}

function text(value: unknown): string {
  return escapeXml(String(value))
}

/** Actions whose reply has no Result element (AWS sends only ResponseMetadata). */
const NO_RESULT = new Set([
  'DeleteQueue',
  'SetQueueAttributes',
  'TagQueue',
  'UntagQueue',
  'PurgeQueue',
  'DeleteMessage',
  'ChangeMessageVisibility',
  'AddPermission',
  'RemovePermission',
])

/** The reply document for one action's output object. */
export function encodeQueryResponse(action: string, output: Input, requestId: string): string {
  const result = NO_RESULT.has(action) ? null : encodeObject(action, output)
  return responseXml(SQS_NAMESPACE, action, result, requestId)
}

export function sendSqsQueryError(reply: FastifyReply, error: SqsError, requestId = randomUUID()): FastifyReply {
  return reply
    .code(error.status)
    .header('content-type', 'text/xml')
    .header('x-amzn-requestid', requestId)
    .send(errorXml(SQS_NAMESPACE, error.fault, error.queryCode, error.message, requestId))
}

/** Is this decoded form an SQS query request? SNS (2010-03-31) shares `POST /` and `Action=`; Version decides. */
export function isSqsQuery(params: Map<string, string>): boolean {
  return params.get('Version') === SQS_QUERY_VERSION
}

/**
 * One query request. The queue may be named by `QueueUrl` or, as older SDKs do, by posting to the queue
 * URL itself (`POST /<account>/<queue>`); the form field wins when both are present.
 */
export async function handleSqsQuery(
  service: SqsService,
  request: FastifyRequest,
  reply: FastifyReply,
  params: Map<string, string>,
): Promise<FastifyReply> {
  const requestId = randomUUID()
  const action = params.get('Action') ?? ''
  try {
    const access = await service.authenticate(request)
    const input = decodeQuery(params)
    const origin = service.origin(request)
    const path = (request.url.split('?')[0] ?? '/').replace(/\/+$/, '')
    if (input.QueueUrl === undefined && path !== '') input.QueueUrl = `${origin}${path}`
    const output = await service.call(action, input, {
      origin,
      signal: action === 'ReceiveMessage' ? clientGone(reply) : NEVER_ABORTED,
      access,
    })
    return reply
      .code(200)
      .header('content-type', 'text/xml')
      .header('x-amzn-requestid', requestId)
      .send(encodeQueryResponse(action, output, requestId))
  } catch (error) {
    return sendSqsQueryError(reply, sqsErrorOrInternal(error), requestId)
  }
}
