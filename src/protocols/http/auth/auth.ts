// Authentication and authorization of the HTTP listener's own surfaces (REST admin API, schema registry,
// dashboard API, /metrics): one onRequest hook decides from the matched route (policy.ts) and the
// credentials (credentials.ts), and the dashboard's login, whoami and logout live at /api/v1/session.
// Refusals: 401 with `WWW-Authenticate: Basic realm="wharf"` (a `Session` challenge for the dashboard's own
// requests, marked `X-Requested-With`, so the browser shows the login page rather than its Basic prompt),
// 403 when the principal may not; each in the error shape of the surface addressed.
// Cross-site writes are refused whatever the credentials: a browser attaches cookies and cached Basic
// credentials to a form another site posts, and with anonymous access there are no credentials to forge.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Operation, ResourceType } from '../../../broker/security/acls.js'
import { principalString } from '../../../broker/security/authorizer.js'
import type { Security } from '../../../broker/security/security.js'
import { WharfError } from '../../../util/errors.js'
import type { Logger } from '../../../util/logger.js'
import { crossOrigin } from '../../common/cross-origin.js'
import { type AdminRoute, adminRoute, bad, body, sendAdminError } from '../admin/context.js'
import { REGISTRY_PATH, sendRegistryError } from '../registry.js'
import { type Authenticated, HttpAuthenticator } from './credentials.js'
import {
  type PolicyOptions,
  type Requirement,
  type Right,
  requirementOf,
  rightOf,
  rightsView,
  satisfies,
} from './policy.js'
import { clearedSessionCookie, csrfMatches, SessionStore, sessionCookie } from './sessions.js'

export const CSRF_HEADER = 'x-csrf-token'

export interface HttpAuth {
  readonly sessions: SessionStore
  /** Who the request is, once the hook let it through (undefined on routes that need no credentials). */
  authenticated(request: FastifyRequest): Authenticated | undefined
  /** Throws ACCESS_REFUSED (HTTP 403) unless the request's principal may do `operation` on the resource. */
  authorize(request: FastifyRequest, operation: Operation, type: ResourceType, name: string): void
}

const byRequest = new WeakMap<FastifyRequest, Authenticated>()
const TAG_OF: Record<Right, string> = {
  open: 'none',
  read: 'monitoring',
  manage: 'management',
  administer: 'administrator',
}

const reading = (method: string) => method === 'GET' || method === 'HEAD'
const isHttps = (request: FastifyRequest) => (request.socket as { encrypted?: boolean }).encrypted === true

function refuse(request: FastifyRequest, reply: FastifyReply, status: 401 | 403, message: string): FastifyReply {
  if (status === 401)
    reply.header(
      'www-authenticate',
      request.headers['x-requested-with'] === undefined ? 'Basic realm="wharf"' : 'Session realm="wharf"',
    )
  if (REGISTRY_PATH.test(request.routeOptions.url ?? ''))
    return sendRegistryError(reply, status === 401 ? 40101 : 40301, message)
  return sendAdminError(reply, status, status === 401 ? 'UNAUTHORIZED' : 'ACCESS_REFUSED', message)
}

