// The adapter's one error-mapping table: every failure inside a channel or connection becomes an AmqpError
// (reply code + RabbitMQ-style reply text + class/method ids), and HARD_ERROR_CODES decides whether it
// closes the channel or the whole connection. Broker errors map by code (and detail.reason) to a reply
// code; RabbitMQ's texts for broker errors are written here, from the error's detail.
import { canonicalValue } from '../../broker/routing/arguments.js'
import { type ErrorCode, type ErrorDetail, type ErrorReason, WharfError } from '../../util/errors.js'
import { AmqpFrameError, HARD_ERROR_CODES, REPLY_CODE_NAMES, ReplyCode } from './codec/index.js'

export class AmqpError extends Error {
  override name = 'AmqpError'
  readonly replyCode: number
  classId: number
  methodId: number

  /** `text` without the "NAME - " prefix; the prefix is added from the reply code. */
  constructor(replyCode: number, text: string, classId = 0, methodId = 0) {
    super(`${REPLY_CODE_NAMES.get(replyCode) ?? 'INTERNAL_ERROR'} - ${text}`)
    this.replyCode = replyCode
    this.classId = classId
    this.methodId = methodId
  }

  get hard(): boolean {
    return HARD_ERROR_CODES.has(this.replyCode)
  }
}

export const amqpError = {
  notFound: (text: string) => new AmqpError(ReplyCode.NOT_FOUND, text),
  precondition: (text: string) => new AmqpError(ReplyCode.PRECONDITION_FAILED, text),
  accessRefused: (text: string) => new AmqpError(ReplyCode.ACCESS_REFUSED, text),
  locked: (text: string) => new AmqpError(ReplyCode.RESOURCE_LOCKED, text),
  notAllowed: (text: string) => new AmqpError(ReplyCode.NOT_ALLOWED, text),
  notImplemented: (text: string) => new AmqpError(ReplyCode.NOT_IMPLEMENTED, text),
  channelError: (text: string) => new AmqpError(ReplyCode.CHANNEL_ERROR, text),
  commandInvalid: (text: string) => new AmqpError(ReplyCode.COMMAND_INVALID, text),
  unexpectedFrame: (text: string) => new AmqpError(ReplyCode.UNEXPECTED_FRAME, text),
  frameError: (text: string) => new AmqpError(ReplyCode.FRAME_ERROR, text),
}

const vhost = "in vhost '/'"
/** RabbitMQ's name for a declaration field in its inequivalence texts. */
const fieldNames: Record<string, string> = { autoDelete: 'auto_delete' }

function declared(d: ErrorDetail): string {
  return d.exchange !== undefined ? `exchange '${d.exchange}' ${vhost}` : `queue '${d.queue}' ${vhost}`
}

function inequivalent(d: ErrorDetail): string {
  const [received, current] = d.field
    ? [`'${String(d.received)}'`, `'${String(d.current)}'`]
    : [describeValue(d.received), describeValue(d.current)]
  const arg = fieldNames[d.argument ?? ''] ?? d.argument
  return `inequivalent arg '${arg}' for ${declared(d)}: received ${received} but current is ${current}`
}

/** A reply code, and RabbitMQ's text from the error's detail (undefined: the broker's message is sent). */
type Reply = readonly [replyCode: number, text?: (d: ErrorDetail) => string | undefined]

/**
 * The adapter's one table from broker errors to replies, keyed by code/reason before code. Codes not listed
 * close with INTERNAL_ERROR.
 */
