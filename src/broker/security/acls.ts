// Access control lists with Kafka's semantics (principal, host, operation, allow/deny, resource type,
// literal or prefixed pattern), over Wharf's resources, stored in the metadata store (kind 'acl').
// What a decision means is in authorizer.ts; this file is the rules and how one rule matches a request.
import type { MetadataStore } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'

const KIND = 'acl'

/**
 * Topic: a stream (Kafka topic, AMQP/SQS/STOMP queue of that name). Exchange: exchanges and SNS topics.
 * MqttTopic: MQTT topic names (a rule's name may be an MQTT filter). Group, Cluster, TransactionalId: as Kafka.
 */
export const resourceTypes = ['Topic', 'Group', 'Cluster', 'TransactionalId', 'Exchange', 'MqttTopic'] as const
export type ResourceType = (typeof resourceTypes)[number]

export const operations = [
  'All',
  'Read',
  'Write',
  'Create',
  'Delete',
  'Alter',
  'Describe',
  'ClusterAction',
  'DescribeConfigs',
  'AlterConfigs',
  'IdempotentWrite',
] as const
export type Operation = (typeof operations)[number]

export const permissions = ['Allow', 'Deny'] as const
export type Permission = (typeof permissions)[number]

export const patternTypes = ['Literal', 'Prefixed'] as const
export type PatternType = (typeof patternTypes)[number]

export interface AclBinding {
  /** `User:name`, or `User:*` for every principal including anonymous clients (`User:ANONYMOUS`). */
  principal: string
  /** A client IP address, or `*`. */
  host: string
  operation: Operation
  permission: Permission
  resourceType: ResourceType
  /** `*` with Literal matches every name. */
  resourceName: string
  patternType: PatternType
}

/** Selects rules to list or delete (Kafka's AclBindingFilter): an absent field matches any value. */
export interface AclFilter {
  principal?: string
  host?: string
  operation?: Operation
  permission?: Permission
  resourceType?: ResourceType
  resourceName?: string
  /** Match: every rule that would apply to `resourceName` (literal, wildcard and prefixed). */
  patternType?: PatternType | 'Match'
}

function oneOf<T extends string>(values: readonly T[], value: unknown, field: string): T {
  const found = values.find((v) => typeof value === 'string' && v.toLowerCase() === value.toLowerCase())
  if (found === undefined)
    throw new WharfError(
      'INVALID_ARGUMENT',
      `${field} must be one of ${values.join(', ')}, got ${JSON.stringify(value)}`,
    )
  return found
}

/** A rule from loose input (config file, REST body): names are matched case-insensitively. */
export function parseAclBinding(input: Record<string, unknown>): AclBinding {
  const principal = input.principal
  if (typeof principal !== 'string' || !/^User:.+$/.test(principal))
    throw new WharfError(
      'INVALID_ARGUMENT',
      `principal must look like User:name or User:*, got ${JSON.stringify(principal)}`,
    )
  const resourceName = input.resourceName
  if (typeof resourceName !== 'string' || resourceName === '')
    throw new WharfError('INVALID_ARGUMENT', 'resourceName must be a non-empty string')
  const host = input.host ?? '*'
  if (typeof host !== 'string' || host === '') throw new WharfError('INVALID_ARGUMENT', 'host must be an address or *')
  const binding: AclBinding = {
    principal,
    host,
    operation: oneOf(operations, input.operation, 'operation'),
    permission: oneOf(permissions, input.permission ?? 'Allow', 'permission'),
    resourceType: oneOf(resourceTypes, input.resourceType, 'resourceType'),
    resourceName,
    patternType: oneOf(patternTypes, input.patternType ?? 'Literal', 'patternType'),
  }
  if (binding.resourceType === 'Cluster' && binding.resourceName !== 'kafka-cluster' && binding.resourceName !== '*')
    throw new WharfError('INVALID_ARGUMENT', "the Cluster resource is named 'kafka-cluster'")
  return binding
}

function keyOf(b: AclBinding): string {
  return JSON.stringify([b.principal, b.host, b.operation, b.permission, b.resourceType, b.resourceName, b.patternType])
}

