// SQS errors: one table from error name to the AWS query code and HTTP status, plus the mapping from
// broker error codes. JSON 1.0 clients read `__type` (the modelled class) and, in query-compatible mode,
// the `x-amzn-query-error: <code>;Sender` header (err.Code); both are sent. Authentication and
// authorization errors are not SQS shapes but AWS's common ones (com.amazon.coral.service), as AWS sends them.
import { type ErrorCode, isWharfError } from '../../../util/errors.js'
import { AwsAuthError } from '../aws/sigv4.js'

const NS = 'AWS.SimpleQueueService.'
const CORAL = 'com.amazon.coral.service#'

/** The JSON `__type` of the common errors; every other name is `com.amazonaws.sqs#<name>`. */
const commonTypes: Partial<Record<SqsErrorName, string>> = {
  AccessDenied: `${CORAL}AccessDeniedException`,
  InvalidClientTokenId: `${CORAL}UnrecognizedClientException`,
  SignatureDoesNotMatch: `${CORAL}InvalidSignatureException`,
  IncompleteSignature: `${CORAL}IncompleteSignatureException`,
  MissingAuthenticationToken: `${CORAL}MissingAuthenticationTokenException`,
  RequestExpired: `${CORAL}RequestExpired`,
}

/** name → [query-compatible code, HTTP status]. */
const table = {
  QueueDoesNotExist: [`${NS}NonExistentQueue`, 400],
  QueueNameExists: ['QueueAlreadyExists', 400],
  ReceiptHandleIsInvalid: ['ReceiptHandleIsInvalid', 404],
  MessageNotInflight: [`${NS}MessageNotInflight`, 400],
  QueueDeletedRecently: [`${NS}QueueDeletedRecently`, 400],
  UnsupportedOperation: [`${NS}UnsupportedOperation`, 400],
  EmptyBatchRequest: [`${NS}EmptyBatchRequest`, 400],
  TooManyEntriesInBatchRequest: [`${NS}TooManyEntriesInBatchRequest`, 400],
  BatchEntryIdsNotDistinct: [`${NS}BatchEntryIdsNotDistinct`, 400],
  InvalidBatchEntryId: [`${NS}InvalidBatchEntryId`, 400],
  BatchRequestTooLong: [`${NS}BatchRequestTooLong`, 400],
  PurgeQueueInProgress: [`${NS}PurgeQueueInProgress`, 403],
  OverLimit: ['OverLimit', 403],
  RequestThrottled: ['RequestThrottled', 403],
  ResourceNotFoundException: ['ResourceNotFoundException', 404],
  InvalidParameterValue: ['InvalidParameterValue', 400],
  InvalidAttributeName: ['InvalidAttributeName', 400],
  InvalidAttributeValue: ['InvalidAttributeValue', 400],
  MissingParameter: ['MissingParameter', 400],
  InvalidAction: ['InvalidAction', 400],
  SerializationException: ['SerializationException', 400],
  RequestEntityTooLarge: ['RequestEntityTooLarge', 413],
  InvalidAddress: ['InvalidAddress', 404],
  InvalidMessageContents: ['InvalidMessageContents', 400],
  InvalidSecurity: ['InvalidSecurity', 403],
  AccessDenied: ['AccessDenied', 403],
  InvalidClientTokenId: ['InvalidClientTokenId', 403],
  SignatureDoesNotMatch: ['SignatureDoesNotMatch', 403],
  IncompleteSignature: ['IncompleteSignature', 403],
  MissingAuthenticationToken: ['MissingAuthenticationToken', 403],
  RequestExpired: ['RequestExpired', 400],
  InternalError: ['InternalError', 500],
  ServiceUnavailable: ['ServiceUnavailable', 503],
} as const satisfies Record<string, readonly [string, number]>

export type SqsErrorName = keyof typeof table

export class SqsError extends Error {
  readonly errorName: SqsErrorName
  constructor(name: SqsErrorName, message: string) {
    super(message)
    this.errorName = name
  }
  get queryCode(): string {
    return table[this.errorName][0]
  }
  get status(): number {
    return table[this.errorName][1]
  }
  /** The JSON 1.0 `__type`. */
  get jsonType(): string {
    return commonTypes[this.errorName] ?? `com.amazonaws.sqs#${this.errorName}`
  }
  /** AWS's common errors spell the JSON message member `Message`, SQS's own `message`. */
  get jsonMessageKey(): 'Message' | 'message' {
    return commonTypes[this.errorName] === undefined ? 'message' : 'Message'
  }
  /** "Sender" for client faults, "Receiver" for ours (query error header and XML Type). */
  get fault(): 'Sender' | 'Receiver' {
    return this.status >= 500 ? 'Receiver' : 'Sender'
  }
}

/** Broker codes → SQS errors; anything unlisted is an internal error (logged, no stack to the client). */
const fromBroker: Partial<Record<ErrorCode, SqsErrorName>> = {
  SUBSCRIPTION_NOT_FOUND: 'QueueDoesNotExist',
  STREAM_NOT_FOUND: 'QueueDoesNotExist',
  SUBSCRIPTION_EXISTS: 'QueueNameExists',
  INVALID_CONFIG: 'InvalidAttributeValue',
  INVALID_ARGUMENT: 'InvalidParameterValue',
  MESSAGE_TOO_LARGE: 'InvalidParameterValue',
  SCHEMA_VIOLATION: 'InvalidMessageContents',
  QUEUE_FULL: 'OverLimit',
  LIMIT_EXCEEDED: 'OverLimit',
  PRECONDITION_FAILED: 'InvalidParameterValue',
  RESOURCE_LOCKED: 'UnsupportedOperation',
  ACCESS_REFUSED: 'AccessDenied',
  BROKER_CLOSED: 'ServiceUnavailable',
  // The queue's server in a cluster moved or is unreachable: the SDKs retry a 5xx.
  NOT_OWNER: 'ServiceUnavailable',
  LINK_DOWN: 'ServiceUnavailable',
  // A full disk passes (space is freed, or the disk alarm throttles first): a 5xx the SDKs retry, not an internal error.
  DISK_FULL: 'ServiceUnavailable',
}

export function toSqsError(error: unknown): SqsError {
  if (isWharfError(error)) {
    const name = fromBroker[error.code]
    if (name !== undefined) return new SqsError(name, error.message)
  }
  return sqsErrorOrInternal(error)
}

/** An SqsError as thrown; anything else is the generic InternalError, so no internal detail reaches the client. */
export function sqsErrorOrInternal(error: unknown): SqsError {
  if (error instanceof AwsAuthError) return new SqsError(error.code, error.message)
  return error instanceof SqsError
    ? error
    : new SqsError('InternalError', 'We encountered an internal error. Please try again.')
}
