// What the broker tells its operator, through the embedder's `warn` and `info` (BrokerOptions; the server
// routes both to its logger). `info` hears topology changes that happened — a redeclare or a delete of
// nothing is not news — and consumer-group rebalances; nothing here runs per message.
import type { BrokerOptions } from './config.js'
import type { BindingDef } from './routing/types.js'

export type Report = (message: string, details?: Record<string, unknown>) => void

type Entity = 'stream' | 'queue' | 'exchange'

/** The broker's public lookups, enough to tell whether a change happened. */
interface Lookups {
  getStream(name: string): unknown
  getQueue(name: string): unknown
  readonly router: { getExchange(name: string): unknown }
}

export class BrokerReports {
  readonly #lookups: Lookups
  readonly #options: () => Pick<BrokerOptions, 'warn' | 'info'>
  readonly warn: Report = (message, details) => this.#options().warn?.(message, details)
  readonly info: Report = (message, details) => this.#options().info?.(message, details)

  /** `options` is read at each report: the broker's options are set after its fields. */
  constructor(lookups: Lookups, options: () => Pick<BrokerOptions, 'warn' | 'info'>) {
    this.#lookups = lookups
    this.#options = options
  }

  #exists(entity: Entity, name: string): boolean {
    const l = this.#lookups
    return (
      (entity === 'stream' ? l.getStream(name) : entity === 'queue' ? l.getQueue(name) : l.router.getExchange(name)) !==
      undefined
    )
  }

  /** Runs a create or delete of `name`; reports `<entity> created|deleted` when it changed whether it exists. */
  async change<T>(entity: Entity, name: string, work: () => Promise<T>): Promise<T> {
    const before = this.#exists(entity, name)
    const result = await work()
    const after = this.#exists(entity, name)
    if (after !== before) this.info(`${entity} ${after ? 'created' : 'deleted'}`, { [entity]: name })
    return result
  }

  /**
   * A binding added or removed (`changed`: it did not exist, or did); returns `changed`. In-memory sink
   * bindings (one per MQTT QoS 0 subscriber, gone with its connection) are not reported.
   */
  binding(binding: BindingDef, what: 'created' | 'deleted', changed: boolean): boolean {
    const d = binding.destination
    if (changed && d.kind !== 'sink')
      this.info(`binding ${what}`, { source: binding.source, destination: `${d.kind} ${d.name}`, key: binding.key })
    return changed
  }
}
