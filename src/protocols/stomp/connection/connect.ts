// CONNECT / STOMP: version negotiation (`accept-version`; none means 1.0), who the client is, its JMS client id
// (`client-id`, one connection at a time), and heart-beats.
// A `login` is a password login against the user store (also when anonymous access is on); without one, a
// client certificate the TLS handshake verified names the user by its CN; otherwise the client is anonymous,
// if the policy allows. A refusal is ERROR "Bad credentials", logged through the kit, then close.
import type net from 'node:net'
import type { Principal } from '../../../broker/security/authorizer.js'
import { anonymousLogin, certificateLogin, type LoginAttempt, passwordLogin } from '../../common/authentication.js'
import { peerCertificateSubject } from '../../common/tls.js'
import type { Frame, StompVersion } from '../wire/frame.js'
import type { ConnectionCore } from './context.js'

const versions: StompVersion[] = ['1.2', '1.1', '1.0']

/** What CONNECT settled: heart-beat intervals each way, 0 = none. */
export interface Negotiated {
  sendEveryMs: number
  expectEveryMs: number
}

export interface ConnectTransport {
  socket: net.Socket
  crossOrigin: boolean
}

/** The highest version both sides speak, or undefined when none. */
export function negotiateVersion(acceptVersion: string | undefined): StompVersion | undefined {
  if (acceptVersion === undefined) return '1.0'
  const offered = new Set(acceptVersion.split(',').map((v) => v.trim()))
  return versions.find((v) => offered.has(v))
}

function heartBeat(text: string | undefined): [number, number] | undefined {
  if (text === undefined) return [0, 0]
  const match = /^\s*(\d{1,9})\s*,\s*(\d{1,9})\s*$/.exec(text)
  if (match === null) return undefined
  return [Number(match[1]), Number(match[2])]
}

export async function connect(
  c: ConnectionCore,
  frame: Frame,
  transport: ConnectTransport,
): Promise<Negotiated | undefined> {
  const receipt = frame.headers.get('receipt')
  const version = negotiateVersion(frame.headers.get('accept-version'))
  if (version === undefined) {
    c.fail('Supported protocol versions are 1.0 1.1 1.2', receipt)
    return undefined
  }
  c.version = version
  const beats = heartBeat(frame.headers.get('heart-beat'))
  if (beats === undefined) {
    c.fail(`invalid heart-beat header '${frame.headers.get('heart-beat')}'`, receipt)
    return undefined
  }
  const principal = await authenticate(c, frame, transport)
  if (!c.isOpen()) return undefined
  if (principal === undefined) {
    c.fail('Bad credentials', receipt, 'Access refused: the login or passcode is wrong, or anonymous access is off.')
    return undefined
  }
  c.principal = principal
  c.access = c.broker.security.access(principal, transport.socket.remoteAddress)
  const clientId = frame.headers.get('client-id')
  if (clientId !== undefined && clientId !== '') {
    // One connection per client id, as ActiveMQ (InvalidClientIDException): the broker holds it until close.
    if (c.broker.jms.clientIds.holder(clientId) !== undefined) {
      c.fail(`client-id '${clientId}' is already connected`, receipt)
      return undefined
    }
    c.broker.jms.clientIds.claim(clientId, c.id)
    c.clientId = clientId
  }
  // The server sends as often as the client wants to hear (cy) and wants to hear as often as the client can
  // send (cx), each no more often than heartbeatMinMs.
  const [cx, cy] = beats
  const floor = c.host.limits.heartbeatMinMs
  const sendEveryMs = cy === 0 ? 0 : Math.max(cy, floor)
  const expectEveryMs = cx === 0 ? 0 : Math.max(cx, floor)
  const headers: Array<[string, string]> = [['session', c.id]]
  if (version !== '1.0') {
    headers.unshift(['version', version])
    headers.push(['heart-beat', `${sendEveryMs},${expectEveryMs}`], ['server', c.host.serverName])
  }
  c.send('CONNECTED', headers)
  if (receipt !== undefined) c.send('RECEIPT', [['receipt-id', receipt]])
  return { sendEveryMs, expectEveryMs }
}

function authenticate(c: ConnectionCore, frame: Frame, transport: ConnectTransport): Promise<Principal | undefined> {
  const attempt = (mechanism: string): LoginAttempt => ({
    security: c.broker.security,
    logger: c.host.logger,
    protocol: 'stomp',
    socket: transport.socket,
    mechanism,
    crossOrigin: transport.crossOrigin,
    traffic: c.host.traffic,
  })
  const login = frame.headers.get('login')
  if (login !== undefined && login !== '')
    return passwordLogin(attempt('password'), login, frame.headers.get('passcode') ?? '')
  if (peerCertificateSubject(transport.socket) !== undefined) return certificateLogin(attempt('certificate'))
  return anonymousLogin(attempt('anonymous'))
}
