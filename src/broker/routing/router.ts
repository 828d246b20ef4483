// The router decides which destinations a publish reaches: AMQP exchanges (direct, fanout, topic,
// headers) with RabbitMQ's semantics, MQTT topic filters as bindings on topic exchanges, exchange-to-
// exchange bindings and alternate exchanges. It is protocol-neutral: its errors are code + detail
// (errors.ts), which adapters word in their own terms.
//
// Control-plane calls are async and run one at a time: each writes the catalog first and changes
// memory only after the write succeeded, so a failed write never leaves memory ahead of disk (a failed
// delete may leave disk ahead of memory; deletes are idempotent, so retrying converges). route() is
// synchronous and reads memory only; its scratch sets live on the instance so a publish allocates
// nothing but what the caller keeps.
import { WharfError } from '../../util/errors.js'
import type { SelectorMessage } from '../selector/index.js'
import { decodeTable } from './arguments.js'
import { BindingIndex, cascade } from './bindings.js'
import {
  assertEquivalent,
  bindingId,
  builtins,
  type ExchangeDeclare,
  KIND_BINDING,
  KIND_EXCHANGE,
  normalizeExchange,
  resolveBinding,
  type StoredBinding,
  type StoredExchange,
  storedBinding,
  storedExchange,
} from './declarations.js'
import {
  defaultExchangeRefused,
  exchangeInUse,
  exchangeNotFound,
  internalExchange,
  predeclaredExchange,
  reservedExchangeName,
} from './errors.js'
import { type BindingEntry, ExchangeState, topicWildcardsMaxDefault } from './exchange.js'
import {
  type BindingDef,
  copyDestination,
  type Destination,
  type ExchangeDef,
  type LeafDestination,
  type RouteResult,
  type RouterCatalog,
} from './types.js'

export type { ExchangeDeclare } from './declarations.js'
export * from './types.js'

export interface RouterOptions {
  catalog?: RouterCatalog
  /** Whether a queue of that name exists: the default exchange routes a key to the queue it names. */
  queueExists?: (name: string) => boolean
  /** Bounds on what clients can create (LIMIT_EXCEEDED beyond them). */
  exchangesMax?: number
  bindingsMax?: number
  /** Most '#' words in one AMQP topic binding key (LIMIT_EXCEEDED beyond; bindings already stored still load). */
  topicWildcardsMax?: number
  warn?: (message: string, details?: Record<string, unknown>) => void
}

export const exchangesMaxDefault = 100_000
export const bindingsMaxDefault = 1_000_000
export { topicWildcardsMaxDefault }

export class Router {
  readonly #catalog: RouterCatalog | undefined
  readonly #queueExists: (name: string) => boolean
  readonly #exchangesMax: number
  readonly #bindingsMax: number
  readonly #topicWildcardsMax: number
  readonly #warn: (message: string, details?: Record<string, unknown>) => void
  readonly #exchanges = new Map<string, ExchangeState>()
  readonly #bindings = new BindingIndex()
  #tail: Promise<unknown> = Promise.resolve()
  // route() scratch, reused across calls.
  readonly #matched = new Set<Destination>()
  readonly #seen = new Set<Destination>()
  readonly #visited = new Set<ExchangeState>()
  readonly #work: ExchangeState[] = []

  constructor(options: RouterOptions = {}) {
    this.#catalog = options.catalog
    this.#queueExists = options.queueExists ?? (() => false)
    this.#exchangesMax = options.exchangesMax ?? exchangesMaxDefault
    this.#bindingsMax = options.bindingsMax ?? bindingsMaxDefault
    this.#topicWildcardsMax = options.topicWildcardsMax ?? topicWildcardsMaxDefault
    this.#warn = options.warn ?? (() => {})
    for (const [name, type] of builtins) {
      const def = { name, type, durable: true, autoDelete: false, internal: false, arguments: Object.freeze({}) }
      this.#exchanges.set(name, new ExchangeState(Object.freeze(def)))
    }
  }

  /** A router with the durable exchanges and bindings of catalog loaded. */
  static async open(catalog: RouterCatalog | undefined, options: Omit<RouterOptions, 'catalog'> = {}): Promise<Router> {
    const router = new Router({ ...options, catalog })
    if (catalog !== undefined) router.#load(catalog)
    return router
  }

