// Operating errors carry a stable code; protocol adapters translate codes into their own wire errors
// (Kafka error codes, AMQP reply codes, MQTT reason codes, HTTP status + JSON) at one boundary each.

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
  PRECONDITION_FAILED: 'A precondition of the operation was not met',
  BROKER_CLOSED: 'The broker is closed',
  LIMIT_EXCEEDED: 'A configured limit was exceeded',
} as const

export type ErrorCode = keyof typeof ErrorCodes

export class WharfError extends Error {
  override name = 'WharfError'
  readonly code: ErrorCode

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ErrorCodes[code], options)
    this.code = code
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
