// Who an HTTP request is: HTTP Basic (a user's password), a bearer API token, the dashboard's session cookie,
// or nobody (the anonymous principal when the policy allows it). Wrong credentials are logged with the peer
// (never the secret) and answered only after broker.security's per-address delay; missing ones are not,
// since a 401 challenge is the normal first step of Basic.
import { createHmac, randomBytes } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Principal } from '../../../broker/security/authorizer.js'
import type { Security } from '../../../broker/security/security.js'
import type { Logger } from '../../../util/logger.js'
import { type LoginAttempt, logLoginFailure, passwordLogin } from '../../common/authentication.js'
import type { ProtocolTraffic } from '../../common/metrics.js'
import { type Session, type SessionStore, sessionIdFromCookie } from './sessions.js'

/** How long a verified Basic password is remembered, so a polling script does not pay a scrypt per request. */
const BASIC_CACHE_MS = 60_000
const BASIC_CACHE_MAX = 1000

export type Via = 'basic' | 'token' | 'session' | 'anonymous'

export interface Authenticated {
  readonly principal: Principal
  readonly via: Via
  /** The session, when the cookie authenticated the request. */
  readonly session?: Session
}

/** `missing`: no credentials and anonymous is off. `refused`: credentials were presented and are wrong. */
export type Authentication = Authenticated | 'missing' | 'refused'

export class HttpAuthenticator {
  readonly #security: Security
  readonly #logger: Logger
  readonly #sessions: SessionStore
  /** HMAC key for the Basic cache: the cache never holds a password or a plain hash of one. */
  readonly #cacheKey = randomBytes(32)
  readonly #basicCache = new Map<string, { user: string; expires: number }>()
  #cacheGeneration = -1

  readonly #traffic: ProtocolTraffic | undefined

  constructor(security: Security, logger: Logger, sessions: SessionStore, traffic?: ProtocolTraffic) {
    this.#security = security
    this.#logger = logger
    this.#sessions = sessions
    this.#traffic = traffic
  }

  attempt(request: FastifyRequest, mechanism: string): LoginAttempt {
    const traffic = this.#traffic
    return {
      security: this.#security,
      logger: this.#logger,
      protocol: 'http',
      socket: request.socket,
      mechanism,
      traffic,
    }
  }

  async authenticate(request: FastifyRequest): Promise<Authentication> {
    const header = request.headers.authorization
    if (header !== undefined) return this.#fromHeader(request, header)
    const id = sessionIdFromCookie(request.headers.cookie)
    const session = id === undefined ? undefined : this.#sessions.get(id)
    if (session !== undefined) {
      if (this.#security.mayLogIn(session.user, request.socket.remoteAddress))
        return { principal: this.#security.principal(session.user, 'session'), via: 'session', session }
      this.#sessions.delete(session.id)
    }
    const anonymous = this.#security.anonymous()
    return anonymous === undefined ? 'missing' : { principal: anonymous, via: 'anonymous' }
  }

  /** A user name and password (Basic, or the dashboard's login form). */
  async password(request: FastifyRequest, user: string, password: string, mechanism: string) {
    const users = this.#security.users
    if (this.#cacheGeneration !== users.generation) {
      this.#basicCache.clear()
      this.#cacheGeneration = users.generation
    }
    const key = createHmac('sha256', this.#cacheKey).update(user).update('\0').update(password).digest('base64')
    const cached = this.#basicCache.get(key)
    const peer = request.socket.remoteAddress
    if (cached !== undefined && cached.expires > Date.now() && this.#security.mayLogIn(cached.user, peer))
      return this.#security.principal(cached.user, mechanism)
    const principal = await passwordLogin(this.attempt(request, mechanism), user, password)
    if (principal === undefined) return undefined
    if (this.#basicCache.size >= BASIC_CACHE_MAX) this.#basicCache.clear()
    this.#basicCache.set(key, { user: principal.name, expires: Date.now() + BASIC_CACHE_MS })
    return principal
  }

  async #fromHeader(request: FastifyRequest, header: string): Promise<Authentication> {
    const space = header.indexOf(' ')
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase()
    const value = space < 0 ? '' : header.slice(space + 1).trim()
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon > 0) {
        const principal = await this.password(request, decoded.slice(0, colon), decoded.slice(colon + 1), 'basic')
        return principal === undefined ? 'refused' : { principal, via: 'basic' }
      }
      return this.#refuse(request, 'basic', 'bad-credentials')
    }
    if (scheme === 'bearer') {
      const token = this.#security.tokens.verify(value)
      if (token !== undefined && this.#security.mayLogIn(token.user, request.socket.remoteAddress))
        return { principal: this.#security.principal(token.user, 'token'), via: 'token' }
      return this.#refuse(request, 'bearer', 'bad-credentials', token?.user)
    }
    return this.#refuse(request, scheme.slice(0, 32), 'unsupported-mechanism')
  }

  async #refuse(
    request: FastifyRequest,
    mechanism: string,
    reason: 'bad-credentials' | 'unsupported-mechanism',
    user?: string,
  ): Promise<'refused'> {
    logLoginFailure(this.attempt(request, mechanism), reason, user)
    await this.#security.loginFailed(request.socket.remoteAddress)
    return 'refused'
  }
}
