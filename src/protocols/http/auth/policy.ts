// What the HTTP listener's own surfaces require, decided from the matched route's pattern (never the raw
// URL: the router decodes `%75sers` to `users`, a prefix test on the URL would not) and what a principal's
// tags grant. ACL rules on single resources come on top, in the admin routes (admin/context.ts).
//
//   administrator  everything, users/ACLs/tokens of anyone included; ACL rules do not apply
//   management     read and change topology and messages, schema registry writes, own tokens
//   monitoring     read-only (GET) admin API and registry, own tokens
//   no tag         nothing here (403)
//   anonymous      (only when allowed) as administrator from a loopback address, as management otherwise
import type { Principal } from '../../../broker/security/authorizer.js'
import { ANONYMOUS } from '../../../broker/security/authorizer.js'
import { isLoopbackAddress } from '../../../util/net.js'
import { DASHBOARD_PREFIX } from '../dashboard.js'
import { REGISTRY_PATH } from '../registry.js'

/** A right, from least to most. `open` needs no principal at all. */
export type Right = 'open' | 'read' | 'manage' | 'administer'

const LEVEL: Record<Right, number> = { open: 0, read: 1, manage: 2, administer: 3 }

/**
 * What a route needs: a right; `own-tokens` (the user named in the path, if tagged, or an administrator);
 * `session` (login/logout/whoami handle credentials themselves); `skip` (another authenticator's route, or no
 * route matched and the reply is a 404).
 */
export type Requirement = Right | 'own-tokens' | 'session' | 'skip'

export interface PolicyOptions {
  /** /metrics, /healthz, /readyz without credentials. */
  publicMetrics: boolean
  /** Routes that authenticate by other means (SQS/SNS: SigV4). */
  skip: (method: string, route: string) => boolean
}

/** The requirement of a matched route (`route` is the pattern fastify matched, e.g. `/api/v1/queues/:name`). */
export function requirementOf(method: string, route: string | undefined, options: PolicyOptions): Requirement {
  if (route === undefined) return 'skip'
  if (options.skip(method, route)) return 'skip'
  const reading = method === 'GET' || method === 'HEAD'
  if (route === '/' || route.startsWith(DASHBOARD_PREFIX)) return reading ? 'open' : 'administer'
  if (route === '/metrics' || route === '/healthz' || route === '/readyz')
    return options.publicMetrics ? 'open' : 'read'
  if (route === '/api/v1/session') return 'session'
  if (route.startsWith('/api/v1/users/:name/tokens')) return 'own-tokens'
  if (route === '/api/v1/users' || route.startsWith('/api/v1/users/')) return 'administer'
  if (route === '/api/v1/acls' || route.startsWith('/api/v1/acls/')) return 'administer'
  // Definitions carry every user's credentials (hashes, access-key secrets).
  if (route === '/api/v1/definitions') return 'administer'
  // Closing another user's connection is an operator's act, not a topology change.
  if (route === '/api/v1/connections/:id' && !reading) return 'administer'
  if (route.startsWith('/api/') || REGISTRY_PATH.test(route)) return reading ? 'read' : 'manage'
  // A route nobody listed here is closed until someone decides what it needs.
  return 'administer'
}

/** The highest right a principal holds on these surfaces (`open` = none). */
export function rightOf(principal: Principal, peerAddress: string | undefined): Right {
  if (principal.name === ANONYMOUS) return isLoopbackAddress(peerAddress) ? 'administer' : 'manage'
  if (principal.tags.includes('administrator')) return 'administer'
  if (principal.tags.includes('management')) return 'manage'
  if (principal.tags.includes('monitoring')) return 'read'
  return 'open'
}

export function satisfies(held: Right, needed: Right): boolean {
  return LEVEL[held] >= LEVEL[needed]
}

/** The rights the dashboard shows controls for. */
export function rightsView(held: Right): { read: boolean; manage: boolean; administer: boolean } {
  return { read: satisfies(held, 'read'), manage: satisfies(held, 'manage'), administer: held === 'administer' }
}
