// The handshake of an AMQP connection as plain functions: what connection.start and connection.tune offer,
// the client capabilities read from start-ok, authentication (PLAIN/AMQPLAIN/EXTERNAL through
// broker.security), the checks on tune-ok and the vhost of connection.open. AmqpConnection runs the handshake's state
// machine and keeps the results; these only decide, with RabbitMQ's error texts and reply codes.
import type net from 'node:net'
import type { Principal } from '../../../broker/security/authorizer.js'
import { certificateLogin, type LoginAttempt, logLoginFailure, passwordLogin } from '../../common/authentication.js'
import { peerCertificateSubject } from '../../common/tls.js'
import {
  type ConnectionStartInit,
  type ConnectionTuneInit,
  type ConnectionTuneOk,
  decodeFieldTable,
  type FieldTable,
  FRAME_MAX_FLOOR,
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

/** What connection.start offers: EXTERNAL only where a verified client certificate names the user. */
export function mechanismsFor(socket: net.Socket): string {
  return peerCertificateSubject(socket) === undefined ? 'PLAIN AMQPLAIN' : 'PLAIN AMQPLAIN EXTERNAL'
}

/** A longstr field as text (AMQPLAIN values arrive as strings or buffers). */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  return undefined
}

/** User name and password from a PLAIN or AMQPLAIN response; undefined when the response is malformed. */
export function credentialsOf(mechanism: 'PLAIN' | 'AMQPLAIN', response: Buffer): Credentials | undefined {
  if (mechanism === 'PLAIN') {
    // RFC 4616: [authzid] NUL authcid NUL passwd. The authzid is ignored, as RabbitMQ does: the connection
    // acts as the user whose password was checked.
    const parts = response.toString('utf8').split('\u0000')
    if (parts.length !== 3) return undefined
    return { user: parts[1]!, password: parts[2]! }
  }
  // A field table without its 4-byte length prefix.
  const withLength = Buffer.alloc(4 + response.length)
  withLength.writeUInt32BE(response.length, 0)
  response.copy(withLength, 4)
  let table: FieldTable
  try {
    table = decodeFieldTable(withLength)
  } catch {
    return undefined
  }
  const user = text(table.LOGIN)
  const password = text(table.PASSWORD)
  return user === undefined || password === undefined ? undefined : { user, password }
}

interface Credentials {
  user: string
  password: string
}

/**
 * Authenticates start-ok through broker.security: PLAIN and AMQPLAIN check a user's password (a loopback-only
 * user such as guest is refused from elsewhere), EXTERNAL takes the verified client certificate's CN. There is
 * no anonymous AMQP login: a client always presents credentials and they are always checked. A refusal is
 * 403 with RabbitMQ's text, which does not say whether the user or the password was wrong; it comes after
 * the failure delay of security.login.
 */
export async function authenticate(attempt: LoginAttempt, response: Buffer): Promise<Principal> {
  const { mechanism } = attempt
  let principal: Principal | undefined
  if (mechanism === 'PLAIN' || mechanism === 'AMQPLAIN') {
    const credentials = credentialsOf(mechanism, response)
    if (credentials !== undefined) principal = await passwordLogin(attempt, credentials.user, credentials.password)
    else {
      logLoginFailure(attempt, 'bad-credentials')
      await attempt.security.loginFailed(attempt.socket.remoteAddress)
    }
  } else if (mechanism === 'EXTERNAL') {
    principal = await certificateLogin(attempt)
  } else {
    logLoginFailure(attempt, 'unsupported-mechanism')
    await attempt.security.loginFailed(attempt.socket.remoteAddress)
    throw new AmqpError(ReplyCode.ACCESS_REFUSED, `unsupported authentication mechanism '${mechanism}'`, 10, 11)
  }
  if (principal === undefined)
    throw new AmqpError(
      ReplyCode.ACCESS_REFUSED,
      `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`,
      10,
      11,
    )
  return principal
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
