// The filters of a receiver's source (Part 3.5.8 filter-set; the Apache filter registry): a JMS selector
// (`apache.org:selector-filter:string`) and no-local (`apache.org:no-local-filter:list`). Clients key them
// differently (rhea `jms-selector`, Qpid Proton `selector`, Qpid JMS `no-local`), so they are matched by
// descriptor, numeric or symbolic, never by key. The entries applied are echoed in the attach reply; the
// others are left out, which tells the client they were not applied.
import { AmqpMap, Described, Typed, type Value } from './codec/values.js'

export const SELECTOR = { code: 0x0000468c00000004n, name: 'apache.org:selector-filter:string' }
export const NO_LOCAL = { code: 0x0000468c00000003n, name: 'apache.org:no-local-filter:list' }

type Entry = [Value, Value]

export interface SourceFilters {
  /** The JMS selector's text and its filter-set entry. */
  selector: { text: string; entry: Entry } | undefined
  /** The no-local entry: messages this connection published are not delivered to it. */
  noLocal: Entry | undefined
}

function isDescribedAs(v: Value, filter: { code: bigint; name: string }): v is Described {
  if (!(v instanceof Described)) return false
  const d = v.descriptor
  return d instanceof Typed && (d.value === filter.code || d.value === filter.name)
}

export function sourceFilters(filter: AmqpMap | undefined): SourceFilters {
  const found: SourceFilters = { selector: undefined, noLocal: undefined }
  for (const entry of filter?.entries ?? []) {
    const v = entry[1]
    if (found.selector === undefined && isDescribedAs(v, SELECTOR) && typeof v.value === 'string')
      found.selector = { text: v.value, entry }
    else if (found.noLocal === undefined && isDescribedAs(v, NO_LOCAL)) found.noLocal = entry
  }
  return found
}

/** The filter-set of the attach reply: only the entries applied (undefined when none). */
export function appliedFilters(entries: Array<Entry | undefined>): AmqpMap | undefined {
  const applied = entries.filter((e): e is Entry => e !== undefined)
  return applied.length === 0 ? undefined : new AmqpMap(applied)
}
