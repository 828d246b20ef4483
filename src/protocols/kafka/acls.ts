// CreateAcls, DescribeAcls, DeleteAcls: Kafka tooling manages Wharf's one ACL store. Kafka's numeric codes map
// to the store's names. Rules on Wharf-only resource types (Exchange, MqttTopic) have no Kafka code: Kafka
// clients neither see them (DescribeAcls with ANY skips them) nor delete them (DeleteAcls with ANY leaves them);
// they are managed with `wharf acls` and the REST API. Describe on the cluster lists rules, Alter changes them.
import {
  type AclBinding,
  type Operation,
  type PatternType,
  type Permission,
  parseAclBinding,
  type ResourceType,
  resourceMatches,
} from '../../broker/security/acls.js'
import { isWharfError } from '../../util/errors.js'
import type {
  CreateAclsRequest,
  CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  DescribeAclsRequest,
  DescribeAclsResponse,
} from './codec/index.js'
import type { Connection } from './connection.js'
import { DENIED, errorCodeOf, KafkaError } from './errors.js'
import { CLUSTER_RESOURCE } from './metadata.js'

/** Kafka's ResourceType codes (UNKNOWN 0, ANY 1, DELEGATION_TOKEN 6 and USER 7 have no Wharf resource). */
const resourceCodes: ReadonlyMap<number, ResourceType> = new Map([
  [2, 'Topic'],
  [3, 'Group'],
  [4, 'Cluster'],
  [5, 'TransactionalId'],
])
/** Kafka's AclOperation codes (UNKNOWN 0, ANY 1; CREATE_TOKENS 13 and DESCRIBE_TOKENS 14 have no Wharf use). */
const operationCodes: ReadonlyMap<number, Operation> = new Map([
  [2, 'All'],
  [3, 'Read'],
  [4, 'Write'],
  [5, 'Create'],
  [6, 'Delete'],
  [7, 'Alter'],
  [8, 'Describe'],
  [9, 'ClusterAction'],
  [10, 'DescribeConfigs'],
  [11, 'AlterConfigs'],
  [12, 'IdempotentWrite'],
])
const permissionCodes: ReadonlyMap<number, Permission> = new Map([
  [2, 'Deny'],
  [3, 'Allow'],
])
const patternCodes: ReadonlyMap<number, PatternType> = new Map([
  [3, 'Literal'],
  [4, 'Prefixed'],
])
const ANY = 1
const MATCH = 2

function codeOf<T>(codes: ReadonlyMap<number, T>, value: T): number {
  for (const [code, name] of codes) if (name === value) return code
  return 0
}

/** A Kafka AclBindingFilter over the store's names; undefined fields match anything. */
interface KafkaFilter {
  resourceType?: ResourceType
  /** A Kafka type Wharf has no resource of (DELEGATION_TOKEN, USER): matches nothing. */
  none?: true
  resourceName: string | null
  pattern: PatternType | 'Any' | 'Match'
  principal: string | null
  host: string | null
  operation?: Operation
  permission?: Permission
}

type FilterFields = Pick<
  DescribeAclsRequest,
  'resourceTypeFilter' | 'resourceNameFilter' | 'patternTypeFilter' | 'principalFilter' | 'hostFilter'
> & { operation: number; permissionType: number }

/** The filter, or an error message for codes Kafka itself refuses (UNKNOWN, out of range). */
function toFilter(f: FilterFields): KafkaFilter | string {
  const type = f.resourceTypeFilter
  const pattern = f.patternTypeFilter ?? 3
  if (type !== ANY && !resourceCodes.has(type) && type !== 6 && type !== 7) return `invalid resource type ${type}`
  if (pattern !== ANY && pattern !== MATCH && !patternCodes.has(pattern)) return `invalid pattern type ${pattern}`
  if (f.operation !== ANY && !operationCodes.has(f.operation)) return `invalid operation ${f.operation}`
  if (f.permissionType !== ANY && !permissionCodes.has(f.permissionType))
    return `invalid permission type ${f.permissionType}`
  const filter: KafkaFilter = {
    resourceName: f.resourceNameFilter,
    pattern: pattern === ANY ? 'Any' : pattern === MATCH ? 'Match' : patternCodes.get(pattern)!,
    principal: f.principalFilter,
    host: f.hostFilter,
  }
  if (type === 6 || type === 7) filter.none = true
  else if (type !== ANY) filter.resourceType = resourceCodes.get(type)!
  if (f.operation !== ANY) filter.operation = operationCodes.get(f.operation)!
  if (f.permissionType !== ANY) filter.permission = permissionCodes.get(f.permissionType)!
  return filter
}

/** Kafka's AclBindingFilter.matches, over the rules Kafka can name. */
function matches(filter: KafkaFilter, rule: AclBinding): boolean {
  if (filter.none || codeOf(resourceCodes, rule.resourceType) === 0) return false
  if (filter.resourceType !== undefined && filter.resourceType !== rule.resourceType) return false
  if (filter.principal !== null && filter.principal !== rule.principal) return false
  if (filter.host !== null && filter.host !== rule.host) return false
  if (filter.operation !== undefined && filter.operation !== rule.operation) return false
  if (filter.permission !== undefined && filter.permission !== rule.permission) return false
  const name = filter.resourceName
  if (filter.pattern === 'Match') {
    // Every rule that applies to the named resource: the literal name, the literal wildcard, covering prefixes.
    return name === null || resourceMatches(rule, rule.resourceType, name)
  }
  if (filter.pattern !== 'Any' && filter.pattern !== rule.patternType) return false
  return name === null || name === rule.resourceName
}

