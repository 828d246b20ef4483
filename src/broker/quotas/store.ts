// The durable quota configuration: one metadata-store record per entity (kind `client-quota`), all held in
// memory, and Kafka's precedence order for which entity's value applies to a (user, client id) pair.
import type { MetadataStore } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import {
  type QuotaChange,
  type QuotaClient,
  type QuotaEntity,
  type QuotaFilterPart,
  type QuotaKind,
  type QuotaValues,
  quotaKinds,
} from './types.js'

const KIND = 'client-quota'
/** Clients whose resolved quotas are remembered (cleared whole when full, and on every change). */
const RESOLVED_CACHE_MAX = 10_000

interface StoredQuota {
  entity: QuotaEntity
  values: QuotaValues
}

/** The key an entity is stored and tracked under: its parts in a fixed order, absent ≠ default ≠ name. */
export function entityKey(entity: QuotaEntity): string {
  return JSON.stringify([
    entity.user === undefined ? 0 : entity.user,
    entity.clientId === undefined ? 0 : entity.clientId,
  ])
}

/** The quota that applies to a client for one kind, and the entity whose usage it is measured over. */
export interface ResolvedQuota {
  limit: number
  /** Clients sharing this key share one rate: the entity's named parts are the client's own. */
  meterKey: string
}

export class QuotaStore {
  readonly #metadata: MetadataStore
  readonly #byKey = new Map<string, StoredQuota>()
  /** (user, client id) → kind → what resolve() found: requests look this up instead of eight entity keys. */
  readonly #resolved = new Map<string, Map<QuotaKind, ResolvedQuota | undefined>>()

  private constructor(metadata: MetadataStore) {
    this.#metadata = metadata
    this.reload()
  }

  /** Reads the entries from the catalog (at open, and when another broker sharing the storage changed them). */
  reload(): void {
    this.#byKey.clear()
    this.#resolved.clear()
    for (const [key, stored] of this.#metadata.list<StoredQuota>(KIND)) this.#byKey.set(key, stored)
  }

  static open(metadata: MetadataStore): QuotaStore {
    return new QuotaStore(metadata)
  }

  /** Checks one entity's changes without applying them (INVALID_ARGUMENT with the reason). */
  validate(entity: QuotaEntity, changes: readonly QuotaChange[]): void {
    if (entity.user === undefined && entity.clientId === undefined) {
      throw new WharfError('INVALID_ARGUMENT', 'a quota entity names a user, a client id, or both')
    }
    for (const part of [entity.user, entity.clientId]) {
      if (part === '') throw new WharfError('INVALID_ARGUMENT', 'an entity name is not empty (null is the default)')
    }
    const seen = new Set<QuotaKind>()
    for (const { kind, value } of changes) {
      if (!quotaKinds.includes(kind)) throw new WharfError('INVALID_ARGUMENT', `unknown quota ${kind}`)
      if (seen.has(kind)) throw new WharfError('INVALID_ARGUMENT', `quota ${kind} changed twice in one entry`)
      seen.add(kind)
      if (value !== null && !(Number.isFinite(value) && value > 0)) {
        throw new WharfError('INVALID_ARGUMENT', `quota ${kind} must be a positive number`)
      }
      if (value !== null && kind !== 'requestPercentage' && !Number.isSafeInteger(value)) {
        throw new WharfError('INVALID_ARGUMENT', `quota ${kind} must be a whole number of bytes per second`)
      }
    }
  }

  /** Applies validated changes; resolves once durable. An entity left without values is deleted. */
  async alter(entity: QuotaEntity, changes: readonly QuotaChange[]): Promise<void> {
    this.validate(entity, changes)
    const key = entityKey(entity)
    this.#resolved.clear()
    const values: QuotaValues = { ...this.#byKey.get(key)?.values }
    for (const { kind, value } of changes) {
      if (value === null) delete values[kind]
      else values[kind] = value
    }
    if (Object.keys(values).length === 0) {
      if (!this.#byKey.delete(key)) return
      await this.#metadata.delete(KIND, key)
      return
    }
    const stored: StoredQuota = { entity: { ...entity }, values }
    this.#byKey.set(key, stored)
    await this.#metadata.put(KIND, key, stored)
  }

  /** Entities with values that match every filter part; `strict` leaves out entities with other parts. */
  describe(filter: readonly QuotaFilterPart[], strict: boolean): Array<{ entity: QuotaEntity; values: QuotaValues }> {
    const parts = new Set(filter.map((f) => f.part))
    if (parts.size !== filter.length) throw new WharfError('INVALID_ARGUMENT', 'a filter names each part once')
    return [...this.#byKey.values()]
      .filter(({ entity }) => {
        for (const { part, match } of filter) {
          const name = entity[part]
          if (name === undefined) return false
          if (match === 'default' && name !== null) return false
          if (match === 'specified' && name === null) return false
          if (typeof match === 'object' && name !== match.name) return false
        }
        if (!strict) return true
        return (['user', 'clientId'] as const).every((part) => parts.has(part) || entity[part] === undefined)
      })
      .map(({ entity, values }) => ({ entity: { ...entity }, values: { ...values } }))
  }

  /** Whether any quota is configured (the listener skips metering entirely when none is). */
  get empty(): boolean {
    return this.#byKey.size === 0
  }

  /**
   * Kafka's order, most specific first: user+client, user+default client, user, default user+client, default
   * user+default client, default user, client, default client. Each kind resolves on its own. The rate is
   * shared by the clients the matched entity covers: its parts become the client's own names.
   */
  resolve(client: QuotaClient, kind: QuotaKind): ResolvedQuota | undefined {
    const clientKey = JSON.stringify([client.user, client.clientId])
    let byKind = this.#resolved.get(clientKey)
    if (byKind === undefined) {
      if (this.#resolved.size >= RESOLVED_CACHE_MAX) this.#resolved.clear()
      byKind = new Map()
      this.#resolved.set(clientKey, byKind)
    }
    if (byKind.has(kind)) return byKind.get(kind)
    const resolved = this.#resolveUncached(client, kind)
    byKind.set(kind, resolved)
    return resolved
  }

  #resolveUncached(client: QuotaClient, kind: QuotaKind): ResolvedQuota | undefined {
    const { user, clientId } = client
    const order: QuotaEntity[] = [
      { user, clientId },
      { user, clientId: null },
      { user },
      { user: null, clientId },
      { user: null, clientId: null },
      { user: null },
      { clientId },
      { clientId: null },
    ]
    for (const entity of order) {
      const limit = this.#byKey.get(entityKey(entity))?.values[kind]
      if (limit === undefined) continue
      const measured: QuotaEntity = {}
      if (entity.user !== undefined) measured.user = user
      if (entity.clientId !== undefined) measured.clientId = clientId
      return { limit, meterKey: entityKey(measured) }
    }
    return undefined
  }
}