/** Does the rule's pattern cover this resource name? */
export function resourceMatches(rule: AclBinding, type: ResourceType, name: string): boolean {
  if (rule.resourceType !== type) return false
  if (rule.patternType === 'Prefixed') return name.startsWith(rule.resourceName)
  if (rule.resourceName === '*') return true
  if (type === 'MqttTopic') return mqttFilterCovers(rule.resourceName, name)
  return rule.resourceName === name
}

/**
 * An MQTT rule name is a filter: does it cover `name` (a topic, or a subscription filter)? `+` in the rule
 * covers any one level, `#` the rest; a `+` or `#` in the requested filter is covered only by a rule
 * wildcard at least as wide, so a rule on `a/b` does not grant a subscription to `a/#`.
 */
export function mqttFilterCovers(rule: string, name: string): boolean {
  const r = rule.split('/')
  const n = name.split('/')
  for (let i = 0; i < r.length; i++) {
    const level = r[i]
    if (level === '#') return i > 0 || !(n[0] ?? '').startsWith('$')
    if (i >= n.length) return false
    const requested = n[i] as string
    if (level === '+') {
      if (requested === '#') return false
      if (i === 0 && requested.startsWith('$')) return false
      continue
    }
    if (level !== requested) return false
  }
  return r.length === n.length
}

function filterMatches(filter: AclFilter, rule: AclBinding): boolean {
  if (filter.principal !== undefined && filter.principal !== rule.principal) return false
  if (filter.host !== undefined && filter.host !== rule.host) return false
  if (filter.operation !== undefined && filter.operation !== rule.operation) return false
  if (filter.permission !== undefined && filter.permission !== rule.permission) return false
  if (filter.resourceType !== undefined && filter.resourceType !== rule.resourceType) return false
  if (filter.patternType === 'Match') {
    return filter.resourceName === undefined || filter.resourceType === undefined
      ? true
      : resourceMatches(rule, filter.resourceType, filter.resourceName)
  }
  if (filter.patternType !== undefined && filter.patternType !== rule.patternType) return false
  if (filter.resourceName !== undefined && filter.resourceName !== rule.resourceName) return false
  return true
}

export class AclStore {
  readonly #metadata: MetadataStore
  /** Resolves once every broker sharing the catalog has applied this one's changes (a no-op on one broker). */
  readonly #settle: () => Promise<void>
  #rules: AclBinding[]
  #generation = 0

  constructor(metadata: MetadataStore, settle: () => Promise<void> = async () => {}) {
    this.#metadata = metadata
    this.#settle = settle
    this.#rules = metadata.list<AclBinding>(KIND).map(([, rule]) => rule)
  }

  /** Bumped on every change: per-connection decision caches compare it. */
  get generation(): number {
    return this.#generation
  }

  get size(): number {
    return this.#rules.length
  }

  /** Every rule, or those the filter selects. */
  list(filter: AclFilter = {}): AclBinding[] {
    return this.#rules.filter((rule) => filterMatches(filter, rule))
  }

  /** The rules that could apply to a resource of this type (for the authorizer). */
  forResource(type: ResourceType, name: string): AclBinding[] {
    return this.#rules.filter((rule) => resourceMatches(rule, type, name))
  }

  /** Reads the rules from the catalog again (another broker sharing the storage changed them). */
  reload(): void {
    this.#rules = this.#metadata.list<AclBinding>(KIND).map(([, rule]) => rule)
    this.#generation++
  }

  /** Adds rules; adding one that exists is a no-op. Returns how many were new. */
  async add(bindings: readonly AclBinding[]): Promise<number> {
    let added = 0
    for (const binding of bindings) {
      const key = keyOf(binding)
      if (this.#metadata.get(KIND, key) !== undefined) continue
      await this.#metadata.put(KIND, key, binding)
      this.#rules.push(binding)
      added++
    }
    if (added > 0) {
      this.#generation++
      await this.#settle()
    }
    return added
  }

  /** Deletes the rules the filter selects; returns them. */
  async delete(filter: AclFilter): Promise<AclBinding[]> {
    const removed = this.list(filter)
    for (const rule of removed) await this.#metadata.delete(KIND, keyOf(rule))
    if (removed.length > 0) {
      const gone = new Set(removed)
      this.#rules = this.#rules.filter((rule) => !gone.has(rule))
      this.#generation++
      await this.#settle()
    }
    return removed
  }
}