  #load(catalog: RouterCatalog): void {
    try {
      this.#loadEntries(catalog)
    } catch (error) {
      if (error instanceof WharfError && error.code === 'STORE_CORRUPT') throw error
      throw new WharfError('STORE_CORRUPT', `router catalog entry is invalid: ${(error as Error).message}`, {
        cause: error,
      })
    }
  }

  #loadEntries(catalog: RouterCatalog): void {
    for (const [name, stored] of catalog.list<StoredExchange>(KIND_EXCHANGE)) this.#loadExchange(name, stored)
    for (const [id, stored] of catalog.list<StoredBinding>(KIND_BINDING)) this.#loadBinding(id, stored)
  }

  #loadExchange(name: string, stored: StoredExchange): void {
    if (this.#exchanges.has(name)) return // built-ins are never persisted; tolerate old entries
    const def = normalizeExchange({ ...stored, name, arguments: decodeTable(stored.arguments) })
    this.#exchanges.set(name, new ExchangeState(def))
  }

  #loadBinding(id: string, stored: StoredBinding): void {
    const source = this.#exchanges.get(stored.source)
    const destination = copyDestination(stored.destination)
    // A crash between the deletes of a cascade may leave a binding whose exchange is gone.
    if (source === undefined || source.bindings.has(id)) return
    if (destination.kind === 'exchange' && !this.#exchanges.has(destination.name)) return
    const def = { ...stored, destination, arguments: Object.freeze(decodeTable(stored.arguments)), durable: true }
    source.validate(def)
    try {
      source.checkWildcards(def, this.#topicWildcardsMax)
    } catch (error) {
      // Refusing it now would lose its routing; matching is linear, so keeping it costs only time.
      this.#warn('stored binding exceeds a limit new bindings are held to; kept', {
        source: stored.source,
        key: stored.key.slice(0, 64),
        reason: (error as Error).message,
      })
    }
    this.#bindings.add(source, { id, def: Object.freeze(def), target: this.#bindings.intern(destination) })
  }

  /**
   * Makes memory match the catalog for one durable exchange or binding that another broker sharing the
   * storage declared or deleted (kind `exchange` or `binding`). Writes nothing; true when memory changed.
   */
  syncFromCatalog(kind: string, name: string): Promise<boolean> {
    return this.#serial(async () => {
      const catalog = this.#catalog
      if (catalog === undefined) return false
      if (kind === KIND_EXCHANGE) {
        const stored = catalog.get<StoredExchange>(KIND_EXCHANGE, name)
        const open = this.#exchanges.get(name)
        if (stored !== undefined) this.#loadExchange(name, stored)
        else if (open?.def.durable && !builtins.some(([builtin]) => builtin === name)) {
          // Its bindings both ways went with it there (each announced too); here they go with it.
          const inbound = this.#bindings.inbound({ kind: 'exchange', name })?.values() ?? []
          for (const entry of [...open.bindings.values(), ...inbound]) this.#bindings.remove(open, entry)
          this.#exchanges.delete(name)
        }
        return (stored === undefined) !== (open === undefined)
      }
      if (kind !== KIND_BINDING) return false
      const stored = catalog.get<StoredBinding>(KIND_BINDING, name)
      if (stored !== undefined) {
        const had = this.#bindings.count
        this.#loadBinding(name, stored)
        return this.#bindings.count !== had
      }
      const source = this.#exchanges.get((JSON.parse(name) as [string])[0])
      const entry = source?.bindings.get(name)
      if (entry === undefined || !entry.def.durable) return false
      this.#bindings.remove(source, entry)
      return true
    })
  }

  /** Runs control-plane mutations one at a time, in call order. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task)
    this.#tail = run.catch(() => undefined)
    return run
  }

  getExchange(name: string): ExchangeDef | undefined {
    return this.#exchanges.get(name)?.def
  }

  listExchanges(): ExchangeDef[] {
    return [...this.#exchanges.values()].map((x) => x.def)
  }

  listBindings(filter: { source?: string; destination?: Destination } = {}): BindingDef[] {
    let entries: Iterable<BindingEntry>
    if (filter.destination !== undefined) {
      entries = this.#bindings.inbound(filter.destination)?.values() ?? []
    } else if (filter.source !== undefined) {
      entries = this.#exchanges.get(filter.source)?.bindings.values() ?? []
    } else {
      entries = [...this.#exchanges.values()].flatMap((x) => [...x.bindings.values()])
    }
    const out: BindingDef[] = []
    for (const entry of entries)
      if (filter.source === undefined || entry.def.source === filter.source) out.push(entry.def)
    return out
  }

  declareExchange(def: ExchangeDeclare, options: { passive?: boolean } = {}): Promise<ExchangeDef> {
    return this.#serial(async () => {
      if (def.name === '') throw defaultExchangeRefused()
      const existing = this.#exchanges.get(def.name)
      if (options.passive) {
        if (existing === undefined) throw exchangeNotFound(def.name)
        return existing.def
      }
      const wanted = normalizeExchange(def)
      if (existing !== undefined) {
        assertEquivalent(existing.def, wanted)
        return existing.def
      }
      if (wanted.name.startsWith('amq.')) throw reservedExchangeName(wanted.name)
      if (this.#exchanges.size - builtins.length >= this.#exchangesMax)
        throw new WharfError('LIMIT_EXCEEDED', `at most ${this.#exchangesMax} exchanges`)
      if (wanted.durable && this.#catalog !== undefined) {
        await this.#catalog.put(KIND_EXCHANGE, wanted.name, storedExchange(wanted))
      }
      this.#exchanges.set(wanted.name, new ExchangeState(wanted))
      return wanted
    })
  }

  /** Deletes an exchange and every binding from or to it; a missing exchange is not an error (as in RabbitMQ). */
  deleteExchange(name: string, options: { ifUnused?: boolean } = {}): Promise<void> {
    return this.#serial(async () => {
      if (name === '') throw defaultExchangeRefused()
      if (name.startsWith('amq.')) throw predeclaredExchange(name)
      const exchange = this.#exchanges.get(name)
      if (exchange === undefined) return
      // RabbitMQ's if-unused looks at bindings with the exchange as source only.
      if (options.ifUnused && exchange.bindings.size > 0) throw exchangeInUse(name)
      await this.#remove([], [exchange])
    })
  }

  /** Adds a binding; binding the same (source, destination, key, arguments, syntax) again is a no-op. */
  bind(binding: BindingDef): Promise<boolean> {
    return this.#serial(async () => {
      const { def, source } = resolveBinding(binding, this.#exchanges)
      const id = bindingId(def)
      if (source.bindings.has(id)) return false
      source.validate(def)
      source.checkWildcards(def, this.#topicWildcardsMax)
      if (this.#bindings.count >= this.#bindingsMax)
        throw new WharfError('LIMIT_EXCEEDED', `at most ${this.#bindingsMax} bindings`)
      let durable = (binding.durable ?? source.def.durable) && source.def.durable && def.destination.kind !== 'sink'
      if (def.destination.kind === 'exchange')
        durable &&= this.#exchanges.get(def.destination.name)?.def.durable === true
      if (durable && this.#catalog !== undefined) {
        await this.#catalog.put(KIND_BINDING, id, storedBinding(def))
      }
      const target = this.#bindings.intern(def.destination)
      this.#bindings.add(source, { id, def: Object.freeze({ ...def, durable }), target })
      return true
    })
  }

  /** Removes a binding; false when it did not exist. May auto-delete the source exchange. */
  unbind(binding: BindingDef): Promise<boolean> {
    return this.#serial(async () => {
      const { def, source } = resolveBinding(binding, this.#exchanges, false)
      const entry = source.bindings.get(bindingId(def))
      if (entry === undefined) return false
      await this.#remove([entry], [])
      return true
    })
  }

  /** Removes every binding to a destination, e.g. when its queue, stream or sink goes away. */
  unbindDestination(destination: Destination): Promise<void> {
    return this.#serial(async () => {
      const entries = this.#bindings.inbound(destination)
      if (entries !== undefined) await this.#remove([...entries.values()], [])
    })
  }

  /** Removes every binding whose queue or stream destination `exists` denies (sinks and exchanges stay). */
  async unbindMissing(exists: (destination: { kind: 'queue' | 'stream'; name: string }) => boolean): Promise<void> {
    for (const binding of this.listBindings()) {
      const d = binding.destination
      if ((d.kind === 'queue' || d.kind === 'stream') && !exists(d)) await this.unbindDestination(d)
    }
  }

  /**
   * Removes bindings and exchanges plus everything that goes with them: an exchange's bindings both
   * ways, and auto-delete exchanges whose last source binding is among the removed (transitively).
   */
  async #remove(bindings: BindingEntry[], exchanges: ExchangeState[]): Promise<void> {
    const { dropBindings, dropExchanges } = cascade(bindings, exchanges, this.#exchanges, this.#bindings)
    if (this.#catalog !== undefined) {
      for (const entry of dropBindings) if (entry.def.durable) await this.#catalog.delete(KIND_BINDING, entry.id)
      for (const x of dropExchanges) if (x.def.durable) await this.#catalog.delete(KIND_EXCHANGE, x.def.name)
    }
    for (const entry of dropBindings) this.#bindings.remove(this.#exchanges.get(entry.def.source), entry)
    for (const x of dropExchanges) this.#exchanges.delete(x.def.name)
  }

  /**
   * The destinations a publish to exchange with routingKey (and headers, for headers exchanges)
   * reaches, deduplicated. Follows exchange-to-exchange bindings and alternate exchanges the way
   * RabbitMQ's rabbit_exchange:route does: a work list of exchanges, each visited once (cycles are
   * legal), and an exchange whose own bindings match nothing hands the publish to its alternate.
   * Pass out to reuse its array; the returned destination objects are shared and must not be mutated.
   * `message` is what bindings with a selector (`x-selector`) select on; without it they match nothing.
   */
  route(
    exchange: string,
    routingKey: string,
    headers?: Record<string, unknown>,
    out?: RouteResult,
    message?: SelectorMessage,
  ): RouteResult {
    const result = out ?? { destinations: [], unroutable: false }
    result.destinations.length = 0
    if (exchange === '') {
      this.#routeDefault(routingKey, result.destinations)
      result.unroutable = result.destinations.length === 0
      return result
    }
    const start = this.#exchanges.get(exchange)
    if (start === undefined) throw exchangeNotFound(exchange)
    if (start.def.internal) throw internalExchange(exchange)
    const matched = this.#matched
    const seen = this.#seen
    const work = this.#work
    try {
      this.#visited.add(start)
      work.push(start)
      for (let x = work.pop(); x !== undefined; x = work.pop()) {
        matched.clear()
        x.collect(routingKey, headers, matched, message)
        if (matched.size === 0) {
          const alternate = x.def.alternateExchange
          if (alternate !== undefined) this.#enqueue(alternate, routingKey, result.destinations)
          continue
        }
        for (const target of matched) {
          if (target.kind === 'exchange') this.#enqueue(target.name, routingKey, result.destinations)
          else if (!seen.has(target)) {
            seen.add(target)
            result.destinations.push(target)
          }
        }
      }
    } finally {
      // Drop references so that removed destinations can be collected.
      matched.clear()
      seen.clear()
      this.#visited.clear()
      work.length = 0
    }
    result.unroutable = result.destinations.length === 0
    return result
  }

  #enqueue(name: string, routingKey: string, out: LeafDestination[]): void {
    const next = this.#exchanges.get(name)
    // A missing alternate or destination exchange drops the branch silently, as RabbitMQ does.
    if (next === undefined || this.#visited.has(next)) return
    this.#visited.add(next)
    if (name !== '') {
      this.#work.push(next)
      return
    }
    // An alternate exchange may be the default one: route by queue name. Only a queue that has
    // bindings can have been reached already, and then its interned object is in seen.
    const before = out.length
    this.#routeDefault(routingKey, out)
    if (out.length > before) {
      const target = out[before]!
      if (this.#seen.has(target)) out.length = before
      else this.#seen.add(target)
    }
  }

  #routeDefault(routingKey: string, out: LeafDestination[]): void {
    if (!this.#queueExists(routingKey)) return
    const interned = this.#bindings.target(`queue:${routingKey}`) as LeafDestination | undefined
    out.push(interned ?? { kind: 'queue', name: routingKey })
  }
}