const REPLIES: Partial<Record<ErrorCode | `${ErrorCode}/${ErrorReason}`, Reply>> = {
  STREAM_NOT_FOUND: [ReplyCode.NOT_FOUND, (d) => (d.stream === undefined ? undefined : `no stream '${d.stream}'`)],
  SUBSCRIPTION_NOT_FOUND: [
    ReplyCode.NOT_FOUND,
    (d) => (d.queue === undefined ? undefined : `no queue '${d.queue}' ${vhost}`),
  ],
  EXCHANGE_NOT_FOUND: [
    ReplyCode.NOT_FOUND,
    (d) => (d.exchange === undefined ? undefined : `no exchange '${d.exchange}' ${vhost}`),
  ],
  PARTITION_NOT_FOUND: [ReplyCode.NOT_FOUND],
  ACCESS_REFUSED: [ReplyCode.ACCESS_REFUSED],
  'ACCESS_REFUSED/default-exchange': [
    ReplyCode.ACCESS_REFUSED,
    () => 'operation not permitted on the default exchange',
  ],
  'ACCESS_REFUSED/reserved-name': [
    ReplyCode.ACCESS_REFUSED,
    (d) => `exchange name '${d.exchange}' contains reserved prefix 'amq.*'`,
  ],
  'ACCESS_REFUSED/predeclared': [
    ReplyCode.ACCESS_REFUSED,
    (d) => `deletion of system exchange '${d.exchange}' ${vhost} not allowed`,
  ],
  'ACCESS_REFUSED/internal-exchange': [
    ReplyCode.ACCESS_REFUSED,
    (d) => `cannot publish to internal exchange '${d.exchange}' ${vhost}`,
  ],
  PRECONDITION_FAILED: [ReplyCode.PRECONDITION_FAILED],
  'PRECONDITION_FAILED/in-use': [ReplyCode.PRECONDITION_FAILED, (d) => `${declared(d)} in use`],
  'PRECONDITION_FAILED/not-empty': [ReplyCode.PRECONDITION_FAILED, (d) => `${declared(d)} not empty`],
  'PRECONDITION_FAILED/inequivalent': [ReplyCode.PRECONDITION_FAILED, inequivalent],
  'PRECONDITION_FAILED/invalid-value': [
    ReplyCode.PRECONDITION_FAILED,
    (d) =>
      d.argument === 'x-match'
        ? `Invalid x-match field value ${String(d.value)}; expected ${d.expected}`
        : `invalid arg '${d.argument}' for ${declared(d)}: not ${d.expected}`,
  ],
  INVALID_ARGUMENT: [ReplyCode.PRECONDITION_FAILED],
  'INVALID_ARGUMENT/unknown-exchange-type': [ReplyCode.COMMAND_INVALID, (d) => `unknown exchange type '${d.value}'`],
  INVALID_CONFIG: [ReplyCode.PRECONDITION_FAILED],
  MESSAGE_TOO_LARGE: [ReplyCode.PRECONDITION_FAILED],
  RECORD_TOO_LARGE: [ReplyCode.PRECONDITION_FAILED],
  SCHEMA_VIOLATION: [ReplyCode.PRECONDITION_FAILED],
  LIMIT_EXCEEDED: [ReplyCode.PRECONDITION_FAILED],
  QUEUE_FULL: [ReplyCode.PRECONDITION_FAILED],
  RESOURCE_LOCKED: [ReplyCode.RESOURCE_LOCKED],
  SUBSCRIPTION_EXISTS: [ReplyCode.PRECONDITION_FAILED],
  STREAM_EXISTS: [ReplyCode.PRECONDITION_FAILED],
  BROKER_CLOSED: [ReplyCode.CONNECTION_FORCED],
  LOG_CLOSED: [ReplyCode.CONNECTION_FORCED],
  // The queue's server in a cluster moved or is unreachable past the retries: reconnect, as for a shutdown.
  NOT_OWNER: [ReplyCode.CONNECTION_FORCED],
  LINK_DOWN: [ReplyCode.CONNECTION_FORCED],
  IO_ERROR: [ReplyCode.INTERNAL_ERROR],
  DISK_FULL: [ReplyCode.INTERNAL_ERROR],
  STORE_CORRUPT: [ReplyCode.INTERNAL_ERROR],
  UNSUPPORTED_FORMAT: [ReplyCode.INTERNAL_ERROR],
}

/** Short text of a typed argument value in RabbitMQ's inequivalence messages, with its AMQP field type. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'none'
  const type =
    typeof value === 'bigint'
      ? 'long'
      : typeof value === 'number'
        ? Number.isInteger(value)
          ? 'long'
          : 'double'
        : typeof value === 'string' || value instanceof Uint8Array
          ? 'longstr'
          : typeof value === 'boolean'
            ? 'bool'
            : Array.isArray(value)
              ? 'array'
              : value instanceof Date
                ? 'timestamp'
                : value === null
                  ? 'void'
                  : 'table'
  const text = value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : canonicalValue(value)
  return `the value '${typeof value === 'string' ? value : text}' of type '${type}'`
}

function fromBroker(error: WharfError): AmqpError {
  const reason = error.detail.reason
  const [replyCode, text] =
    (reason === undefined ? undefined : REPLIES[`${error.code}/${reason}`]) ??
    REPLIES[error.code] ??
    ([ReplyCode.INTERNAL_ERROR] as const)
  return new AmqpError(replyCode, text?.(error.detail) ?? error.message)
}

/** Maps anything thrown while handling a method to the AMQP error to close with. */
export function toAmqpError(error: unknown, classId: number, methodId: number): AmqpError {
  let mapped: AmqpError
  if (error instanceof AmqpError) mapped = error
  else if (error instanceof AmqpFrameError) {
    mapped = new AmqpError(error.replyCode, error.message)
    if (error.classId !== 0) return withIds(mapped, error.classId, error.methodId)
  } else if (error instanceof WharfError) {
    mapped = fromBroker(error)
  } else {
    mapped = new AmqpError(ReplyCode.INTERNAL_ERROR, error instanceof Error ? error.message : String(error))
  }
  return mapped.classId === 0 ? withIds(mapped, classId, methodId) : mapped
}

function withIds(error: AmqpError, classId: number, methodId: number): AmqpError {
  error.classId = classId
  error.methodId = methodId
  return error
}

/** Reply texts must fit a shortstr. */
export function replyText(error: AmqpError): string {
  const text = error.message
  return Buffer.byteLength(text) <= 255 ? text : Buffer.from(text).subarray(0, 250).toString('utf8')
}
