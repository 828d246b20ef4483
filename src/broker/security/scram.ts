// SCRAM credentials as RFC 5802 stores them: a random salt, an iteration count, StoredKey = H(ClientKey) and
// ServerKey, from which neither the password nor the ClientKey can be recovered. The SASL exchange that
// checks a client's proof against them lives with the protocols (protocols/common/sasl).
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const pbkdf2Async = promisify(pbkdf2)

export const scramMechanisms = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const
export type ScramMechanism = (typeof scramMechanisms)[number]

/** Kafka's kafka-configs default; also its minimum. */
export const SCRAM_ITERATIONS_DEFAULT = 4096
/** Kafka refuses more; a client-chosen count must not turn a login into minutes of CPU. */
export const SCRAM_ITERATIONS_MAX = 16384

export interface ScramCredential {
  mechanism: ScramMechanism
  /** base64 */
  salt: string
  iterations: number
  /** base64 H(HMAC(SaltedPassword, "Client Key")) */
  storedKey: string
  /** base64 HMAC(SaltedPassword, "Server Key") */
  serverKey: string
}

export function isScramMechanism(value: string): value is ScramMechanism {
  return (scramMechanisms as readonly string[]).includes(value)
}

/** The node:crypto digest name of a mechanism. */
export function scramDigest(mechanism: ScramMechanism): 'sha256' | 'sha512' {
  return mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512'
}

export function hmac(mechanism: ScramMechanism, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(scramDigest(mechanism), key).update(data).digest()
}

export function hash(mechanism: ScramMechanism, data: Buffer): Buffer {
  return createHash(scramDigest(mechanism)).update(data).digest()
}

/** Hi(password, salt, i) of RFC 5802 (PBKDF2 with the mechanism's HMAC), off the event loop. */
export function saltPassword(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  const digest = scramDigest(mechanism)
  return pbkdf2Async(password.normalize('NFKC'), salt, iterations, digest === 'sha256' ? 32 : 64, digest)
}

/** The stored form from a salted password (what Kafka's AlterUserScramCredentials sends). */
export function credentialFromSaltedPassword(
  mechanism: ScramMechanism,
  salt: Buffer,
  iterations: number,
  saltedPassword: Buffer,
): ScramCredential {
  const clientKey = hmac(mechanism, saltedPassword, 'Client Key')
  return {
    mechanism,
    salt: salt.toString('base64'),
    iterations,
    storedKey: hash(mechanism, clientKey).toString('base64'),
    serverKey: hmac(mechanism, saltedPassword, 'Server Key').toString('base64'),
  }
}

export async function deriveScramCredential(
  mechanism: ScramMechanism,
  password: string,
  iterations = SCRAM_ITERATIONS_DEFAULT,
  salt: Buffer = randomBytes(32),
): Promise<ScramCredential> {
  return credentialFromSaltedPassword(
    mechanism,
    salt,
    iterations,
    await saltPassword(mechanism, password, salt, iterations),
  )
}

/** Checks a plain password against a SCRAM credential (PLAIN login of a user that has only SCRAM credentials). */
export async function scramCredentialMatches(credential: ScramCredential, password: string): Promise<boolean> {
  const derived = await deriveScramCredential(
    credential.mechanism,
    password,
    credential.iterations,
    Buffer.from(credential.salt, 'base64'),
  )
  return timingSafeEqual(Buffer.from(derived.storedKey, 'base64'), Buffer.from(credential.storedKey, 'base64'))
}