export function registerHttpAuth(
  app: FastifyInstance,
  security: Security,
  logger: Logger,
  options: PolicyOptions,
): HttpAuth {
  const sessions = new SessionStore()
  const authenticator = new HttpAuthenticator(security, logger, sessions, options.traffic)

  /** Resolves true to go on; false once it has answered the request itself. */
  async function guard(
    request: FastifyRequest,
    reply: FastifyReply,
    requirement: Exclude<Requirement, 'skip' | 'open'>,
  ): Promise<boolean> {
    const writing = !reading(request.method)
    if (writing && crossOrigin(request.headers)) {
      refuse(request, reply, 403, 'cross-origin request refused')
      return false
    }
    if (requirement === 'session') return true
    const result = await authenticator.authenticate(request)
    if (result === 'missing' || result === 'refused') {
      refuse(request, reply, 401, result === 'missing' ? 'authentication required' : 'invalid credentials')
      return false
    }
    if (result.session !== undefined && writing && !csrfMatches(result.session, request.headers[CSRF_HEADER])) {
      refuse(request, reply, 403, `missing or wrong ${CSRF_HEADER} header for a session request`)
      return false
    }
    const { principal } = result
    const held = rightOf(principal, request.socket.remoteAddress)
    // Own tokens: any tagged user for themself; anyone else's, or an untagged user, needs an administrator.
    const owner = (request.params as { name?: string }).name
    const own = requirement === 'own-tokens' && owner === principal.name && result.via !== 'anonymous'
    const needed: Right = requirement === 'own-tokens' ? (own && held !== 'open' ? 'read' : 'administer') : requirement
    if (!satisfies(held, needed)) {
      refuse(request, reply, 403, `${principalString(principal)} may not do this: it needs the ${TAG_OF[needed]} tag`)
      return false
    }
    byRequest.set(request, result)
    return true
  }

  // Callback style, so the routes that need nothing here (SQS/SNS, static files) pay no promise.
  app.addHook('onRequest', (request, reply, done) => {
    const requirement = requirementOf(request.method, request.routeOptions.url, options)
    if (requirement === 'skip' || requirement === 'open') return done()
    guard(request, reply, requirement).then((go) => {
      if (go) done()
    }, done)
  })

  registerSessionRoutes(adminRoute(app, logger), authenticator, sessions)

  return {
    sessions,
    authenticated: (request) => byRequest.get(request),
    authorize(request, operation, type, name) {
      const auth = byRequest.get(request)
      if (auth === undefined) throw new WharfError('ACCESS_REFUSED', 'no authenticated principal')
      if (!security.access(auth.principal, request.socket.remoteAddress).allows(operation, type, name))
        throw new WharfError(
          'ACCESS_REFUSED',
          `${principalString(auth.principal)} is not allowed ${operation} on ${type} '${name}'`,
        )
    },
  }
}

function whoami(auth: Authenticated, peer: string | undefined): Record<string, unknown> {
  return {
    user: auth.principal.name,
    tags: auth.principal.tags,
    via: auth.via,
    anonymous: auth.via === 'anonymous',
    csrfToken: auth.session?.csrfToken ?? null,
    rights: rightsView(rightOf(auth.principal, peer)),
  }
}

/** POST /api/v1/session logs in (cookie), GET says who the caller is, DELETE logs out. */
function registerSessionRoutes(route: AdminRoute, authenticator: HttpAuthenticator, sessions: SessionStore): void {
  const unauthorized = (request: FastifyRequest, reply: FastifyReply, message: string) => {
    refuse(request, reply, 401, message)
    return undefined
  }

  route('POST', '/session', async (request, reply) => {
    const input = body(request)
    if (typeof input.user !== 'string' || typeof input.password !== 'string')
      throw bad('user and password are required')
    const principal = await authenticator.password(request, input.user, input.password, 'dashboard')
    if (principal === undefined) return unauthorized(request, reply, 'invalid user name or password')
    if (rightOf(principal, request.socket.remoteAddress) === 'open')
      throw new WharfError(
        'ACCESS_REFUSED',
        `${principalString(principal)} has no administrator, management or monitoring tag`,
      )
    const session = sessions.create(principal.name)
    reply.header('set-cookie', sessionCookie(session.id, isHttps(request))).header('cache-control', 'no-store')
    return whoami({ principal, via: 'session', session }, request.socket.remoteAddress)
  })

  route('GET', '/session', async (request, reply) => {
    const auth = await authenticator.authenticate(request)
    if (auth === 'missing') return unauthorized(request, reply, 'authentication required')
    if (auth === 'refused') return unauthorized(request, reply, 'invalid credentials')
    // It carries the CSRF token: no cache may keep it.
    reply.header('cache-control', 'no-store')
    return whoami(auth, request.socket.remoteAddress)
  })

  route('DELETE', '/session', async (request, reply) => {
    const auth = await authenticator.authenticate(request)
    if (typeof auth !== 'string' && auth.session !== undefined) {
      if (!csrfMatches(auth.session, request.headers[CSRF_HEADER]))
        throw new WharfError('ACCESS_REFUSED', `missing or wrong ${CSRF_HEADER} header for a session request`)
      sessions.delete(auth.session.id)
    }
    reply.header('set-cookie', clearedSessionCookie(isHttps(request)))
    return { loggedOut: true }
  })
}
