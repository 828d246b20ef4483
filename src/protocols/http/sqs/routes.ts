// SQS over HTTP: AWS JSON 1.0 (`POST /`, `x-amz-target: AmazonSQS.<Action>`), the protocol every current SDK
// uses. Replies carry `x-amzn-RequestId`; errors carry `__type` plus the query-compatible
// `x-amzn-query-error: <code>;Sender` header that SDKs in query-compatible mode turn into err.Code.
import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { SqsError, sqsErrorOrInternal } from './errors.js'
import type { SqsService } from './service.js'

export const SQS_TARGET_PREFIX = 'AmazonSQS.'
const JSON_TYPE = 'application/x-amz-json-1.0'

export function sendSqsError(reply: FastifyReply, error: SqsError): FastifyReply {
  return reply
    .code(error.status)
    .header('content-type', JSON_TYPE)
    .header('x-amzn-requestid', randomUUID())
    .header('x-amzn-query-error', `${error.queryCode};${error.fault}`)
    .send(JSON.stringify({ __type: error.jsonType, [error.jsonMessageKey]: error.message }))
}

/** Only a long poll waits on the client, so only ReceiveMessage pays for an AbortController and a listener. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal

/** Aborts when the client goes away: 'close' on the response also fires once it is sent, which is not that. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const abort = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort()
  })
  return abort.signal
}

export async function handleSqsJson(
  service: SqsService,
  request: FastifyRequest,
  reply: FastifyReply,
  target: string,
): Promise<FastifyReply> {
  const action = target.slice(SQS_TARGET_PREFIX.length)
  try {
    const access = await service.authenticate(request)
    const body = request.body as Buffer | undefined
    let input: unknown = {}
    if (body !== undefined && body.length > 0) {
      try {
        input = JSON.parse(body.toString('utf8'))
      } catch {
        throw new SqsError('SerializationException', 'The request body is not valid JSON.')
      }
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      throw new SqsError('SerializationException', 'The request body must be a JSON object.')
    const output = await service.call(action, input as Record<string, unknown>, {
      origin: service.origin(request),
      signal: action === 'ReceiveMessage' ? clientGone(reply) : NEVER_ABORTED,
      access,
    })
    return reply
      .code(200)
      .header('content-type', JSON_TYPE)
      .header('x-amzn-requestid', randomUUID())
      .send(JSON.stringify(output))
  } catch (error) {
    return sendSqsError(reply, sqsErrorOrInternal(error))
  }
}
