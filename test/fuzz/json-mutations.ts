// Structure-aware damage to JSON requests, shared by the HTTP fuzzers (over sockets and in process): one
// leaf or node of a valid body replaced by a hostile value — another JSON type, a huge or unsafe number, a
// 300 KB string, `__proto__`, nesting 3000 levels deep.
import fc from 'fast-check'

export function hostileJson(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.constant(1e308),
    fc.constant(-1),
    fc.constant(2 ** 53 + 1),
    fc.string({ maxLength: 50 }),
    fc.constant('x'.repeat(300_000)),
    fc.constant('__proto__'),
    fc.integer({ min: 1, max: 3000 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
    fc.integer({ min: 1, max: 3000 }).map((depth) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 20 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 10 }),
  )
}

/** `value` with the node at `path` (child indexes, taken modulo each node's size) replaced. */
export function mutateJson(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length === 0) return replacement
  const [key, child] = entries[(path[0] as number) % entries.length] as [string, unknown]
  const copy: Record<string, unknown> = Array.isArray(value)
    ? ([...value] as unknown as Record<string, unknown>)
    : { ...value }
  copy[key] = mutateJson(child, path.slice(1), replacement)
  return copy
}
