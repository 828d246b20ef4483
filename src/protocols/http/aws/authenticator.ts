// Who an SQS or SNS request acts as, and that principal's authorizer. A request signed with a known access
// key is verified (SigV4, sigv4.ts) and acts as the key's user; a wrong signature is never served. With the
// anonymous policy on (loopback with no users configured, the default), unsigned requests and requests signed
// with an access key id Wharf does not know act as User:ANONYMOUS: SDKs always sign, and local tools use
// made-up keys. With it off, or when a page of another origin sent the request (auth/cross-origin.ts), those
// get MissingAuthenticationToken and InvalidClientTokenId.
// Per request this costs a Map lookup for the key (secret and derived signing keys are cached until a user
// changes), one HMAC over the canonical request, and a Map lookup for the principal's Access. The listener
// makes one for SQS and SNS together, so a key and a principal's Access are cached once for both.
import type { FastifyRequest } from 'fastify'
import type { Access, Principal } from '../../../broker/security/authorizer.js'
import { ANONYMOUS } from '../../../broker/security/authorizer.js'
import type { Security } from '../../../broker/security/security.js'
import type { UserRecord } from '../../../broker/security/users.js'
import type { Logger } from '../../../util/logger.js'
import { type LoginFailure, logLoginFailure } from '../../common/authentication.js'
import { crossOrigin } from '../../common/cross-origin.js'
import type { TrafficMetrics } from '../../common/metrics.js'
import { ACCOUNT_ID } from '../sqs/attributes.js'
import {
  ALGORITHM,
  AwsAuthError,
  INVALID_TOKEN_TEXT,
  MISSING_TOKEN_TEXT,
  parseSignature,
  type SignedRequest,
  signingKey,
  verifySignature,
} from './sigv4.js'

/** Bounds on the caches: a client inventing key ids or addresses must not grow them without limit. */
const KEYS_MAX = 1024
const SIGNING_KEYS_PER_ID_MAX = 8
const ACCESS_MAX = 4096

interface KeyEntry {
  user: UserRecord
  secret: string
  /** Derived signing keys by `date/region/service`. */
  signing: Map<string, Buffer>
}

export type AwsService = 'sqs' | 'sns'

/** The ARN AWS names a caller by in an authorization error. */
export function principalArn(principal: Principal): string {
  return principal.name === ANONYMOUS ? 'anonymous' : `arn:aws:iam::${ACCOUNT_ID}:user/${principal.name}`
}

export class AwsAuthenticator {
  readonly #security: Security
  readonly #logger: Logger
  /** Refused signatures count per service (`wharf_auth_failures_total{protocol="sqs"|"sns"}`). */
  readonly #traffic: TrafficMetrics | undefined
  readonly #now: () => number
  /** Access key id → its user and secret (null: unknown), valid for one user-store generation. */
  readonly #keys = new Map<string, KeyEntry | null>()
  #keysGeneration = -1
  readonly #access = new Map<string, Access>()

  constructor(security: Security, logger: Logger, traffic?: TrafficMetrics, now: () => number = Date.now) {
    this.#traffic = traffic
    this.#security = security
    this.#logger = logger
    this.#now = now
  }

  /** The request's authorizer for `service`; throws the AWS error when it may not be served at all. */
  async authenticate(request: FastifyRequest, service: AwsService): Promise<Access> {
    const signed: SignedRequest = {
      method: request.raw.method ?? 'POST',
      url: request.raw.url ?? '/',
      rawHeaders: request.raw.rawHeaders,
      body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    }
    const address = request.socket.remoteAddress
    const claim = parseSignature(signed)
    if (claim === undefined) {
      const anonymous = this.#anonymous(request)
      if (anonymous !== undefined) return this.#accessFor(anonymous, address)
      await this.#refuse(request, service, 'anonymous-disabled', undefined)
      throw new AwsAuthError('MissingAuthenticationToken', MISSING_TOKEN_TEXT)
    }
    const key = this.#key(claim.accessKeyId)
    if (key === undefined || !this.#security.mayLogIn(key.user.name, address)) {
      const anonymous = this.#anonymous(request)
      if (key === undefined && anonymous !== undefined) return this.#accessFor(anonymous, address)
      await this.#refuse(request, service, 'bad-credentials', claim.accessKeyId)
      throw new AwsAuthError('InvalidClientTokenId', INVALID_TOKEN_TEXT)
    }
    try {
      verifySignature(signed, claim, {
        service,
        now: this.#now(),
        key: (date, region, service) => this.#signingKey(key, date, region, service),
      })
    } catch (error) {
      if (error instanceof AwsAuthError && error.code === 'SignatureDoesNotMatch' && claim.service === service)
        await this.#refuse(request, service, 'bad-credentials', key.user.name)
      throw error
    }
    return this.#accessFor(this.#security.principal(key.user.name, 'access-key'), address)
  }

  /**
   * The anonymous principal when the policy allows it, except for a request a page of another origin sent
   * (a cross-site form post would otherwise act anonymously on a developer's loopback broker).
   */
  #anonymous(request: FastifyRequest): Principal | undefined {
    return crossOrigin(request.headers) ? undefined : this.#security.anonymous()
  }

  async #refuse(
    request: FastifyRequest,
    service: AwsService,
    reason: LoginFailure,
    user: string | undefined,
  ): Promise<void> {
    logLoginFailure(
      {
        logger: this.#logger,
        protocol: service,
        socket: request.socket,
        mechanism: ALGORITHM,
        traffic: this.#traffic?.protocol(service),
      },
      reason,
      user,
    )
    await this.#security.loginFailed(request.socket.remoteAddress)
  }

  #key(id: string): KeyEntry | undefined {
    const generation = this.#security.users.generation
    if (generation !== this.#keysGeneration) {
      this.#keys.clear()
      this.#keysGeneration = generation
    }
    let entry = this.#keys.get(id)
    if (entry === undefined) {
      const found = this.#security.users.accessKey(id)
      entry = found === undefined ? null : { user: found.user, secret: found.secret, signing: new Map() }
      if (this.#keys.size >= KEYS_MAX) this.#keys.clear()
      this.#keys.set(id, entry)
    }
    return entry ?? undefined
  }

  #signingKey(entry: KeyEntry, date: string, region: string, service: string): Buffer {
    const scope = `${date}/${region}/${service}`
    let key = entry.signing.get(scope)
    if (key === undefined) {
      key = signingKey(entry.secret, date, region, service)
      if (entry.signing.size >= SIGNING_KEYS_PER_ID_MAX) entry.signing.clear()
      entry.signing.set(scope, key)
    }
    return key
  }

  /** One Access per principal and source address, so its cached decisions outlive the request. */
  #accessFor(principal: Principal, address: string | undefined): Access {
    const cacheKey = `${principal.name}\0${principal.mechanism}\0${address ?? ''}`
    let access = this.#access.get(cacheKey)
    if (access === undefined) {
      access = this.#security.access(principal, address)
      if (this.#access.size >= ACCESS_MAX) this.#access.clear()
      this.#access.set(cacheKey, access)
    }
    return access
  }
}
