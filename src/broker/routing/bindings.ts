// Bindings by destination, across all exchanges: each destination's inbound bindings (for unbinding a
// destination and for the cascade of an exchange delete), the interned destination objects bindings
// share (route results hand these out, so every index dedupes by identity), and the total count.
import type { BindingEntry, ExchangeState } from './exchange.js'
import { type Destination, destinationKey } from './types.js'

export class BindingIndex {
  #count = 0
  /** Interned destination objects with the number of bindings that point at them. */
  readonly #targets = new Map<string, { target: Destination; refs: number }>()
  readonly #inbound = new Map<string, Map<string, BindingEntry>>()

  get count(): number {
    return this.#count
  }

  /** The shared object equal to destination (this one, when it is the first), referenced once more. */
  intern(destination: Destination): Destination {
    const key = destinationKey(destination)
    const slot = this.#targets.get(key)
    if (slot !== undefined) {
      slot.refs++
      return slot.target
    }
    this.#targets.set(key, { target: destination, refs: 1 })
    return destination
  }

  /** The shared object of a destination key (`kind:name`), while a binding points at it. */
  target(key: string): Destination | undefined {
    return this.#targets.get(key)?.target
  }

  /** The bindings that point at a destination, by binding id. */
  inbound(destination: Destination): ReadonlyMap<string, BindingEntry> | undefined {
    return this.#inbound.get(destinationKey(destination))
  }

  /** Adds an entry whose target came from intern() to its source exchange and to this index. */
  add(source: ExchangeState, entry: BindingEntry): void {
    source.add(entry)
    this.#count++
    const key = destinationKey(entry.target)
    let inbound = this.#inbound.get(key)
    if (inbound === undefined) {
      inbound = new Map()
      this.#inbound.set(key, inbound)
    }
    inbound.set(entry.id, entry)
  }

  /** Removes an entry from its source exchange (if still there) and from this index. */
  remove(source: ExchangeState | undefined, entry: BindingEntry): void {
    source?.remove(entry)
    this.#count--
    const key = destinationKey(entry.target)
    const inbound = this.#inbound.get(key)
    inbound?.delete(entry.id)
    if (inbound?.size === 0) this.#inbound.delete(key)
    const slot = this.#targets.get(key)
    if (slot !== undefined && --slot.refs === 0) this.#targets.delete(key)
  }
}

/**
 * What removing bindings and exchanges takes with it: an exchange's bindings both ways, and auto-delete
 * exchanges whose last source binding is among the removed (transitively).
 */
export function cascade(
  bindings: readonly BindingEntry[],
  exchanges: readonly ExchangeState[],
  byName: ReadonlyMap<string, ExchangeState>,
  index: BindingIndex,
): { dropBindings: Set<BindingEntry>; dropExchanges: Set<ExchangeState> } {
  const dropBindings = new Set(bindings)
  const dropExchanges = new Set(exchanges)
  const pending = [...exchanges]
  for (;;) {
    for (let x = pending.pop(); x !== undefined; x = pending.pop()) {
      for (const entry of x.bindings.values()) dropBindings.add(entry)
      const inbound = index.inbound({ kind: 'exchange', name: x.def.name })
      if (inbound !== undefined) for (const entry of inbound.values()) dropBindings.add(entry)
    }
    for (const entry of dropBindings) {
      const source = byName.get(entry.def.source)
      if (source === undefined || !source.def.autoDelete || dropExchanges.has(source)) continue
      let all = true
      for (const other of source.bindings.values()) if (!dropBindings.has(other)) all = false
      if (all) {
        dropExchanges.add(source)
        pending.push(source)
      }
    }
    if (pending.length === 0) return { dropBindings, dropExchanges }
  }
}