function kafkaCodes(rule: AclBinding) {
  return {
    resourceType: codeOf(resourceCodes, rule.resourceType),
    resourceName: rule.resourceName,
    patternType: codeOf(patternCodes, rule.patternType),
    principal: rule.principal,
    host: rule.host,
    operation: codeOf(operationCodes, rule.operation),
    permissionType: codeOf(permissionCodes, rule.permission),
  }
}

export function handleDescribeAcls(c: Connection, req: DescribeAclsRequest): DescribeAclsResponse {
  const failure = (errorCode: number, errorMessage: string) => ({
    throttleTimeMs: 0,
    errorCode,
    errorMessage,
    resources: [],
  })
  if (!c.allows('Describe', 'Cluster', CLUSTER_RESOURCE))
    return failure(KafkaError.CLUSTER_AUTHORIZATION_FAILED, DENIED)
  const filter = toFilter({ ...req })
  if (typeof filter === 'string') return failure(KafkaError.INVALID_REQUEST, filter)
  // One entry per resource pattern, its rules under it (Kafka's shape).
  const resources = new Map<string, DescribeAclsResponse['resources'][number]>()
  for (const rule of c.server.broker.security.acls.list()) {
    if (!matches(filter, rule)) continue
    const codes = kafkaCodes(rule)
    const key = `${codes.resourceType}\0${codes.patternType}\0${codes.resourceName}`
    let resource = resources.get(key)
    if (resource === undefined) {
      resource = {
        resourceType: codes.resourceType,
        resourceName: codes.resourceName,
        patternType: codes.patternType,
        acls: [],
      }
      resources.set(key, resource)
    }
    resource.acls.push({
      principal: codes.principal,
      host: codes.host,
      operation: codes.operation,
      permissionType: codes.permissionType,
    })
  }
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, errorMessage: null, resources: [...resources.values()] }
}

/** A creation as a store rule, or the reason it is refused. */
function toBinding(creation: CreateAclsRequest['creations'][number]): AclBinding | string {
  const resourceType = resourceCodes.get(creation.resourceType)
  const operation = operationCodes.get(creation.operation)
  const permission = permissionCodes.get(creation.permissionType)
  const patternType = patternCodes.get(creation.resourcePatternType ?? 3)
  if (resourceType === undefined) return `resource type ${creation.resourceType} is not supported`
  if (operation === undefined) return `invalid operation ${creation.operation}`
  if (permission === undefined) return `invalid permission type ${creation.permissionType}`
  if (patternType === undefined) return `invalid pattern type ${creation.resourcePatternType}`
  try {
    return parseAclBinding({
      principal: creation.principal,
      host: creation.host,
      operation,
      permission,
      resourceType,
      resourceName: creation.resourceName,
      patternType,
    })
  } catch (error) {
    if (isWharfError(error)) return error.message
    throw error
  }
}

export async function handleCreateAcls(c: Connection, req: CreateAclsRequest): Promise<CreateAclsResponse> {
  const results: CreateAclsResponse['results'] = []
  const allowed = c.allows('Alter', 'Cluster', CLUSTER_RESOURCE)
  for (const creation of req.creations) {
    if (!allowed) {
      results.push({ errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED })
      continue
    }
    const binding = toBinding(creation)
    if (typeof binding === 'string') {
      results.push({ errorCode: KafkaError.INVALID_REQUEST, errorMessage: binding })
      continue
    }
    try {
      await c.server.broker.security.acls.add([binding])
      results.push({ errorCode: KafkaError.NONE, errorMessage: null })
    } catch (error) {
      results.push({ errorCode: errorCodeOf(error), errorMessage: isWharfError(error) ? error.message : null })
    }
  }
  return { throttleTimeMs: 0, results }
}

export async function handleDeleteAcls(c: Connection, req: DeleteAclsRequest): Promise<DeleteAclsResponse> {
  const acls = c.server.broker.security.acls
  const allowed = c.allows('Alter', 'Cluster', CLUSTER_RESOURCE)
  const filterResults: DeleteAclsResponse['filterResults'] = []
  for (const fields of req.filters) {
    if (!allowed) {
      filterResults.push({ errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED, matchingAcls: [] })
      continue
    }
    const filter = toFilter(fields)
    if (typeof filter === 'string') {
      filterResults.push({ errorCode: KafkaError.INVALID_REQUEST, errorMessage: filter, matchingAcls: [] })
      continue
    }
    const matchingAcls: DeleteAclsResponse['filterResults'][number]['matchingAcls'] = []
    for (const rule of acls.list().filter((r) => matches(filter, r))) {
      try {
        // Every field named: the store deletes exactly this rule.
        await acls.delete({ ...rule })
        matchingAcls.push({ errorCode: KafkaError.NONE, errorMessage: null, ...kafkaCodes(rule) })
      } catch (error) {
        const errorMessage = isWharfError(error) ? error.message : null
        matchingAcls.push({ errorCode: errorCodeOf(error), errorMessage, ...kafkaCodes(rule) })
      }
    }
    filterResults.push({ errorCode: KafkaError.NONE, errorMessage: null, matchingAcls })
  }
  return { throttleTimeMs: 0, filterResults }
}
