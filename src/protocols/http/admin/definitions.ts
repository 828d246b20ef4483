// Definitions (as RabbitMQ's): the broker's topology and identities as one JSON document, to back up or copy
// to another broker. GET /definitions exports streams, queues, exchanges, bindings, users, ACL rules and
// registry schemas; POST /definitions imports such a document, creating what is missing and leaving what
// exists alone (users are replaced), so importing twice changes nothing. Messages and offsets are not part
// of it. Users travel as their stored credentials (scrypt hash, SCRAM keys): a plain password never appears.
// AWS access-key secrets do, as the broker must hold them to verify SigV4. Administrators only (policy.ts).
import type { Broker } from '../../../broker/broker.js'
import type { QueueConfig, StreamConfig } from '../../../broker/config.js'
import type { BindingDef, ExchangeDeclare } from '../../../broker/routing/router.js'
import type { SubjectVersion } from '../../../broker/schema/types.js'
import { parseAclBinding } from '../../../broker/security/acls.js'
import type { UserRecord } from '../../../broker/security/users.js'
import { isWharfError } from '../../../util/errors.js'
import { wharfVersion } from '../../../util/version.js'
import { type AdminContext, bad, body } from './context.js'

export const DEFINITIONS_FORMAT = 1

/** Exchanges every broker declares itself (the AMQP default and amq.* exchanges). */
const builtInExchange = (name: string) => name === '' || name.startsWith('amq.')

/** A queue whose stream the broker made for it (of the queue's name); exported with the queue only. */
function backingStreams(broker: Broker): Set<string> {
  return new Set(broker.listQueues().flatMap((q) => (q.config.stream === q.name ? [q.name] : [])))
}

export function exportDefinitions(broker: Broker): Record<string, unknown> {
  const backing = backingStreams(broker)
  const schemas: SubjectVersion[] = []
  for (const subject of broker.schemas.listSubjects())
    for (const v of broker.schemas.listVersions(subject)) schemas.push(broker.schemas.getVersion(subject, v))
  schemas.sort((a, b) => a.id - b.id || a.subject.localeCompare(b.subject))
  const compatibility: Record<string, string> = {}
  const global = broker.schemas.getCompatibility()
  if (global !== undefined) compatibility[''] = global
  for (const subject of broker.schemas.listSubjects()) {
    const level = broker.schemas.getCompatibility(subject)
    if (level !== undefined) compatibility[subject] = level
  }
  return {
    format: DEFINITIONS_FORMAT,
    wharfVersion,
    exportedAt: new Date().toISOString(),
    streams: broker
      .listStreams()
      .filter((s) => !backing.has(s.name) && !s.config.transient)
      .map((s) => ({ name: s.name, config: s.config })),
    queues: broker
      .listQueues()
      .filter((q) => q.config.durable && q.config.exclusiveOwner === null)
      .map((q) => ({ name: q.name, config: q.config })),
    exchanges: broker.router.listExchanges().filter((e) => !builtInExchange(e.name)),
    bindings: broker.router.listBindings().filter((b) => b.destination.kind !== 'sink'),
    users: broker.security.users.list().flatMap((u) => broker.security.users.get(u.name) ?? []),
    acls: broker.security.acls.list(),
    schemas: schemas.map(({ subject, version, id, schemaType, schema, references }) => ({
      subject,
      version,
      id,
      schemaType,
      schema,
      references,
    })),
    schemaCompatibility: compatibility,
  }
}

type Counts = { created: number; existing: number }
export interface ImportResult {
  streams: Counts
  queues: Counts
  exchanges: Counts
  bindings: Counts
  users: Counts
  acls: Counts
  schemas: Counts
  errors: string[]
}

function listOf(input: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const value = input[key] ?? []
  if (!Array.isArray(value) || !value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v)))
    throw bad(`${key} must be an array of objects`)
  return value as Record<string, unknown>[]
}

