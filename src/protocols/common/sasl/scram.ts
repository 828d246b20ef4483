// The server side of a SCRAM exchange (RFC 5802, SHA-256/512 per RFC 7677) against stored credentials:
// client-first → server-first (salt, iterations, our nonce) → client-final (proof) → server-final (v=).
// Pure: the caller looks the credential up and decides what a verified name may do.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import {
  hash,
  hmac,
  SCRAM_ITERATIONS_DEFAULT,
  type ScramCredential,
  type ScramMechanism,
  scramDigest,
} from '../../../broker/security/scram.js'

/** A message that breaks the grammar of RFC 5802 or asks for what Wharf does not offer (channel binding). */
export class ScramError extends Error {}

export interface ClientFirst {
  /** `n,,` or `y,,` or with `a=authzid`: echoed back base64-encoded in client-final's `c=`. */
  gs2Header: string
  /** The identity to act as, from `a=`; empty when absent. */
  authzid: string
  username: string
  nonce: string
  /** client-first-message-bare, part of the AuthMessage both sides sign. */
  bare: string
  extensions: ReadonlyMap<string, string>
}

export interface ClientFinal {
  channelBinding: Buffer
  nonce: string
  proof: Buffer
  /** client-final-message-without-proof, part of the AuthMessage. */
  withoutProof: string
}

/** RFC 5802 saslname: `=2C` is a comma, `=3D` an equals sign; any other `=` is malformed. */
function decodeSaslName(value: string): string {
  if (/=(?!2C|3D)/.test(value)) throw new ScramError('invalid escape in a SCRAM name')
  return value.replaceAll('=2C', ',').replaceAll('=3D', '=')
}

/** Printable ASCII except the comma (RFC 5802 `printable`). */
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/

function attribute(part: string | undefined, name: string): string {
  if (part === undefined || !part.startsWith(`${name}=`)) throw new ScramError(`expected the SCRAM attribute ${name}=`)
  return part.slice(name.length + 1)
}

export function parseClientFirst(message: string): ClientFirst {
  const first = message.indexOf(',')
  const second = message.indexOf(',', first + 1)
  if (first < 0 || second < 0) throw new ScramError('not a SCRAM client-first message')
  const flag = message.slice(0, first)
  // Wharf offers no -PLUS mechanism: a client that binds to the channel would sign what we cannot check.
  if (flag.startsWith('p=')) throw new ScramError('channel binding is not supported')
  if (flag !== 'n' && flag !== 'y') throw new ScramError('invalid SCRAM channel binding flag')
  const authzPart = message.slice(first + 1, second)
  const authzid = authzPart === '' ? '' : decodeSaslName(attribute(authzPart, 'a'))
  const bare = message.slice(second + 1)
  const parts = bare.split(',')
  if (parts[0]?.startsWith('m=')) throw new ScramError('mandatory SCRAM extensions are not supported')
  const username = decodeSaslName(attribute(parts[0], 'n'))
  const nonce = attribute(parts[1], 'r')
  if (username === '') throw new ScramError('empty SCRAM user name')
  if (!NONCE.test(nonce)) throw new ScramError('invalid SCRAM nonce')
  const extensions = new Map<string, string>()
  for (const part of parts.slice(2)) {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new ScramError('invalid SCRAM extension')
    extensions.set(part.slice(0, eq), part.slice(eq + 1))
  }
  return { gs2Header: message.slice(0, second + 1), authzid, username, nonce, bare, extensions }
}

export function parseClientFinal(message: string): ClientFinal {
  const at = message.lastIndexOf(',p=')
  if (at < 0) throw new ScramError('SCRAM client-final message without a proof')
  const withoutProof = message.slice(0, at)
  const proof = Buffer.from(message.slice(at + 3), 'base64')
  const parts = withoutProof.split(',')
  const channelBinding = Buffer.from(attribute(parts[0], 'c'), 'base64')
  const nonce = attribute(parts[1], 'r')
  if (!NONCE.test(nonce)) throw new ScramError('invalid SCRAM nonce')
  return { channelBinding, nonce, proof, withoutProof }
}

/** Keys the made-up salts of unknown users: stable per name for this process, unguessable from outside. */
const fakeSaltKey = randomBytes(32)

/**
 * A credential for a name that has none, so that an unknown user gets the same kind of answer (a salt that
 * stays the same on every try, the default iteration count) and fails only at the proof.
 */
