// The broker's client quotas: the durable configuration (store.ts) and the rates measured against it
// (meter.ts). A listener reports what a request cost (bytes produced or fetched, handling time) and learns how
// long the client must be held back; how to hold a client back is the protocol's business.
import type { MetadataStore } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import { RateMeter, throttleMs } from './meter.js'
import { QuotaStore } from './store.js'
import {
  QUOTA_WINDOW_DEFAULT,
  type QuotaChange,
  type QuotaClient,
  type QuotaEntity,
  type QuotaFilterPart,
  type QuotaKind,
  type QuotaValues,
  type QuotaWindow,
} from './types.js'

/** Meters not recorded to for this many windows are dropped (their rate is zero by then anyway). */
const IDLE_WINDOWS = 2
/**
 * Most rates measured at once (one per quota kind and client the matched entity covers: with a default
 * client-id quota, one per client id seen in the last windows). Beyond it the least recently used is dropped,
 * which forgets that client's rate: clients churning ids cannot grow memory without bound.
 */
export const QUOTA_METERS_MAX_DEFAULT = 100_000

export class Quotas {
  readonly #store: QuotaStore
  readonly window: QuotaWindow
  readonly #meters = new Map<string, RateMeter>()
  #sweepAt = 0

  constructor(
    metadata: MetadataStore,
    window: Partial<QuotaWindow> = {},
    readonly metersMax: number = QUOTA_METERS_MAX_DEFAULT,
  ) {
    this.#store = QuotaStore.open(metadata)
    this.window = { ...QUOTA_WINDOW_DEFAULT, ...window }
    if (!(Number.isInteger(this.window.samples) && this.window.samples >= 2 && this.window.sampleMs >= 1)) {
      throw new WharfError('INVALID_CONFIG', 'the quota window needs at least 2 samples of at least 1 ms')
    }
  }

  /** Another broker sharing the storage changed the quotas: read them again (measured rates stay). */
  reload(): void {
    this.#store.reload()
  }

  /** No quota configured: nothing needs measuring. */
  get none(): boolean {
    return this.#store.empty
  }

  /** The limit that applies to a client for one kind, if any. */
  limitFor(client: QuotaClient, kind: QuotaKind): number | undefined {
    return this.#store.resolve(client, kind)?.limit
  }

  /** Bytes a client at `limit` bytes per second may move in one measuring window (a bound on one request). */
  bytesPerWindow(limit: number): number {
    return Math.max(1, Math.floor((limit * (this.window.samples - 1) * this.window.sampleMs) / 1000))
  }

  /**
   * Counts `amount` against the client's quota of this kind (bytes; for requestPercentage, ms of handling)
   * and returns how long the client must be held back, ms (0 without a quota or within it). A negative amount
   * takes back what was counted for work that was then not done.
   */
  record(kind: QuotaKind, client: QuotaClient, amount: number, now: number = Date.now()): number {
    const resolved = this.#store.resolve(client, kind)
    if (resolved === undefined) return 0
    // Request time is a share of one thread's time: 100% is 1000 ms per second.
    const limit = kind === 'requestPercentage' ? resolved.limit * 10 : resolved.limit
    const key = `${kind}${resolved.meterKey}`
    // Kept in least-recently-used order: a meter moves to the end whenever it records.
    const meter = this.#meters.get(key) ?? new RateMeter(this.window)
    this.#meters.delete(key)
    this.#meters.set(key, meter)
    if (this.#meters.size > this.metersMax) this.#meters.delete(this.#meters.keys().next().value!)
    const { rate, windowMs } = meter.record(amount, now)
    this.#sweep(now)
    return throttleMs(rate, limit, windowMs, this.window)
  }

  #sweep(now: number): void {
    const idleMs = IDLE_WINDOWS * this.window.samples * this.window.sampleMs
    if (now < this.#sweepAt) return
    this.#sweepAt = now + idleMs
    for (const [key, meter] of this.#meters) {
      // In least-recently-used order: the first recent one ends the sweep.
      if (meter.lastRecordAt + idleMs > now) break
      this.#meters.delete(key)
    }
  }

  /** Rates measured now (bounded by metersMax). */
  get meterCount(): number {
    return this.#meters.size
  }

  describe(filter: readonly QuotaFilterPart[], strict: boolean): Array<{ entity: QuotaEntity; values: QuotaValues }> {
    return this.#store.describe(filter, strict)
  }

  /**
   * Applies each entry on its own (as Kafka does): an invalid one is refused with its error, the others are
   * applied (with `validateOnly`, only checked). Resolves once the applied ones are durable.
   */
  async alter(
    entries: ReadonlyArray<{ entity: QuotaEntity; changes: readonly QuotaChange[] }>,
    validateOnly: boolean,
  ): Promise<Array<WharfError | null>> {
    const results: Array<WharfError | null> = []
    for (const { entity, changes } of entries) {
      try {
        if (validateOnly) this.#store.validate(entity, changes)
        else await this.#store.alter(entity, changes)
        results.push(null)
      } catch (error) {
        if (!(error instanceof WharfError)) throw error
        results.push(error)
      }
    }
    return results
  }
}
