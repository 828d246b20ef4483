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

/** Where queue URLs point: a configured base URL, or (undefined) the address each request arrived on. */
export interface QueueUrlBase {
  /** `sqsBaseUrl` from the config, without a trailing slash; undefined derives it per request. */
  configured?: string | undefined
  /** The listen host; a wildcard (0.0.0.0, ::) or empty one takes the local address of the request's socket. */
  host: string
}

/**
 * Origin for queue URLs: the configured base, else the scheme, host and port of the socket the request came
 * in on. Never the Host header: the client writes it, and a forged one would make the broker hand out
 * URLs to another server (the SDK re-targets requests to the QueueUrl).
 */
export function originOf(request: FastifyRequest, base: QueueUrlBase): string {
  if (base.configured !== undefined && base.configured !== '') return base.configured
  const socket = request.socket
  const scheme = 'encrypted' in socket && socket.encrypted ? 'https' : 'http'
  let host = base.host
  if (host === '' || host === '0.0.0.0' || host === '::') {
    const local = socket.localAddress ?? '127.0.0.1'
    host = local.startsWith('::ffff:') ? local.slice(7) : local
  }
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${socket.localPort}`
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
