// SASL as every listener runs it (Kafka now, AMQP 1.0 later): a mechanism by name, fed the client's
// responses one at a time, answering with a challenge, a success (with the principal) or a failure. The
// protocol decides how each is framed; failures are logged and slowed here, once, never with the secret.
import type { Principal } from '../../../broker/security/authorizer.js'
import { isScramMechanism } from '../../../broker/security/scram.js'
import { type LoginAttempt, logLoginFailure, passwordLogin } from '../authentication.js'
import { parsePlain } from './plain.js'
import { ScramError, ScramServer, type ScramServerOptions } from './scram.js'

export const saslMechanisms = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const
export type SaslMechanism = (typeof saslMechanisms)[number]

export function isSaslMechanism(name: string): name is SaslMechanism {
  return (saslMechanisms as readonly string[]).includes(name)
}

export type SaslStep =
  /** Send `challenge`; the client answers with its next response. */
  | { kind: 'challenge'; challenge: Buffer }
  /** Authenticated; `data` (SCRAM server-final) goes to the client with the success. */
  | { kind: 'success'; principal: Principal; data: Buffer }
  /** Refused (already logged and delayed): the protocol says so in its own words and usually closes. */
  | { kind: 'failure' }

export interface SaslServer {
  readonly mechanism: SaslMechanism
  /** The next client response. One at a time: a step must finish before the next is given. */
  step(response: Buffer): Promise<SaslStep>
}

/** A server for `mechanism` (one of saslMechanisms) on the connection of `attempt`. */
export function createSaslServer(
  mechanism: SaslMechanism,
  attempt: LoginAttempt,
  scramOptions: ScramServerOptions = {},
): SaslServer {
  return mechanism === 'PLAIN' ? new PlainServer(attempt) : new ScramSaslServer(mechanism, attempt, scramOptions)
}

async function refuse(attempt: LoginAttempt, user?: string): Promise<SaslStep> {
  logLoginFailure(attempt, 'bad-credentials', user)
  await attempt.security.loginFailed(attempt.socket.remoteAddress)
  return { kind: 'failure' }
}

class PlainServer implements SaslServer {
  readonly mechanism = 'PLAIN'
  readonly #attempt: LoginAttempt
  #done = false

  constructor(attempt: LoginAttempt) {
    this.#attempt = { ...attempt, mechanism: 'PLAIN' }
  }

  async step(response: Buffer): Promise<SaslStep> {
    if (this.#done) return refuse(this.#attempt)
    this.#done = true
    const credentials = parsePlain(response)
    if (credentials === undefined) return refuse(this.#attempt)
    // Acting as someone else (an authzid other than the user's own) is not something Wharf grants.
    if (credentials.authzid !== '' && credentials.authzid !== credentials.authcid)
      return refuse(this.#attempt, credentials.authcid)
    const principal = await passwordLogin(this.#attempt, credentials.authcid, credentials.password)
    return principal === undefined ? { kind: 'failure' } : { kind: 'success', principal, data: Buffer.alloc(0) }
  }
}

class ScramSaslServer implements SaslServer {
  readonly mechanism: SaslMechanism
  readonly #attempt: LoginAttempt
  readonly #scram: ScramServer
  #round = 0

  constructor(mechanism: SaslMechanism, attempt: LoginAttempt, options: ScramServerOptions) {
    if (!isScramMechanism(mechanism)) throw new Error(`not a SCRAM mechanism: ${mechanism}`)
    this.mechanism = mechanism
    this.#attempt = { ...attempt, mechanism }
    const users = attempt.security.users
    this.#scram = new ScramServer(mechanism, (name) => users.get(name)?.scram[mechanism], options)
  }

  async step(response: Buffer): Promise<SaslStep> {
    const round = this.#round++
    try {
      if (round === 0) return { kind: 'challenge', challenge: this.#scram.first(response) }
      if (round > 1) return refuse(this.#attempt, this.#scram.username)
      const result = this.#scram.final(response)
      if (!result.ok) return refuse(this.#attempt, result.username)
      const security = this.#attempt.security
      // Wharf issues no delegation tokens (Kafka's tokenauth extension): such a login fails at the end, as
      // a wrong password does.
      const acceptable =
        this.#scram.extensions.get('tokenauth') !== 'true' &&
        (result.authzid === '' || result.authzid === result.username) &&
        security.mayLogIn(result.username, this.#attempt.socket.remoteAddress)
      if (!acceptable) return refuse(this.#attempt, result.username)
      return {
        kind: 'success',
        principal: security.principal(result.username, this.mechanism),
        data: result.serverFinal,
      }
    } catch (error) {
      if (error instanceof ScramError) return refuse(this.#attempt, this.#scram.username)
      throw error
    }
  }
}
