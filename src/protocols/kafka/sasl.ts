// SaslHandshake and SaslAuthenticate: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 through the shared SASL server.
// After SaslHandshake v0 (kafka-python) the tokens come bare, without Kafka headers; connection.ts reads them.
import { createSaslServer, isSaslMechanism, saslMechanisms } from '../common/sasl/server.js'
import type {
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
} from './codec/index.js'
import { type Connection, type ThenClose, thenClose } from './connection.js'
import { KafkaError } from './errors.js'

const EMPTY = Buffer.alloc(0)
const MECHANISMS = [...saslMechanisms]

export function handleSaslHandshake(
  c: Connection,
  req: SaslHandshakeRequest,
  version: number,
): SaslHandshakeResponse | ThenClose<SaslHandshakeResponse> {
  // Kafka authenticates a connection once, and closes it after a refused handshake.
  if (c.sasl.done || c.sasl.underWay)
    return thenClose({ errorCode: KafkaError.ILLEGAL_SASL_STATE, mechanisms: MECHANISMS })
  if (!isSaslMechanism(req.mechanism))
    return thenClose({ errorCode: KafkaError.UNSUPPORTED_SASL_MECHANISM, mechanisms: MECHANISMS })
  const server = createSaslServer(req.mechanism, {
    security: c.server.broker.security,
    logger: c.logger,
    protocol: 'kafka',
    socket: c.socket,
    mechanism: req.mechanism,
    traffic: c.server.traffic,
  })
  // Handshake v0: the tokens follow as bare frames, not wrapped in SaslAuthenticate.
  c.sasl.start(server, version === 0)
  return { errorCode: KafkaError.NONE, mechanisms: MECHANISMS }
}

function failedMessage(mechanism: string): string {
  // Kafka's own wording for each mechanism.
  return mechanism === 'PLAIN'
    ? 'Authentication failed: Invalid username or password'
    : `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`
}

export async function handleSaslAuthenticate(
  c: Connection,
  req: SaslAuthenticateRequest,
): Promise<SaslAuthenticateResponse | ThenClose<SaslAuthenticateResponse>> {
  const mechanism = c.sasl.mechanism
  const stepping = c.sasl.step(req.authBytes)
  if (stepping === undefined || mechanism === undefined) {
    const errorMessage = c.sasl.done ? 'Already authenticated' : 'SaslAuthenticate without a SaslHandshake'
    return thenClose({ errorCode: KafkaError.ILLEGAL_SASL_STATE, errorMessage, authBytes: EMPTY })
  }
  const step = await stepping
  if (step.kind === 'failure')
    return thenClose({
      errorCode: KafkaError.SASL_AUTHENTICATION_FAILED,
      errorMessage: failedMessage(mechanism),
      authBytes: EMPTY,
    })
  return {
    errorCode: KafkaError.NONE,
    errorMessage: null,
    authBytes: step.kind === 'challenge' ? step.challenge : step.data,
    sessionLifetimeMs: 0,
  }
}
