// The acked set of a queue-mode cursor: a floor (every offset below it is acked) plus disjoint half-open
// ranges above it. Memory is proportional to the number of gaps, not to the number of acked messages.
// Invariants (checked by the property test): floor < r[0]; r[2i] < r[2i+1] < r[2i+2]; i.e. ranges are
// sorted, non-empty, and neither overlap nor touch each other or the floor (touching ones are merged).
import { assert } from '../../../util/assert.js'

export class AckSet {
  floor = 0
  /** Flat [start0, end0, start1, end1, ...]: one array, so splices move one block. */
  readonly r: number[] = []

  get rangeCount(): number {
    return this.r.length >> 1
  }

  /** O(log gaps). */
  has(offset: number): boolean {
    if (offset < this.floor) return true
    const r = this.r
    // Last range whose start <= offset.
    let lo = 0
    let hi = r.length >> 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (r[2 * mid]! <= offset) lo = mid + 1
      else hi = mid
    }
    return lo > 0 && offset < r[2 * (lo - 1) + 1]!
  }

  /** Adds [start, end); returns whether the set changed. */
  add(start: number, end: number): boolean {
    if (start <= this.floor) return end > this.floor && this.advanceFloor(end)
    if (start >= end) return false
    const r = this.r
    const n = r.length >> 1
    // i: first range that ends at or after start (overlaps or touches from the left).
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (r[2 * mid + 1]! < start) lo = mid + 1
      else hi = mid
    }
    const i = lo
    // j: first range that starts after end (ranges i..j-1 overlap or touch [start, end)).
    hi = n
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (r[2 * mid]! <= end) lo = mid + 1
      else hi = mid
    }
    const j = lo
    if (i === j) {
      r.splice(2 * i, 0, start, end)
      return true
    }
    const first = r[2 * i]!
    const last = r[2 * (j - 1) + 1]!
    if (j - i === 1 && first <= start && end <= last) return false
    r.splice(2 * i, 2 * (j - i), Math.min(start, first), Math.max(end, last))
    return true
  }

  /** Marks everything below floor as acked; never moves backwards. Returns whether the set changed. */
  advanceFloor(floor: number): boolean {
    if (floor <= this.floor) return false
    this.floor = floor
    const r = this.r
    // k: first range that ends after the new floor; ranges before it are now below the floor.
    let lo = 0
    let hi = r.length >> 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (r[2 * mid + 1]! <= floor) lo = mid + 1
      else hi = mid
    }
    let k = lo
    // A range straddling or touching the floor is absorbed; the next one cannot touch (ranges never do).
    if (k < r.length >> 1 && r[2 * k]! <= floor) {
      this.floor = r[2 * k + 1]!
      k++
    }
    if (k > 0) r.splice(0, 2 * k)
    return true
  }

  toRanges(): Array<[number, number]> {
    const out: Array<[number, number]> = []
    for (let i = 0; i < this.r.length; i += 2) out.push([this.r[i]!, this.r[i + 1]!])
    return out
  }

  /** Rebuilds from encoded state (snapshot); the caller's data must satisfy the invariants. */
  static from(floor: number, flat: number[]): AckSet {
    const set = new AckSet()
    set.floor = floor
    let prev = floor
    for (let i = 0; i < flat.length; i += 2) {
      assert(flat[i]! > prev && flat[i + 1]! > flat[i]!, 'ack ranges out of order')
      prev = flat[i + 1]!
      set.r.push(flat[i]!, prev)
    }
    return set
  }
}

/**
 * Sorts offsets into maximal runs [start, end) (flat pairs), dropping duplicates. Runs are what ack
 * entries store, so a batch of contiguous acks costs a few bytes however long it is.
 */
export function offsetsToRuns(offsets: readonly number[]): number[] {
  if (offsets.length === 1) return [offsets[0]!, offsets[0]! + 1]
  const sorted = Float64Array.from(offsets).sort()
  const runs: number[] = []
  for (const offset of sorted) {
    const last = runs.length - 1
    if (last < 0 || offset > runs[last]!) runs.push(offset, offset + 1)
    else if (offset === runs[last]) runs[last] = offset + 1
    // else: a duplicate inside the current run
  }
  return runs
}

/**
 * Sorts [offset, count, ...] pairs by offset, keeping the last count given for an offset: the form a COUNTS
 * entry stores, so memory and a replay apply the same pairs.
 */
export function normalizeCounts(counts: readonly number[]): number[] {
  const last = new Map<number, number>()
  for (let i = 0; i < counts.length; i += 2) last.set(counts[i]!, counts[i + 1]!)
  const offsets = [...last.keys()].sort((a, b) => a - b)
  const out: number[] = []
  for (const offset of offsets) out.push(offset, last.get(offset)!)
  return out
}

/** Deletes the counts of offsets inside runs (flat [start, end) pairs), walking whichever side is smaller. */
export function forgetRuns(counts: Map<number, number>, runs: readonly number[]): void {
  for (let i = 0; i < runs.length && counts.size > 0; i += 2) {
    const start = runs[i]!
    const end = runs[i + 1]!
    if (end - start <= counts.size) for (let o = start; o < end; o++) counts.delete(o)
    else for (const o of counts.keys()) if (o >= start && o < end) counts.delete(o)
  }
}
