// Client quotas (Kafka KIP-13 byte rates, KIP-124 request time, KIP-546 their admin API) in neutral words: an
// entity names a user, a client id, or both, each either a name or the default for that part; its values bound
// what one connection group may produce, fetch, or spend in request handling per second.

/** What a quota bounds. Byte rates are bytes per second; request time is percent of one thread's time. */
export type QuotaKind = 'produceBytesPerSecond' | 'fetchBytesPerSecond' | 'requestPercentage'

export const quotaKinds: readonly QuotaKind[] = ['produceBytesPerSecond', 'fetchBytesPerSecond', 'requestPercentage']

/**
 * The entity a quota is set on. A part that is absent is not part of the entity; `null` is the default
 * (Kafka's `<default>`) for that part; a string names one user or client id.
 */
export interface QuotaEntity {
  user?: string | null
  clientId?: string | null
}

export type QuotaValues = Partial<Record<QuotaKind, number>>

/** How rates are measured (Kafka's quota.window.num and quota.window.size.seconds). */
export interface QuotaWindow {
  /** Samples kept; the rate is taken over them. */
  samples: number
  /** Length of one sample, ms. */
  sampleMs: number
}

export const QUOTA_WINDOW_DEFAULT: QuotaWindow = { samples: 11, sampleMs: 1000 }

/** Who a request is from, as quotas see it: the principal's name and the client id of the request. */
export interface QuotaClient {
  user: string
  clientId: string
}

/** One change of an entity's values: set a kind, or remove it (`value` null). */
export interface QuotaChange {
  kind: QuotaKind
  value: number | null
}

/** A filter part of describe(): entities that have this part, with this name, the default, or any name. */
export interface QuotaFilterPart {
  part: 'user' | 'clientId'
  match: { name: string } | 'default' | 'specified'
}
