// Invariant checks: a failed assertion is a programmer error and must crash loudly (TigerStyle).
// Operating errors (bad input, disk full) are WharfErrors instead, see errors.ts.
export class AssertionError extends Error {
  override name = 'AssertionError'
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message)
}
