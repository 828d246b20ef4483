// DescribeClientQuotas and AlterClientQuotas (KIP-546): Kafka tooling (kafka-configs --entity-type users /
// clients, the admin client) manages broker.quotas under Kafka's entity types and config keys. Describe needs
// DescribeConfigs on the cluster, Alter needs AlterConfigs on it, as in Kafka. IP quotas are not implemented.
import type { QuotaChange, QuotaEntity, QuotaFilterPart, QuotaKind, QuotaValues } from '../../broker/quotas/types.js'
import { WharfError } from '../../util/errors.js'
import type {
  AlterClientQuotasRequest,
  AlterClientQuotasResponse,
  DescribeClientQuotasRequest,
  DescribeClientQuotasResponse,
} from './codec/index.js'
import type { Connection } from './connection.js'
import { DENIED, errorCodeOf, KafkaError } from './errors.js'
import { CLUSTER_RESOURCE } from './metadata.js'

/** Kafka's quota config keys ↔ the broker's quota kinds. */
const kindOf: ReadonlyMap<string, QuotaKind> = new Map([
  ['producer_byte_rate', 'produceBytesPerSecond'],
  ['consumer_byte_rate', 'fetchBytesPerSecond'],
  ['request_percentage', 'requestPercentage'],
])
const keyOf = new Map([...kindOf].map(([key, kind]) => [kind, key]))

/** Kafka's entity types ↔ the parts of a quota entity. */
const partOf: ReadonlyMap<string, 'user' | 'clientId'> = new Map([
  ['user', 'user'],
  ['client-id', 'clientId'],
])

function unsupportedType(type: string): WharfError {
  return new WharfError('INVALID_ARGUMENT', `quota entity type ${type} is not supported (user and client-id are)`)
}

type EntityData = Array<{ entityType: string; entityName: string | null }>

function toEntity(data: EntityData): QuotaEntity {
  const entity: QuotaEntity = {}
  for (const { entityType, entityName } of data) {
    const part = partOf.get(entityType)
    if (part === undefined) throw unsupportedType(entityType)
    if (part in entity) throw new WharfError('INVALID_ARGUMENT', `entity type ${entityType} given twice`)
    entity[part] = entityName
  }
  return entity
}

function fromEntity(entity: QuotaEntity): EntityData {
  const data: EntityData = []
  if (entity.user !== undefined) data.push({ entityType: 'user', entityName: entity.user })
  if (entity.clientId !== undefined) data.push({ entityType: 'client-id', entityName: entity.clientId })
  return data
}

function fromValues(values: QuotaValues): Array<{ key: string; value: number }> {
  return Object.entries(values).map(([kind, value]) => ({ key: keyOf.get(kind as QuotaKind)!, value }))
}

export function handleDescribeClientQuotas(
  c: Connection,
  req: DescribeClientQuotasRequest,
): DescribeClientQuotasResponse {
  const failed = (errorCode: number, errorMessage: string) => ({
    throttleTimeMs: 0,
    errorCode,
    errorMessage,
    entries: null,
  })
  if (!c.allows('DescribeConfigs', 'Cluster', CLUSTER_RESOURCE))
    return failed(KafkaError.CLUSTER_AUTHORIZATION_FAILED, DENIED)
  try {
    const filter: QuotaFilterPart[] = req.components.map(({ entityType, matchType, match }) => {
      const part = partOf.get(entityType)
      if (part === undefined) throw unsupportedType(entityType)
      // Match types: 0 exact name, 1 the default, 2 any specified name.
      if (matchType === 0 && match !== null) return { part, match: { name: match } }
      if (matchType === 1) return { part, match: 'default' }
      if (matchType === 2) return { part, match: 'specified' }
      throw new WharfError('INVALID_ARGUMENT', `match type ${matchType} with match ${match} is not valid`)
    })
    const entries = c.server.broker.quotas.describe(filter, req.strict).map(({ entity, values }) => ({
      entity: fromEntity(entity),
      values: fromValues(values),
    }))
    return { throttleTimeMs: 0, errorCode: KafkaError.NONE, errorMessage: null, entries }
  } catch (error) {
    return failed(errorCodeOf(error), (error as Error).message)
  }
}

export async function handleAlterClientQuotas(
  c: Connection,
  req: AlterClientQuotasRequest,
): Promise<AlterClientQuotasResponse> {
  if (!c.allows('AlterConfigs', 'Cluster', CLUSTER_RESOURCE)) {
    const entries = req.entries.map((e) => ({
      errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: DENIED,
      entity: e.entity,
    }))
    return { throttleTimeMs: 0, entries }
  }
  // Entries that do not even parse are answered with their error; the rest go to the broker together.
  const parsed = req.entries.map((e): { entity: QuotaEntity; changes: QuotaChange[] } | WharfError => {
    try {
      const changes = e.ops.map(({ key, value, remove }) => {
        const kind = kindOf.get(key)
        if (kind === undefined) throw new WharfError('INVALID_ARGUMENT', `unknown quota config key ${key}`)
        return { kind, value: remove ? null : value }
      })
      return { entity: toEntity(e.entity), changes }
    } catch (error) {
      if (error instanceof WharfError) return error
      throw error
    }
  })
  const valid = parsed.filter((p): p is { entity: QuotaEntity; changes: QuotaChange[] } => !(p instanceof WharfError))
  const results = await c.server.broker.quotas.alter(valid, req.validateOnly)
  let next = 0
  const entries = req.entries.map((e, i) => {
    const p = parsed[i]!
    const error = p instanceof WharfError ? p : results[next++]!
    return error === null
      ? { errorCode: KafkaError.NONE, errorMessage: null, entity: e.entity }
      : { errorCode: errorCodeOf(error), errorMessage: error.message, entity: e.entity }
  })
  return { throttleTimeMs: 0, entries }
}
