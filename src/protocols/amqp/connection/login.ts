// Authentication of connection.start-ok through broker.security: the mechanisms offered, the credentials of
// PLAIN and AMQPLAIN, EXTERNAL from a verified client certificate, RabbitMQ's refusal text. Checking a login
// is asynchronous (password hash, failure delay); meanwhile the connection reads nothing more and keeps the
// frames it already received (a client may pipeline its whole handshake), in order, for after the decision.
import type net from 'node:net'
import type { Principal } from '../../../broker/security/authorizer.js'
import { certificateLogin, type LoginAttempt, passwordLogin, refuseLogin } from '../../common/authentication.js'
import { peerCertificateSubject } from '../../common/tls.js'
import { type AmqpFrame, decodeFieldTable, type FieldTable, ReplyCode } from '../codec/index.js'
import { AmqpError } from '../errors.js'
import type { ConnectionOutput } from './output.js'

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
    principal =
      credentials === undefined
        ? await refuseLogin(attempt, 'bad-credentials')
        : await passwordLogin(attempt, credentials.user, credentials.password)
  } else if (mechanism === 'EXTERNAL') {
    principal = await certificateLogin(attempt)
  } else {
    await refuseLogin(attempt, 'unsupported-mechanism')
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

/** A login being decided: reading is paused and frames received before the pause are kept in order. */
export class PendingLogin {
  readonly #output: ConnectionOutput
  #held: AmqpFrame[] | null = null

  constructor(output: ConnectionOutput) {
    this.#output = output
  }

  /** Starts deciding: from now until `end`, `hold` keeps frames. */
  begin(attempt: LoginAttempt, response: Buffer): Promise<Principal> {
    this.#held = []
    this.#output.holdInput()
    return authenticate(attempt, response)
  }

  /** Keeps the frame while a login is being decided; false otherwise (handle it now). */
  hold(frame: AmqpFrame): boolean {
    if (this.#held === null) return false
    this.#held.push(frame)
    return true
  }

  /** The login was decided (or the connection is closing): reading resumes; returns the frames kept. */
  end(): AmqpFrame[] {
    const held = this.#held
    if (held === null) return []
    this.#held = null
    this.#output.releaseInput()
    return held
  }
}
