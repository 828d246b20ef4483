// The SASL mechanisms of an AMQP 1.0 connection (Part 5.3) through the shared authenticator: PLAIN (the user
// store), ANONYMOUS (only while anonymous access is on), EXTERNAL (a verified client certificate's common
// name); any other mechanism is refused and logged as such.
import type { Socket } from 'node:net'
import type { Principal } from '../../broker/security/authorizer.js'
import {
  anonymousLogin,
  certificateLogin,
  type LoginAttempt,
  passwordLogin,
  refuseLogin,
} from '../common/authentication.js'
import type { Amqp10Host } from './context.js'

export function loginAttempt(host: Amqp10Host, socket: Socket, mechanism: string): LoginAttempt {
  return {
    security: host.broker.security,
    logger: host.logger,
    protocol: 'amqp10',
    socket,
    mechanism,
    traffic: host.traffic,
  }
}

/** The principal a sasl-init (or, without SASL, ANONYMOUS) logs in as; undefined when refused. */
export function saslLogin(attempt: LoginAttempt, response: Buffer | undefined): Promise<Principal | undefined> {
  switch (attempt.mechanism) {
    case 'PLAIN': {
      const parts = (response ?? Buffer.alloc(0)).toString('utf8').split('\u0000')
      return parts.length === 3 ? passwordLogin(attempt, parts[1]!, parts[2]!) : refuseLogin(attempt, 'bad-credentials')
    }
    case 'ANONYMOUS':
      return anonymousLogin(attempt)
    case 'EXTERNAL':
      return certificateLogin(attempt)
    default:
      return refuseLogin(attempt, 'unsupported-mechanism')
  }
}
