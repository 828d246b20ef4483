// REST admin routes for ACL rules (administrators only, auth/policy.ts), with Kafka's filter semantics:
// GET /acls?<filter> lists, POST /acls adds one rule or {acls: [...]}, DELETE /acls?<filter> deletes what the
// filter selects (at least one field, so a bare DELETE cannot wipe every rule by accident).
// GET /acls/vocabulary lists what a rule's fields and a user's tags may be, so forms (the dashboard's Users &
// ACLs page) offer what the broker accepts rather than a copy of it.
import {
  type AclFilter,
  operations,
  parseAclBinding,
  patternTypes,
  permissions,
  resourceTypes,
} from '../../../broker/security/acls.js'
import { userTags } from '../../../broker/security/users.js'
import { type AdminContext, bad, body, type Query, query } from './context.js'

const FILTER_FIELDS = ['principal', 'host', 'operation', 'permission', 'resourceType', 'resourceName', 'patternType']

function pick<T extends string>(values: readonly T[], raw: string, field: string): T {
  const found = values.find((v) => v.toLowerCase() === raw.toLowerCase())
  if (found === undefined) throw bad(`${field} must be one of ${values.join(', ')}`)
  return found
}

/** A filter from query parameters; an absent or empty parameter matches any value. */
export function aclFilter(q: Query): AclFilter {
  const filter: AclFilter = {}
  for (const [key, raw] of Object.entries(q)) {
    if (raw === undefined || raw === '') continue
    if (!FILTER_FIELDS.includes(key)) throw bad(`unknown filter '${key}' (filters: ${FILTER_FIELDS.join(', ')})`)
  }
  const value = (key: string) => (q[key] === undefined || q[key] === '' ? undefined : q[key])
  if (value('principal') !== undefined) filter.principal = value('principal')!
  if (value('host') !== undefined) filter.host = value('host')!
  if (value('resourceName') !== undefined) filter.resourceName = value('resourceName')!
  if (value('operation') !== undefined) filter.operation = pick(operations, value('operation')!, 'operation')
  if (value('permission') !== undefined) filter.permission = pick(permissions, value('permission')!, 'permission')
  if (value('resourceType') !== undefined)
    filter.resourceType = pick(resourceTypes, value('resourceType')!, 'resourceType')
  if (value('patternType') !== undefined)
    filter.patternType = pick([...patternTypes, 'Match'] as const, value('patternType')!, 'patternType')
  return filter
}

export function registerAclRoutes({ broker, route }: AdminContext): void {
  const { acls } = broker.security
  route('GET', '/acls', (r) => {
    const items = acls.list(aclFilter(query(r)))
    return { items, total: items.length }
  })
  route('GET', '/acls/vocabulary', () => ({
    operations,
    permissions,
    resourceTypes,
    patternTypes,
    filterFields: FILTER_FIELDS,
    userTags,
  }))
  route(
    'POST',
    '/acls',
    async (r) => {
      const input = body(r)
      const list = Array.isArray(input.acls) ? input.acls : [input]
      if (list.length === 0 || list.length > 1000) throw bad('acls must hold 1-1000 rules')
      const rules = list.map((rule) => {
        if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) throw bad('each rule must be an object')
        return parseAclBinding(rule as Record<string, unknown>)
      })
      return { added: await acls.add(rules), acls: rules }
    },
    201,
  )
  route('DELETE', '/acls', async (r) => {
    const filter = aclFilter(query(r))
    if (Object.keys(filter).length === 0)
      throw bad('give at least one filter (principal, resourceType, resourceName, ...) to delete rules')
    const deleted = await acls.delete(filter)
    return { deleted, total: deleted.length }
  })
}
