// Who a CONNECT is: a user name (with its password) is checked against the user store; without one, a client
// certificate the TLS handshake verified names the user by its CN (Mosquitto's use_identity_as_username);
// otherwise the client is anonymous, if the policy allows. A refusal carries the CONNACK codes to send.
//
// CONNACK codes, as Mosquitto 2.0 answers where the protocol allows: MQTT 3.1.1 gets 0x05 (not authorized) for
// a wrong user name or password and for a refused anonymous client alike (Mosquitto never sends 0x04 for a
// password; saying less also does not tell a guesser which part was wrong). MQTT 5 gets 0x86 (Bad User Name
// or Password) for a wrong password — Mosquitto sends 0x87 there, but 0x86 is what MQTT 5 defines for it —
// and 0x87 (Not authorized) for a refused anonymous client.
import type { IConnectPacket } from 'mqtt-packet'
import type { Principal } from '../../../broker/security/authorizer.js'
import { anonymousLogin, certificateLogin, type LoginAttempt, passwordLogin } from '../../common/authentication.js'
import { peerCertificateSubject } from '../../common/tls.js'
import { ConnackV3, Reason } from '../wire/errors.js'
import type { ConnectionCore } from './state.js'

export type Authentication = { principal: Principal } | { refused: { reason: number; v3: number; message: string } }

export async function authenticate(c: ConnectionCore, p: IConnectPacket): Promise<Authentication> {
  const attempt = (mechanism: string): LoginAttempt => ({
    security: c.hub.broker.security,
    logger: c.hub.logger,
    protocol: 'mqtt',
    socket: c.socket,
    mechanism,
    crossOrigin: c.crossOrigin,
    traffic: c.hub.traffic,
  })
  if (p.username !== undefined) {
    const password = p.password === undefined ? '' : Buffer.from(p.password).toString('utf8')
    const principal = await passwordLogin(attempt('password'), p.username, password)
    if (principal !== undefined) return { principal }
    return {
      refused: {
        reason: Reason.badUserNameOrPassword,
        v3: ConnackV3.notAuthorized,
        message: 'bad user name or password',
      },
    }
  }
  if (peerCertificateSubject(c.socket) !== undefined) {
    const principal = await certificateLogin(attempt('certificate'))
    if (principal !== undefined) return { principal }
  } else {
    const principal = await anonymousLogin(attempt('anonymous'))
    if (principal !== undefined) return { principal }
  }
  return { refused: { reason: Reason.notAuthorized, v3: ConnackV3.notAuthorized, message: 'not authorized' } }
}
