// The handshake of an AMQP connection as plain functions: what connection.start and connection.tune offer,
// the client capabilities read from start-ok, the checks on tune-ok and the vhost of connection.open
// (authentication is login.ts). AmqpConnection runs the handshake's state machine and keeps the results;
// these only decide, with RabbitMQ's error texts and reply codes.
import {
  type AmqpMethod,
  type ConnectionStartInit,
  type ConnectionTuneInit,
  type ConnectionTuneOk,
  type FieldTable,
  FRAME_MAX_FLOOR,
  type MethodName,
  ReplyCode,
} from '../codec/index.js'
import { AmqpError } from '../errors.js'

export const FRAME_MAX_OFFER = 131072
export const CHANNEL_MAX_OFFER = 2047
export const HEARTBEAT_OFFER_SECONDS = 60

export function startArgs(serverProperties: FieldTable, mechanisms: string): ConnectionStartInit {
  return {
    versionMajor: 0,
    versionMinor: 9,
    serverProperties,
    mechanisms: Buffer.from(mechanisms),
    locales: Buffer.from('en_US'),
  }
}

export const tuneOffer: ConnectionTuneInit = {
  channelMax: CHANNEL_MAX_OFFER,
  frameMax: FRAME_MAX_OFFER,
  heartbeat: HEARTBEAT_OFFER_SECONDS,
}

/** The capabilities a client announced in start-ok, or null when it sent no capabilities table. */
export function clientCapabilities(
  clientProperties: FieldTable,
): { consumerCancelNotify: boolean; blockedCapable: boolean } | null {
  const caps = clientProperties.capabilities
  if (caps && typeof caps === 'object' && !Array.isArray(caps) && !(caps instanceof Date) && !Buffer.isBuffer(caps)) {
    const table = caps as FieldTable
    return {
      consumerCancelNotify: table.consumer_cancel_notify === true,
      blockedCapable: table['connection.blocked'] === true,
    }
  }
  return null
}

/** The limits a tune-ok settles (0 = our offer); values beyond the offer or under the floor are refused. */
export function acceptTune(args: ConnectionTuneOk): { frameMax: number; channelMax: number; heartbeat: number } {
  const { frameMax, channelMax, heartbeat } = args
  if (frameMax !== 0 && frameMax < FRAME_MAX_FLOOR)
    throw new AmqpError(ReplyCode.NOT_ALLOWED, `frame_max=${frameMax} < ${FRAME_MAX_FLOOR} min`, 10, 31)
  if (frameMax > FRAME_MAX_OFFER)
    throw new AmqpError(ReplyCode.NOT_ALLOWED, `frame_max=${frameMax} > ${FRAME_MAX_OFFER} max`, 10, 31)
  if (channelMax > CHANNEL_MAX_OFFER)
    throw new AmqpError(ReplyCode.NOT_ALLOWED, `channel_max=${channelMax} > ${CHANNEL_MAX_OFFER} max`, 10, 31)
  return {
    frameMax: frameMax === 0 ? FRAME_MAX_OFFER : frameMax,
    channelMax: channelMax === 0 ? CHANNEL_MAX_OFFER : channelMax,
    heartbeat,
  }
}

/** Only the default vhost exists. */
export function checkVhost(vhost: string): void {
  if (vhost !== '/' && vhost !== '') throw new AmqpError(ReplyCode.NOT_ALLOWED, `vhost ${vhost} not found`, 10, 40)
}

/** Each handshake step accepts only the method its phase expects (COMMAND_INVALID otherwise). */
export function expectMethod<N extends MethodName>(
  method: AmqpMethod,
  name: N,
): asserts method is Extract<AmqpMethod, { name: N }> {
  if (method.name !== name)
    throw new AmqpError(
      ReplyCode.COMMAND_INVALID,
      `expected '${name}', got '${method.name}'`,
      method.classId,
      method.methodId,
    )
}
