// What a set of ACL rules decides for one request. Deny rules always win. Allow rules that name a principal
// on a resource (directly or as User:*) make an allow-list for it there: operations they do not grant are
// denied. Where no allow rule names the principal, the default permission applies (allow, as Kafka with
// allow.everyone.if.no.acl.found; or deny). Administrators are super users: rules do not apply to them.
import type { AclBinding, AclStore, Operation, ResourceType } from './acls.js'
import type { UserStore, UserTag } from './users.js'

/** Who a connection acts as, once authenticated. */
export interface Principal {
  /** The user name; `ANONYMOUS` for an unauthenticated client. */
  readonly name: string
  readonly tags: readonly UserTag[]
  /** How the identity was established: a SASL mechanism name, `certificate`, `access-key`, `token`, `anonymous`. */
  readonly mechanism: string
}

export const ANONYMOUS = 'ANONYMOUS'

/** `User:alice` */
export function principalString(principal: Principal): string {
  return `User:${principal.name}`
}

/** Operations an allow rule for `granted` also grants (Kafka: Read, Write, Delete, Alter imply Describe). */
function grants(granted: Operation, requested: Operation): boolean {
  if (granted === 'All' || granted === requested) return true
  if (requested === 'Describe') return ['Read', 'Write', 'Delete', 'Alter'].includes(granted)
  if (requested === 'DescribeConfigs') return granted === 'AlterConfigs'
  return false
}

function appliesTo(rule: AclBinding, principal: string, host: string): boolean {
  return (rule.principal === principal || rule.principal === 'User:*') && (rule.host === '*' || rule.host === host)
}

export function decide(
  rules: readonly AclBinding[],
  principal: string,
  host: string,
  operation: Operation,
  defaultAllow: boolean,
): boolean {
  let named = false
  let allowed = false
  for (const rule of rules) {
    if (!appliesTo(rule, principal, host)) continue
    if (rule.permission === 'Deny') {
      if (rule.operation === 'All' || rule.operation === operation) return false
      continue
    }
    named = true
    if (grants(rule.operation, operation)) allowed = true
  }
  return allowed || (!named && defaultAllow)
}

/** The bound on cached decisions per connection; a client naming endless resources must not grow it forever. */
const CACHE_MAX = 1024

/**
 * One connection's decisions, cached per (operation, resource) until a rule or a user changes: the publish
 * path pays one Map lookup.
 */
export class Access {
  readonly principal: Principal
  readonly host: string
  readonly #acls: AclStore
  readonly #users: UserStore
  readonly #defaultAllow: () => boolean
  readonly #generationOf: () => number
  readonly #cache = new Map<Operation, Map<ResourceType, Map<string, boolean>>>()
  #cached = 0
  #generation = -1
  #superUser = false

  /** `generation` changes whenever a rule, a user or the policy does: cached decisions are dropped then. */
  constructor(
    principal: Principal,
    host: string,
    acls: AclStore,
    users: UserStore,
    policy: { defaultAllow: () => boolean; generation: () => number },
  ) {
    this.principal = principal
    this.host = host
    this.#acls = acls
    this.#users = users
    this.#defaultAllow = policy.defaultAllow
    this.#generationOf = policy.generation
  }

  /** An administrator now: a user's current tags count, not those at login. */
  get superUser(): boolean {
    this.#refresh()
    return this.#superUser
  }

  #refresh(): void {
    const generation = this.#generationOf()
    if (generation === this.#generation) return
    this.#cache.clear()
    this.#cached = 0
    this.#generation = generation
    const tags = this.#users.get(this.principal.name)?.tags ?? this.principal.tags
    this.#superUser = this.principal.name !== ANONYMOUS && tags.includes('administrator')
  }

  #remember(operation: Operation, type: ResourceType, name: string, decision: boolean): void {
    if (++this.#cached > CACHE_MAX) {
      this.#cache.clear()
      this.#cached = 1
    }
    let byType = this.#cache.get(operation)
    if (byType === undefined) {
      byType = new Map()
      this.#cache.set(operation, byType)
    }
    let byName = byType.get(type)
    if (byName === undefined) {
      byName = new Map()
      byType.set(type, byName)
    }
    byName.set(name, decision)
  }

  allows(operation: Operation, type: ResourceType, name: string): boolean {
    this.#refresh()
    if (this.#superUser) return true
    // Nested maps: a cached decision costs three lookups and allocates nothing (this runs per message).
    const cached = this.#cache.get(operation)?.get(type)?.get(name)
    if (cached !== undefined) return cached
    const decision = decide(
      this.#acls.forResource(type, name),
      principalString(this.principal),
      this.host,
      operation,
      this.#defaultAllow(),
    )
    this.#remember(operation, type, name, decision)
    return decision
  }
}
