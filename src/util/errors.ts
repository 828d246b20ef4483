// Operating errors as data: a stable code, structured detail and a neutral English message. Protocol
// adapters translate code + detail into their own wire errors and wording (Kafka error codes, AMQP reply
// codes and RabbitMQ texts, MQTT reason codes, HTTP status + JSON) at one boundary each.

export const ErrorCodes = {
  // record
  CORRUPT_RECORD: 'Record batch bytes are malformed or fail their CRC',
  UNSUPPORTED_COMPRESSION: 'Compression codec is unknown or unavailable',
  RECORD_TOO_LARGE: 'A record or batch exceeds the configured size limit',
  // storage
  IO_ERROR: 'The storage device failed an I/O operation',
  DISK_FULL: 'The storage device is full',
  LOG_CLOSED: 'The log is closed',
  OFFSET_OUT_OF_RANGE: 'The offset is outside the log',
  STORE_CORRUPT: 'A store file is corrupt beyond recovery',
  UNSUPPORTED_FORMAT: 'The data directory was written in a format this version cannot read',
  NOT_OWNER: 'Another broker of the cluster owns this log (or this broker lost it to a newer epoch)',
  LINK_DOWN: 'The link to another broker of the cluster is down or did not answer in time',
  // broker
  STREAM_NOT_FOUND: 'No such stream',
  STREAM_EXISTS: 'A stream with that name already exists',
  PARTITION_NOT_FOUND: 'No such partition',
  SUBSCRIPTION_NOT_FOUND: 'No such subscription',
  SUBSCRIPTION_EXISTS: 'A subscription with that name already exists',
  EXCHANGE_NOT_FOUND: 'No such exchange',
  EXCHANGE_EXISTS: 'An exchange with that name already exists',
  INVALID_CONFIG: 'A configuration value is invalid',
  INVALID_ARGUMENT: 'An argument is invalid',
  MESSAGE_TOO_LARGE: 'The message exceeds the maximum message size',
  SCHEMA_VIOLATION: 'The record does not match the schema',
  SCHEMA_NOT_FOUND: 'No such schema or subject',
  SCHEMA_INCOMPATIBLE: 'The schema is incompatible with earlier versions',
  INVALID_SCHEMA: 'The schema is invalid',
  QUEUE_FULL: 'The queue is at its maximum length and rejects publishes',
  LEASE_NOT_FOUND: 'No such delivery lease (already acked, expired or unknown)',
  OUT_OF_ORDER_SEQUENCE: 'Producer sequence number is out of order',
  DUPLICATE_SEQUENCE: 'Producer sequence number is a duplicate',
  INVALID_PRODUCER_EPOCH: 'Producer epoch is fenced',
  UNKNOWN_PRODUCER_ID: 'Producer id is unknown',
  RESOURCE_LOCKED: 'The resource is exclusively owned by another consumer',
  ACCESS_REFUSED: 'The operation is not permitted on that resource',
  PRECONDITION_FAILED: 'A precondition of the operation was not met',
  BROKER_CLOSED: 'The broker is closed',
  LIMIT_EXCEEDED: 'A configured limit was exceeded',
} as const

export type ErrorCode = keyof typeof ErrorCodes

/** Sub-kinds of codes that cover several causes; adapters that word them differently switch on these. */
export type ErrorReason =
  | 'default-exchange' // the operation is not permitted on the default exchange
  | 'reserved-name' // the name starts with a prefix reserved for predeclared entities
  | 'predeclared' // predeclared entities cannot be deleted
  | 'internal-exchange' // internal exchanges take no direct publishes
  | 'in-use' // if-unused delete of an entity that is in use
  | 'not-empty' // if-empty delete of a queue that holds messages
  | 'inequivalent' // a redeclaration differs from the existing declaration
  | 'unknown-exchange-type'
  | 'invalid-value' // an argument has a value of the wrong type or outside its domain

/** What an error is about, in fields rather than text, so that each adapter can word it its own way. */
export interface ErrorDetail {
  readonly reason?: ErrorReason
  readonly exchange?: string
  readonly queue?: string
  readonly stream?: string
  /** The setting or argument in question: a declaration field (`type`, `durable`, ...) or an argument key. */
  readonly argument?: string
  /** True when `argument` names a declaration field rather than an arguments-table key. */
  readonly field?: boolean
  /** Typed argument values (bigint, Buffer, Date, tables), undefined when absent. */
  readonly received?: unknown
  readonly current?: unknown
  readonly value?: unknown
  /** What an invalid value should have been, in plain words ("a string", "one of all, any"). */
  readonly expected?: string
}

const noDetail: ErrorDetail = Object.freeze({})

export class WharfError extends Error {
  override name = 'WharfError'
  readonly code: ErrorCode
  readonly detail: ErrorDetail

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; detail?: ErrorDetail }) {
    super(message ?? ErrorCodes[code], options)
    this.code = code
    this.detail = options?.detail ?? noDetail
  }
}

export function isWharfError(error: unknown, code?: ErrorCode): error is WharfError {
  return error instanceof WharfError && (code === undefined || error.code === code)
}

/** Maps a Node fs error to a typed storage error; anything else passes through unchanged. */
export function toStorageError(error: unknown, what: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOSPC' || code === 'EDQUOT') return new WharfError('DISK_FULL', `${what}: ${code}`, { cause: error })
  if (code !== undefined && /^E[A-Z]+$/.test(code))
    return new WharfError('IO_ERROR', `${what}: ${code}`, { cause: error })
  return error
}