function fakeCredential(mechanism: ScramMechanism, username: string): ScramCredential {
  const size = scramDigest(mechanism) === 'sha256' ? 32 : 64
  return {
    mechanism,
    salt: createHmac('sha256', fakeSaltKey).update(`${mechanism}\0${username}`).digest().toString('base64'),
    iterations: SCRAM_ITERATIONS_DEFAULT,
    storedKey: randomBytes(size).toString('base64'),
    serverKey: randomBytes(size).toString('base64'),
  }
}

export interface ScramServerOptions {
  /** The server's part of the nonce; random unless given (test vectors). */
  serverNonce?: string
}

export type ScramFinal =
  | { ok: true; username: string; authzid: string; serverFinal: Buffer }
  | { ok: false; username: string; reason: string }

/** One SCRAM exchange, two steps: `first` answers client-first, `final` checks client-final. */
export class ScramServer {
  readonly mechanism: ScramMechanism
  readonly #lookup: (username: string) => ScramCredential | undefined
  readonly #serverNonce: string
  #clientFirst: ClientFirst | undefined
  #serverFirst = ''
  #nonce = ''
  #credential: ScramCredential | undefined
  #known = false
  #finished = false

  constructor(
    mechanism: ScramMechanism,
    lookup: (username: string) => ScramCredential | undefined,
    options: ScramServerOptions = {},
  ) {
    this.mechanism = mechanism
    this.#lookup = lookup
    this.#serverNonce = options.serverNonce ?? randomBytes(24).toString('base64')
  }

  /** The user name of the client-first message, once it has been read. */
  get username(): string | undefined {
    return this.#clientFirst?.username
  }

  /** The extensions of the client-first message (Kafka's `tokenauth`), once it has been read. */
  get extensions(): ReadonlyMap<string, string> {
    return this.#clientFirst?.extensions ?? new Map()
  }

  /** server-first for a client-first message; throws ScramError on a malformed one. */
  first(message: Buffer): Buffer {
    if (this.#clientFirst !== undefined) throw new ScramError('SCRAM client-first message sent twice')
    const clientFirst = parseClientFirst(message.toString('utf8'))
    this.#clientFirst = clientFirst
    const credential = this.#lookup(clientFirst.username)
    this.#known = credential !== undefined && credential.mechanism === this.mechanism
    this.#credential = this.#known ? credential : fakeCredential(this.mechanism, clientFirst.username)
    this.#nonce = clientFirst.nonce + this.#serverNonce
    const { salt, iterations } = this.#credential!
    this.#serverFirst = `r=${this.#nonce},s=${salt},i=${iterations}`
    return Buffer.from(this.#serverFirst, 'utf8')
  }

  /** Checks the proof of a client-final message; on success the answer is server-final (`v=`). */
  final(message: Buffer): ScramFinal {
    const clientFirst = this.#clientFirst
    const credential = this.#credential
    if (clientFirst === undefined || credential === undefined || this.#finished)
      throw new ScramError('SCRAM client-final message out of order')
    this.#finished = true
    const username = clientFirst.username
    const clientFinal = parseClientFinal(message.toString('utf8'))
    if (!clientFinal.channelBinding.equals(Buffer.from(clientFirst.gs2Header, 'utf8')))
      return { ok: false, username, reason: 'channel binding does not match the client-first header' }
    // Kafka accepts a final nonce that ends with the one it sent: librdkafka 2.0.2 repeats its client nonce
    // in front (c-nonce + c-nonce + s-nonce), and signs what it sent, so the AuthMessage below still holds.
    if (!clientFinal.nonce.endsWith(this.#nonce)) return { ok: false, username, reason: 'nonce mismatch' }
    const authMessage = `${clientFirst.bare},${this.#serverFirst},${clientFinal.withoutProof}`
    const storedKey = Buffer.from(credential.storedKey, 'base64')
    const clientSignature = hmac(this.mechanism, storedKey, authMessage)
    const proofFits = clientFinal.proof.length === clientSignature.length
    const clientKey = Buffer.alloc(clientSignature.length)
    for (let i = 0; i < clientKey.length; i++) clientKey[i] = (clientFinal.proof[i] ?? 0) ^ clientSignature[i]!
    const proofMatches = timingSafeEqual(hash(this.mechanism, clientKey), storedKey)
    if (!proofFits || !proofMatches || !this.#known) return { ok: false, username, reason: 'invalid proof' }
    const serverSignature = hmac(this.mechanism, Buffer.from(credential.serverKey, 'base64'), authMessage)
    return {
      ok: true,
      username,
      authzid: clientFirst.authzid,
      serverFinal: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'),
    }
  }
}