/** Creates what the document holds and the broker lacks; one item's failure is reported, the rest goes on. */
export async function importDefinitions(broker: Broker, input: Record<string, unknown>): Promise<ImportResult> {
  if (input.format !== undefined && input.format !== DEFINITIONS_FORMAT)
    throw bad(`definitions format ${String(input.format)} is not supported (this broker reads ${DEFINITIONS_FORMAT})`)
  const lists = Object.fromEntries(
    ['schemas', 'streams', 'queues', 'exchanges', 'bindings', 'users', 'acls'].map((k) => [k, listOf(input, k)]),
  )
  const counts = (): Counts => ({ created: 0, existing: 0 })
  const result: ImportResult = {
    streams: counts(),
    queues: counts(),
    exchanges: counts(),
    bindings: counts(),
    users: counts(),
    acls: counts(),
    schemas: counts(),
    errors: [],
  }
  const each = async (
    kind: Exclude<keyof ImportResult, 'errors'>,
    label: (item: Record<string, unknown>) => string,
    apply: (item: Record<string, unknown>) => Promise<boolean>,
  ) => {
    for (const item of lists[kind]!) {
      try {
        if (await apply(item)) result[kind].created++
        else result[kind].existing++
      } catch (error) {
        if (!isWharfError(error)) throw error
        result.errors.push(`${kind} ${label(item)}: ${error.message}`)
      }
    }
  }
  const name = (item: Record<string, unknown>) => String(item.name)

  // Schemas first (a stream may validate against a subject), in id order so references resolve.
  await each(
    'schemas',
    (s) => `${s.subject} v${s.version}`,
    async (s) => {
      const subject = String(s.subject)
      const schema = { schema: String(s.schema), schemaType: s.schemaType, references: s.references } as Parameters<
        typeof broker.schemas.register
      >[1]
      try {
        broker.schemas.lookup(subject, schema)
        return false
      } catch (error) {
        if (!isWharfError(error, 'SCHEMA_NOT_FOUND')) throw error // no such subject, or no such version of it
      }
      await broker.schemas.register(subject, schema)
      return true
    },
  )
  const compatibility = input.schemaCompatibility ?? {}
  if (compatibility === null || typeof compatibility !== 'object') throw bad('schemaCompatibility must be an object')
  for (const [subject, level] of Object.entries(compatibility)) {
    try {
      await broker.schemas.setCompatibility(level as never, subject === '' ? undefined : subject)
    } catch (error) {
      if (!isWharfError(error)) throw error
      result.errors.push(`schema compatibility ${subject || '(global)'}: ${error.message}`)
    }
  }
  await each('streams', name, async (s) => {
    if (broker.getStream(name(s)) !== undefined) return false
    await broker.createStream(name(s), (s.config ?? {}) as Partial<StreamConfig>)
    return true
  })
  await each('queues', name, async (q) => {
    if (broker.getQueue(name(q)) !== undefined) return false
    await broker.createQueue(name(q), (q.config ?? {}) as Partial<QueueConfig>)
    return true
  })
  await each('exchanges', name, async (e) => {
    if (broker.router.getExchange(name(e)) !== undefined) return false
    await broker.declareExchange(e as unknown as ExchangeDeclare)
    return true
  })
  await each(
    'bindings',
    (b) => `${b.source} -> ${JSON.stringify(b.destination)}`,
    async (b) => {
      const binding = { ...b, key: b.key ?? '', arguments: b.arguments ?? {} } as unknown as BindingDef
      const before = broker.router.listBindings().length
      await broker.bind(binding)
      return broker.router.listBindings().length > before
    },
  )
  await each('users', name, async (u) => {
    const existed = broker.security.users.get(name(u)) !== undefined
    await broker.security.users.restore(u as unknown as UserRecord)
    return !existed
  })
  await each(
    'acls',
    (a) => JSON.stringify(a),
    async (a) => (await broker.security.acls.add([parseAclBinding(a)])) > 0,
  )
  return result
}

export function registerDefinitionRoutes({ broker, route }: AdminContext): void {
  route('GET', '/definitions', () => exportDefinitions(broker))
  route('POST', '/definitions', (r) => importDefinitions(broker, body(r)))
}
