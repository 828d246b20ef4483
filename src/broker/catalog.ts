// Catalog entries that adapters own (MQTT sessions, SQS queue attributes, HTTP listener secrets): a typed
// view of one kind of the metadata store, so adapters keep their state durable without reaching storage.
// The broker stores these kinds and never reads them; its own kinds are not reachable this way.
import type { MetadataStore } from '../storage/api.js'

// `jms-subscription` is the broker's own JMS layer (jms/durable.ts), kept the same way.
export const adapterKinds = ['mqtt-session', 'sqs-queue', 'sqs-config', 'jms-subscription'] as const
export type AdapterKind = (typeof adapterKinds)[number]

/** One kind of adapter state; writes resolve when durable. */
export interface Catalog<T> {
  get(name: string): T | undefined
  list(): Array<[string, T]>
  put(name: string, value: T): Promise<void>
  delete(name: string): Promise<void>
  /** Re-reads the entry from a catalog other brokers share (their last committed change); no-op on one broker. */
  refresh(name: string): Promise<void>
}

/** One Catalog object per kind, built on first use. */
export class AdapterCatalogs {
  readonly #metadata: MetadataStore
  readonly #byKind = new Map<AdapterKind, Catalog<unknown>>()

  constructor(metadata: MetadataStore) {
    this.#metadata = metadata
  }

  of<T>(kind: AdapterKind): Catalog<T> {
    let catalog = this.#byKind.get(kind)
    if (catalog === undefined) {
      const metadata = this.#metadata
      catalog = {
        get: (name) => metadata.get(kind, name),
        list: () => metadata.list(kind),
        put: (name, value) => metadata.put(kind, name, value),
        delete: (name) => metadata.delete(kind, name),
        refresh: async (name) => metadata.refresh?.(kind, name),
      }
      this.#byKind.set(kind, catalog)
    }
    return catalog as Catalog<T>
  }
}
