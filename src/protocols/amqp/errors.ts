// The adapter's one error-mapping table: every failure inside a channel or connection becomes an AmqpError
// (reply code + RabbitMQ-style reply text + class/method ids), and HARD_ERROR_CODES decides whether it
// closes the channel or the whole connection. Broker errors map by their RabbitMQ text prefix first (the
// router writes "NOT_FOUND - ..."), then by their stable WharfError code.
import { type ErrorCode, WharfError } from '../../util/errors.js'
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

/** Reply-text prefixes the broker (router) writes, RabbitMQ style. */
const PREFIXES: ReadonlyArray<[string, number]> = [...REPLY_CODE_NAMES].map(([code, name]) => [`${name} - `, code])

/** WharfError code → reply code, for broker errors without a RabbitMQ prefix. */
const BY_CODE: Partial<Record<ErrorCode, number>> = {
  STREAM_NOT_FOUND: ReplyCode.NOT_FOUND,
  SUBSCRIPTION_NOT_FOUND: ReplyCode.NOT_FOUND,
  EXCHANGE_NOT_FOUND: ReplyCode.NOT_FOUND,
  PARTITION_NOT_FOUND: ReplyCode.NOT_FOUND,
  PRECONDITION_FAILED: ReplyCode.PRECONDITION_FAILED,
  INVALID_CONFIG: ReplyCode.PRECONDITION_FAILED,
  INVALID_ARGUMENT: ReplyCode.PRECONDITION_FAILED,
  MESSAGE_TOO_LARGE: ReplyCode.PRECONDITION_FAILED,
  RECORD_TOO_LARGE: ReplyCode.PRECONDITION_FAILED,
  SCHEMA_VIOLATION: ReplyCode.PRECONDITION_FAILED,
  LIMIT_EXCEEDED: ReplyCode.PRECONDITION_FAILED,
  QUEUE_FULL: ReplyCode.PRECONDITION_FAILED,
  RESOURCE_LOCKED: ReplyCode.RESOURCE_LOCKED,
  SUBSCRIPTION_EXISTS: ReplyCode.PRECONDITION_FAILED,
  STREAM_EXISTS: ReplyCode.PRECONDITION_FAILED,
  BROKER_CLOSED: ReplyCode.CONNECTION_FORCED,
  LOG_CLOSED: ReplyCode.CONNECTION_FORCED,
  IO_ERROR: ReplyCode.INTERNAL_ERROR,
  DISK_FULL: ReplyCode.INTERNAL_ERROR,
  STORE_CORRUPT: ReplyCode.INTERNAL_ERROR,
}

/** Maps anything thrown while handling a method to the AMQP error to close with. */
export function toAmqpError(error: unknown, classId: number, methodId: number): AmqpError {
  let mapped: AmqpError
  if (error instanceof AmqpError) mapped = error
  else if (error instanceof AmqpFrameError) {
    mapped = new AmqpError(error.replyCode, error.message)
    if (error.classId !== 0) return withIds(mapped, error.classId, error.methodId)
  } else if (error instanceof WharfError) {
    const prefixed = PREFIXES.find(([prefix]) => error.message.startsWith(prefix))
    if (prefixed) mapped = new AmqpError(prefixed[1], error.message.slice(prefixed[0].length))
    else mapped = new AmqpError(BY_CODE[error.code] ?? ReplyCode.INTERNAL_ERROR, error.message)
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
