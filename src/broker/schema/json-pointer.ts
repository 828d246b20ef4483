// JSON Pointer lookup, shared by the $ref resolution of the compatibility checker and the cycle finder.

/**
 * The value a JSON Pointer (RFC 6901, URI-fragment form: `/a~1b/0`, percent-decoded) names in root: root itself
 * for '', undefined when a step is missing or inherited, or the pointer does not start with '/'.
 */
export function jsonPointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root
  if (!pointer.startsWith('/')) return undefined
  let at: unknown = root
  for (const raw of pointer.slice(1).split('/')) {
    const token = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~')
    if (Array.isArray(at)) at = at[Number(token)]
    else if (typeof at === 'object' && at !== null && Object.hasOwn(at, token))
      at = (at as Record<string, unknown>)[token]
    else return undefined
  }
  return at
}
