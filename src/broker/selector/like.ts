// LIKE patterns compiled to a matcher that never backtracks: the pattern is cut at its '%' wildcards into
// segments (literal characters and '_'), the first segment must match at the start, the last at the end, and
// each middle one is taken at its leftmost place after the previous one — the leftmost place is always a
// right choice, so no alternative is ever retried. The work is at most (value length + 1) × (pattern length
// + 1) character steps, whatever the pattern; a RegExp built from the pattern could take exponential time.
// Characters are code points ('_' matches one, even outside the Basic Multilingual Plane).

/** A pattern item: a literal character (one code point) or null for '_'. */
type Segment = Array<string | null>

/** Character comparisons done by every matcher so far: the fuzz test bounds it per match. */
export const likeSteps = { count: 0 }

export type LikeMatcher = (value: string) => boolean

/**
 * Compiles a LIKE pattern. With an escape character, escape + '%', '_' or itself stands for that character
 * literally; an escape before any other character, or at the end, is an ordinary pattern character (as
 * Artemis reads it: `'%D7%'` with ESCAPE '%' still starts with a wildcard).
 */
export function compileLike(pattern: string, escapeChar: string | null): LikeMatcher {
  const chars = [...pattern]
  const segments: Segment[] = [[]]
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    const following = chars[i + 1]
    if (
      c === escapeChar &&
      following !== undefined &&
      (following === '%' || following === '_' || following === escapeChar)
    ) {
      segments[segments.length - 1]!.push(following)
      i++
    } else if (c === '%') segments.push([])
    else segments[segments.length - 1]!.push(c === '_' ? null : c)
  }
  if (segments.length === 1) {
    const only = segments[0]!
    return (value) => {
      const v = codePoints(value)
      return v.length === only.length && matchesAt(v, 0, only)
    }
  }
  const first = segments[0]!
  const last = segments[segments.length - 1]!
  const middle = segments.slice(1, -1).filter((s) => s.length > 0)
  return (value) => {
    const v = codePoints(value)
    if (v.length < first.length + last.length) return false
    if (!matchesAt(v, 0, first)) return false
    const end = v.length - last.length
    if (!matchesAt(v, end, last)) return false
    let from = first.length
    for (const segment of middle) {
      const at = find(v, from, end, segment)
      if (at < 0) return false
      from = at + segment.length
    }
    return true
  }
}

/** The value as an indexable sequence of code points (the string itself when it has no surrogate pairs). */
function codePoints(value: string): string | string[] {
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdfff) return [...value]
  }
  return value
}

function matchesAt(v: string | string[], at: number, segment: Segment): boolean {
  for (let k = 0; k < segment.length; k++) {
    likeSteps.count++
    const want = segment[k]
    if (want !== null && v[at + k] !== want) return false
  }
  return true
}

/** Leftmost position in [from, end - segment.length] where segment matches, or -1. */
function find(v: string | string[], from: number, end: number, segment: Segment): number {
  for (let at = from; at + segment.length <= end; at++) if (matchesAt(v, at, segment)) return at
  return -1
}
