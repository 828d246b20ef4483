// How every listener establishes who a connection is, on top of broker.security: a password, a verified
// client certificate, or nobody (anonymous, when allowed). Each adapter maps the outcome to its protocol's
// own error; failures are logged here, once, with the peer address and never the secret.
import type net from 'node:net'
import type { Principal } from '../../broker/security/authorizer.js'
import type { Security } from '../../broker/security/security.js'
import type { Logger } from '../../util/logger.js'
import type { ProtocolTraffic } from './metrics.js'
import { peerCertificateSubject } from './tls.js'

export interface LoginAttempt {
  security: Security
  logger: Logger
  protocol: string
  socket: net.Socket
  /** The mechanism as the client named it (PLAIN, AMQPLAIN, SCRAM-SHA-256, password, basic...). */
  mechanism: string
  /**
   * Sent by a web page of another origin (an MQTT WebSocket upgrade, an HTTP request): only credentials the
   * page itself supplied count, never the ambient ones a browser adds (anonymous access, a client certificate).
   */
  crossOrigin?: boolean
  /** Counts refused logins by mechanism (`wharf_auth_failures_total`). */
  traffic?: ProtocolTraffic
}

/** Why a login was refused, for the log (the client is told only what its protocol says for a failure). */
export type LoginFailure =
  | 'bad-credentials'
  | 'no-certificate'
  | 'anonymous-disabled'
  | 'unsupported-mechanism'
  | 'cross-origin'

export function logLoginFailure(attempt: Omit<LoginAttempt, 'security'>, reason: LoginFailure, user?: string): void {
  attempt.traffic?.authFailed(attempt.mechanism)
  attempt.logger.warn(
    {
      protocol: attempt.protocol,
      peer: `${attempt.socket.remoteAddress ?? 'unknown'}:${attempt.socket.remotePort ?? 0}`,
      mechanism: attempt.mechanism,
      user,
      reason,
    },
    `${attempt.protocol} login refused`,
  )
}

/** A login refused before any check could pass: logged, then the failure delay of the source address. */
export async function refuseLogin(attempt: LoginAttempt, reason: LoginFailure, user?: string): Promise<undefined> {
  logLoginFailure(attempt, reason, user)
  await attempt.security.loginFailed(attempt.socket.remoteAddress)
  return undefined
}

/** User name and password; undefined (after the failure delay) when wrong. */
export async function passwordLogin(
  attempt: LoginAttempt,
  user: string,
  password: string,
): Promise<Principal | undefined> {
  const principal = await attempt.security.login(user, password, attempt.socket.remoteAddress, attempt.mechanism)
  if (principal === undefined) logLoginFailure(attempt, 'bad-credentials', user)
  return principal
}

/**
 * The client certificate's common name as the user (EXTERNAL, MQTT/Kafka certificate identity): the CA that
 * verified the certificate vouches for it, so the name need not be in the user store (its tags apply if it is).
 */
export async function certificateLogin(attempt: LoginAttempt): Promise<Principal | undefined> {
  if (attempt.crossOrigin === true) return refuseLogin(attempt, 'cross-origin')
  const subject = peerCertificateSubject(attempt.socket)
  if (subject !== undefined) return attempt.security.principal(subject.commonName, 'EXTERNAL')
  return refuseLogin(attempt, 'no-certificate')
}

/** The anonymous principal when allowed; else logged and undefined (after the failure delay). */
export async function anonymousLogin(attempt: LoginAttempt): Promise<Principal | undefined> {
  if (attempt.crossOrigin === true) return refuseLogin(attempt, 'cross-origin')
  const principal = attempt.security.anonymous()
  if (principal !== undefined) return principal
  return refuseLogin(attempt, 'anonymous-disabled')
}
