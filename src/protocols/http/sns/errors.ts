// SNS errors: one table from error name to HTTP status, the mapping from broker error codes, and the
// query-protocol error reply. A broker error the table does not list is an internal error.
import { randomUUID } from 'node:crypto'
import type { FastifyReply } from 'fastify'
import { type ErrorCode, isWharfError } from '../../../util/errors.js'
import { AwsAuthError } from '../aws/sigv4.js'
import { errorXml } from './query.js'

export const SNS_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/'

const errorStatus = {
  NotFound: 404,
  InvalidParameter: 400,
  InvalidParameterValue: 400,
  InvalidAction: 400,
  SubscriptionLimitExceeded: 403,
  AuthorizationError: 403,
  InternalError: 500,
  EmptyBatchRequest: 400,
  TooManyEntriesInBatchRequest: 400,
  BatchEntryIdsNotDistinct: 400,
  InvalidClientTokenId: 403,
  SignatureDoesNotMatch: 403,
  IncompleteSignature: 403,
  MissingAuthenticationToken: 403,
  RequestExpired: 400,
  Throttled: 429,
  ServiceUnavailable: 503,
} as const

export type SnsErrorName = keyof typeof errorStatus

export class SnsError extends Error {
  constructor(
    readonly errorName: SnsErrorName,
    message: string,
  ) {
    super(message)
  }

  get status(): number {
    return errorStatus[this.errorName]
  }
}

const fromBroker: Partial<Record<ErrorCode, SnsErrorName>> = {
  STREAM_NOT_FOUND: 'NotFound',
  SUBSCRIPTION_NOT_FOUND: 'NotFound',
  INVALID_ARGUMENT: 'InvalidParameter',
  INVALID_CONFIG: 'InvalidParameter',
  ACCESS_REFUSED: 'AuthorizationError',
  LIMIT_EXCEEDED: 'SubscriptionLimitExceeded',
  SUBSCRIPTION_EXISTS: 'InvalidParameter',
  QUEUE_FULL: 'InternalError',
  MESSAGE_TOO_LARGE: 'InvalidParameter',
  // A write that found the disk full: AWS's common "temporary failure of the server" error, which every SDK
  // retries as transient (SQS answers the same); the space may come back (a queue deleted, the disk alarm).
  DISK_FULL: 'ServiceUnavailable',
}

export function sendQueryError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/xml')
    .send(errorXml(SNS_NAMESPACE, status >= 500 ? 'Receiver' : 'Sender', code, message, randomUUID()))
}

/** Any failure as an SnsError; undefined for one the table does not know (an internal error). */
export function toSnsError(error: unknown): SnsError | undefined {
  if (error instanceof SnsError) return error
  if (error instanceof AwsAuthError) return new SnsError(error.code, error.message)
  const name = isWharfError(error) ? fromBroker[error.code] : undefined
  return name === undefined ? undefined : new SnsError(name, error instanceof Error ? error.message : String(error))
}
