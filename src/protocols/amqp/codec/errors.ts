// Protocol errors raised by the codec. They are WharfErrors (code INVALID_ARGUMENT) so generic handlers
// treat them as bad input, and they carry the AMQP reply code the connection must close with, so the
// state machine maps them to connection.close in one place (aesthetics §9).
import { WharfError } from '../../../util/errors.js'

/** AMQP 0-9-1 hard-error reply codes the codec can raise (spec "constants", class hard-error). */
export const AmqpCodecReplyCode = {
  FRAME_ERROR: 501,
  SYNTAX_ERROR: 502,
  COMMAND_INVALID: 503,
  UNEXPECTED_FRAME: 505,
  NOT_IMPLEMENTED: 540,
} as const
export type AmqpCodecReplyCode = (typeof AmqpCodecReplyCode)[keyof typeof AmqpCodecReplyCode]

export class AmqpFrameError extends WharfError {
  override name = 'AmqpFrameError'
  readonly replyCode: AmqpCodecReplyCode
  /** Class and method the error concerns (0 when not known), for connection.close's class-id/method-id. */
  readonly classId: number
  readonly methodId: number

  constructor(replyCode: AmqpCodecReplyCode, message: string, classId = 0, methodId = 0) {
    super('INVALID_ARGUMENT', message)
    this.replyCode = replyCode
    this.classId = classId
    this.methodId = methodId
  }
}

/**
 * The peer opened with something other than `AMQP\0\0\x09\x01`. The spec says the server then writes its
 * own protocol header and closes the socket, so this is not a reply-code error: no connection.close is sent.
 */
export class AmqpProtocolHeaderError extends AmqpFrameError {
  override name = 'AmqpProtocolHeaderError'
  /** The bytes received where the header was expected (at most 8). */
  readonly received: Buffer

  constructor(received: Buffer) {
    super(AmqpCodecReplyCode.FRAME_ERROR, `bad AMQP protocol header ${received.toString('hex')}`)
    this.received = received
  }
}

export function frameError(message: string): AmqpFrameError {
  return new AmqpFrameError(AmqpCodecReplyCode.FRAME_ERROR, message)
}

export function syntaxError(message: string): AmqpFrameError {
  return new AmqpFrameError(AmqpCodecReplyCode.SYNTAX_ERROR, message)
}

/** Bad values handed to an encoder are the caller's operating error, not a peer's protocol error. */
export function encodeError(message: string): WharfError {
  return new WharfError('INVALID_ARGUMENT', message)
}
