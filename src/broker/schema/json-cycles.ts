// Refuses JSON Schemas that apply themselves to the same instance without end, such as {"$ref": "#"} or
// two definitions that $ref each other through allOf. Such a schema compiles (ajv resolves refs lazily)
// but every validation recurses until the stack overflows. Recursion through a keyword that descends into
// the instance (properties, items, ...) is fine and stays allowed: instances are finite.
import { jsonPointer } from './json-pointer.js'

type JsonSchema = unknown
type Obj = { [keyword: string]: unknown }

/** Keywords whose subschemas apply to the same instance as their parent. */
const inPlaceOne = ['not', 'if', 'then', 'else']
const inPlaceMany = ['allOf', 'anyOf', 'oneOf']
const inPlaceMap = ['dependentSchemas', 'dependencies']
/** Keywords whose subschemas apply to parts of the instance: walked for $refs, never a same-instance edge. */
const descendOne = [
  'additionalProperties',
  'additionalItems',
  'unevaluatedProperties',
  'unevaluatedItems',
  'contains',
  'propertyNames',
  'contentSchema',
]
const descendMap = ['properties', 'patternProperties', 'definitions', '$defs']
const descendMany = ['prefixItems']

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Subschemas of node split into same-instance children and descending children. */
function children(node: Obj): { inPlace: unknown[]; descend: unknown[] } {
  const inPlace: unknown[] = []
  const descend: unknown[] = []
  for (const key of inPlaceOne) if (Object.hasOwn(node, key)) inPlace.push(node[key])
  for (const key of inPlaceMany) if (Array.isArray(node[key])) inPlace.push(...(node[key] as unknown[]))
  for (const key of inPlaceMap) if (isObj(node[key])) inPlace.push(...Object.values(node[key] as Obj))
  for (const key of descendOne) if (Object.hasOwn(node, key)) descend.push(node[key])
  for (const key of descendMap) if (isObj(node[key])) descend.push(...Object.values(node[key] as Obj))
  for (const key of descendMany) if (Array.isArray(node[key])) descend.push(...(node[key] as unknown[]))
  if (Array.isArray(node.items)) descend.push(...node.items)
  else if (Object.hasOwn(node, 'items')) descend.push(node.items)
  return { inPlace, descend }
}

/**
 * A description of a same-instance $ref cycle in document, or null. References to other registered
 * schemas are followed through `references` (by $ref name); they cannot point back, since a reference
 * must be registered before the schema that uses it.
 */
export function findRefCycle(document: JsonSchema, references: ReadonlyMap<string, JsonSchema>): string | null {
  // Anchors and $ids that name subschemas of this document ("#foo", or a plain-name $id in draft-07).
  const named = new Map<string, Obj>()
  const rootId = isObj(document) && typeof document.$id === 'string' ? document.$id.split('#')[0]! : undefined
  const walk: unknown[] = [document]
  const all: Obj[] = []
  const seen = new Set<Obj>()
  while (walk.length > 0) {
    const node = walk.pop()
    if (!isObj(node) || seen.has(node)) continue
    seen.add(node)
    all.push(node)
    if (typeof node.$anchor === 'string') named.set(`#${node.$anchor}`, node)
    if (typeof node.$dynamicAnchor === 'string') named.set(`#${node.$dynamicAnchor}`, node)
    if (typeof node.$id === 'string' && node.$id.startsWith('#')) named.set(node.$id, node)
    const { inPlace, descend } = children(node)
    walk.push(...inPlace, ...descend)
  }
  const resolve = (ref: string): unknown => {
    const external = references.get(ref)
    if (external !== undefined) return undefined
    const hash = ref.indexOf('#')
    const base = hash === -1 ? ref : ref.slice(0, hash)
    const fragment = hash === -1 ? '' : ref.slice(hash + 1)
    if (base !== '' && base !== rootId) return undefined
    if (named.has(`#${fragment}`)) return named.get(`#${fragment}`)
    return fragment === '/' ? document : jsonPointer(document, fragment)
  }
  const edges = (node: Obj): unknown[] => {
    const out = children(node).inPlace
    for (const key of ['$ref', '$dynamicRef', '$recursiveRef'])
      if (typeof node[key] === 'string') out.push(resolve(node[key] as string))
    return out
  }
  // Depth-first search over same-instance edges, iterative: colours 1 = on the path, 2 = done.
  const colour = new Map<Obj, number>()
  for (const start of all) {
    if (colour.has(start)) continue
    const stack: Array<{ node: Obj; next: unknown[] }> = [{ node: start, next: edges(start) }]
    colour.set(start, 1)
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      if (top.next.length === 0) {
        colour.set(top.node, 2)
        stack.pop()
        continue
      }
      const child = top.next.pop()
      if (!isObj(child)) continue
      const state = colour.get(child)
      if (state === 1) return 'a $ref cycle applies the schema to the same value without end'
      if (state === 2) continue
      colour.set(child, 1)
      stack.push({ node: child, next: edges(child) })
    }
  }
  return null
}
