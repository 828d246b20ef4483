// Where SQS queue URLs point (QueueUrl in CreateQueue, GetQueueUrl, ListQueues...).
import type { FastifyRequest } from 'fastify'

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
