// What "memory in use" means for the memory alarms: the V8 heap in use plus the memory JS objects own outside
// it (Buffers, ArrayBuffers, external strings), read after a full garbage collection when the reading is over
// the mark. Not RSS: the allocator keeps freed pages mapped, so RSS can stay high for minutes after the data
// is gone (and after a GC too), keeping publishers blocked for nothing. And not a bare heap reading either:
// while publishers are blocked little is allocated, V8 then has no reason to collect, and garbage keeps
// counting; so a reading over the mark is confirmed by a forced full GC, at most once per `gcIntervalMs` and
// never more than a tenth of the time (a full GC of a large heap stops every connection while it runs).
import { totalmem } from 'node:os'
import v8 from 'node:v8'
import vm from 'node:vm'

/** Heap in use plus memory owned by JS objects outside the heap (external includes ArrayBuffers). */
export function memoryInUse(): number {
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

let gcFunction: (() => void) | null | undefined

/**
 * A full garbage collection: the global `gc` when node runs with --expose-gc, else the same function obtained
 * at run time (V8's flag set, then `gc` read from a fresh context, as jest's leak detector does); null if
 * neither works.
 */
export function fullGc(): (() => void) | null {
  if (gcFunction !== undefined) return gcFunction
  const global = (globalThis as { gc?: unknown }).gc
  if (typeof global === 'function') gcFunction = global as () => void
  else {
    try {
      v8.setFlagsFromString('--expose-gc')
      const gc: unknown = vm.runInNewContext('gc')
      gcFunction = typeof gc === 'function' ? (gc as () => void) : null
    } catch {
      gcFunction = null
    }
  }
  return gcFunction
}

export interface MemoryGaugeOptions {
  /** Reads memory in use (default memoryInUse). */
  read?: () => number
  /** Runs a full GC (default fullGc(); null: none, readings are taken as they are). */
  gc?: (() => void) | null
  /** Forced GCs at most this often. */
  gcIntervalMs?: number
  now?: () => number
}

/** Forced GCs are full, stop-the-world collections: at most one per this many ms. */
export const GC_INTERVAL_MS_DEFAULT = 5000
/** ...and at least this many times the last one's duration apart. */
const GC_SPACING_FACTOR = 10

export interface MemoryGauge {
  /**
   * The reading to decide on: when the first reading is over `mark`, a full GC (if one is due) and a second
   * reading. `collected` says whether the reading followed a GC (or none can be run).
   */
  measure(mark: number): { bytes: number; collected: boolean }
}

export function createMemoryGauge(options: MemoryGaugeOptions = {}): MemoryGauge {
  const read = options.read ?? memoryInUse
  const gc = options.gc === undefined ? fullGc() : options.gc
  const interval = options.gcIntervalMs ?? GC_INTERVAL_MS_DEFAULT
  const now = options.now ?? Date.now
  let nextGc = Number.NEGATIVE_INFINITY
  return {
    measure(mark) {
      const bytes = read()
      if (bytes <= mark || gc === null) return { bytes, collected: true }
      const start = now()
      if (start < nextGc) return { bytes, collected: false }
      gc()
      const end = now()
      nextGc = end + Math.max(interval, GC_SPACING_FACTOR * (end - start))
      return { bytes: read(), collected: true }
    },
  }
}

/** Memory this process may use: the cgroup limit in a container, else the machine's RAM. */
export function memoryAvailable(): number {
  const constrained = process.constrainedMemory?.() ?? 0
  const total = totalmem()
  // constrainedMemory() reports a huge number when there is no limit.
  return constrained > 0 && constrained < total ? constrained : total
}
