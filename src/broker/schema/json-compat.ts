// JSON Schema compatibility as a containment check: "can `reader` accept every document `writer` accepts?"
// BACKWARD asks it with writer = old, reader = new; FORWARD the other way round. This covers the cases of
// Confluent's SchemaDiff (json-schema-provider/.../diff) that matter in practice, and errs towards
// "incompatible" whenever it cannot prove containment:
//  - type: the writer's types must be a subset of the reader's (integer ⊂ number); a reader that adds a
//    type constraint to an untyped writer narrows.
//  - enum/const: every writer value must still be allowed.
//  - numbers (minimum, maximum, exclusive*, multipleOf), strings (minLength, maxLength, pattern, format),
//    arrays (minItems, maxItems, uniqueItems, items), objects (minProperties, maxProperties): the reader's
//    bound must be at least as loose as the writer's.
//  - required: the reader must not require a property the writer did not.
//  - properties: shared properties are compared recursively; a property the reader adds is checked against
//    what the writer allowed for unknown names (adding to a closed model is fine, adding a constrained
//    property to an open model is not); a property the reader drops must still fit its additionalProperties
//    (dropping from a closed reader model is incompatible).
//  - allOf/anyOf/oneOf are expanded (oneOf is treated as anyOf: exclusivity is not checked); local and
//    referenced `$ref`s are followed, recursion is assumed compatible on a cycle.
//  - anything else that constrains (patternProperties, propertyNames, dependencies, if/then/else, not,
//    contains, tuples, unevaluated*) must be unchanged or absent from the reader.
import { isDeepStrictEqual } from 'node:util'
import { jsonPointer } from './json-pointer.js'
import type { JsonSchema, ParsedJson } from './parse.js'

type Obj = { [keyword: string]: unknown }

interface Doc {
  root: JsonSchema
  refs: Map<string, JsonSchema>
}

interface Ctx {
  messages: string[]
  /** writer object → reader objects being compared (cycle guard for recursive $refs). */
  active: Map<object, Set<object>>
  depth: number
}

/** Nesting bound: deeper schemas are reported incompatible rather than risking the stack. */
const MAX_DEPTH = 64

const annotations = new Set([
  '$schema',
  '$id',
  'id',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'definitions',
  '$defs',
  'readOnly',
  'writeOnly',
  'deprecated',
  '$anchor',
  'contentMediaType',
  'contentEncoding',
])

const unanalysed = [
  'patternProperties',
  'propertyNames',
  'dependencies',
  'dependentRequired',
  'dependentSchemas',
  'if',
  'then',
  'else',
  'not',
  'contains',
  'minContains',
  'maxContains',
  'unevaluatedProperties',
  'unevaluatedItems',
  'prefixItems',
  'additionalItems',
]

/** Messages explaining why `reader` may reject a document `writer` accepts; empty when compatible. */
export function jsonSchemaCompatibility(writer: ParsedJson, reader: ParsedJson): string[] {
  const ctx: Ctx = { messages: [], active: new Map(), depth: 0 }
  const w: Doc = { root: writer.document, refs: writer.references }
  const r: Doc = { root: reader.document, refs: reader.references }
  check(ctx, writer.document, w, reader.document, r, '#')
  return ctx.messages
}

function isTrivial(s: JsonSchema): boolean {
  if (s === true) return true
  if (s === false) return false
  return Object.keys(s).every((k) => annotations.has(k))
}

function asSchema(value: unknown): JsonSchema {
  if (typeof value === 'boolean') return value
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Obj
  return true // malformed subschemas were rejected by ajv already; treat as unconstrained
}

function check(ctx: Ctx, ws: JsonSchema, wd: Doc, rs: JsonSchema, rd: Doc, path: string): void {
  if (isTrivial(rs) || ws === false) return
  if (typeof rs === 'boolean') {
    if (!rs) ctx.messages.push(`${path}: the reader rejects every value`)
    return
  }
  const w: Obj = typeof ws === 'boolean' ? {} : ws
  const r: Obj = rs
  let readers = ctx.active.get(w)
  if (readers?.has(r)) return
  if (readers === undefined) {
    readers = new Set()
    ctx.active.set(w, readers)
  }
  if (ctx.depth >= MAX_DEPTH) {
    ctx.messages.push(`${path}: schema nesting exceeds ${MAX_DEPTH} levels`)
    return
  }
  readers.add(r)
  ctx.depth++
  try {
    compare(ctx, w, wd, r, rd, path)
  } finally {
    ctx.depth--
    readers.delete(r)
  }
}

function compare(ctx: Ctx, w: Obj, wd: Doc, r: Obj, rd: Doc, path: string): void {
  // Writer references and combinators are expanded first: the writer's value set is what gets tested.
  if (typeof w.$ref === 'string') {
    const target = resolve(wd, w.$ref)
    if (target !== undefined) {
      check(ctx, target.schema, target.doc, r, rd, path)
      return
    }
    if (w.$ref !== r.$ref) ctx.messages.push(`${path}: unresolvable $ref '${w.$ref}' changed`)
    return
  }
  if (Array.isArray(w.allOf)) {
    const { allOf, ...base } = w
    check(ctx, mergeAll(base, allOf.map(asSchema)), wd, r, rd, path)
    return
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = w[key]
    if (!Array.isArray(branches)) continue
    const { [key]: _, ...base } = w
    branches.forEach((b, i) => {
      check(ctx, mergeAll(base, [asSchema(b)]), wd, r, rd, `${path}/${key}/${i}`)
    })
    return
  }
  // Reader references and combinators: the writer must satisfy each conjunct.
  if (typeof r.$ref === 'string') {
    const { $ref, ...rest } = r
    const target = resolve(rd, $ref)
    if (target !== undefined) check(ctx, w, wd, target.schema, target.doc, path)
    else ctx.messages.push(`${path}: unresolvable $ref '${$ref}' in the reader`)
    check(ctx, w, wd, rest, rd, path)
    return
  }
  if (Array.isArray(r.allOf)) {
    const { allOf, ...rest } = r
    allOf.forEach((b, i) => {
      check(ctx, w, wd, asSchema(b), rd, `${path}/allOf/${i}`)
    })
    check(ctx, w, wd, rest, rd, path)
    return
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = r[key]
    if (!Array.isArray(branches)) continue
    const { [key]: _, ...rest } = r
    const fits = branches.some((b) => {
      const sub: Ctx = { messages: [], active: ctx.active, depth: ctx.depth }
      check(sub, w, wd, asSchema(b), rd, path)
      return sub.messages.length === 0
    })
    if (!fits) ctx.messages.push(`${path}: the writer fits no branch of the reader's ${key}`)
    check(ctx, w, wd, rest, rd, path)
    return
  }

  for (const key of unanalysed) {
    if (r[key] !== undefined && !isDeepStrictEqual(w[key], r[key]))
      ctx.messages.push(`${path}: '${key}' changed (not analysed, treated as incompatible)`)
  }
  const wValues = valuesOf(w)
  const rValues = valuesOf(r)
  if (rValues !== undefined) {
    if (wValues === undefined) ctx.messages.push(`${path}: the reader restricts values to an enum`)
    else
      for (const v of wValues)
        if (!rValues.some((x) => isDeepStrictEqual(x, v)))
          ctx.messages.push(`${path}: value ${JSON.stringify(v)} is no longer allowed`)
  }
  const wTypes = typesOf(w, wValues)
  const rTypes = typesOf(r, rValues)
  if (rTypes !== undefined) {
    if (wTypes === undefined) ctx.messages.push(`${path}: type narrowed to ${[...rTypes].join('|')}`)
    else
      for (const t of wTypes)
        if (!rTypes.has(t) && !(t === 'integer' && rTypes.has('number')))
          ctx.messages.push(`${path}: type '${t}' is no longer allowed`)
  }
  const may = (t: string) => wTypes === undefined || wTypes.has(t) || (t === 'number' && wTypes.has('integer'))
  if (may('number')) compareNumbers(ctx, w, r, path)
  if (may('string')) {
    lowerBound(ctx, w, r, 'minLength', path)
    upperBound(ctx, w, r, 'maxLength', path)
    same(ctx, w, r, 'pattern', path)
    same(ctx, w, r, 'format', path)
  }
  if (may('array')) compareArrays(ctx, w, wd, r, rd, path)
  if (may('object')) compareObjects(ctx, w, wd, r, rd, path)
}

function compareNumbers(ctx: Ctx, w: Obj, r: Obj, path: string): void {
  const wMax = bound(w, 'maximum', 'exclusiveMaximum', Math.min)
  const rMax = bound(r, 'maximum', 'exclusiveMaximum', Math.min)
  if (
    rMax !== undefined &&
    (wMax === undefined || wMax.value > rMax.value || (wMax.value === rMax.value && rMax.exclusive && !wMax.exclusive))
  )
    ctx.messages.push(`${path}: maximum narrowed`)
  const wMin = bound(w, 'minimum', 'exclusiveMinimum', Math.max)
  const rMin = bound(r, 'minimum', 'exclusiveMinimum', Math.max)
  if (
    rMin !== undefined &&
    (wMin === undefined || wMin.value < rMin.value || (wMin.value === rMin.value && rMin.exclusive && !wMin.exclusive))
  )
    ctx.messages.push(`${path}: minimum narrowed`)
  if (typeof r.multipleOf === 'number') {
    const ratio = typeof w.multipleOf === 'number' ? w.multipleOf / r.multipleOf : Number.NaN
    if (!Number.isInteger(ratio)) ctx.messages.push(`${path}: multipleOf narrowed`)
  }
}

/** The tighter of an inclusive and an exclusive bound (draft-06+ numeric exclusive keywords). */
function bound(s: Obj, inclusive: string, exclusive: string, pick: (a: number, b: number) => number) {
  const inc = typeof s[inclusive] === 'number' ? (s[inclusive] as number) : undefined
  const exc = typeof s[exclusive] === 'number' ? (s[exclusive] as number) : undefined
  if (inc === undefined && exc === undefined) return undefined
  if (inc === undefined) return { value: exc as number, exclusive: true }
  if (exc === undefined) return { value: inc, exclusive: false }
  const value = pick(inc, exc)
  return { value, exclusive: value === exc }
}

function compareArrays(ctx: Ctx, w: Obj, wd: Doc, r: Obj, rd: Doc, path: string): void {
  lowerBound(ctx, w, r, 'minItems', path)
  upperBound(ctx, w, r, 'maxItems', path)
  if (r.uniqueItems === true && w.uniqueItems !== true) ctx.messages.push(`${path}: uniqueItems added`)
  if (Array.isArray(w.items) || Array.isArray(r.items)) {
    if (r.items !== undefined && !isDeepStrictEqual(w.items, r.items))
      ctx.messages.push(`${path}: tuple 'items' changed (not analysed, treated as incompatible)`)
    return
  }
  if (r.items !== undefined) check(ctx, asSchema(w.items ?? true), wd, asSchema(r.items), rd, `${path}/items`)
}

function compareObjects(ctx: Ctx, w: Obj, wd: Doc, r: Obj, rd: Doc, path: string): void {
  lowerBound(ctx, w, r, 'minProperties', path)
  upperBound(ctx, w, r, 'maxProperties', path)
  const wRequired = new Set(Array.isArray(w.required) ? (w.required as unknown[]) : [])
  if (Array.isArray(r.required))
    for (const name of r.required)
      if (!wRequired.has(name)) ctx.messages.push(`${path}: property '${String(name)}' became required`)
  const wProps = (typeof w.properties === 'object' && w.properties !== null ? w.properties : {}) as Obj
  const rProps = (typeof r.properties === 'object' && r.properties !== null ? r.properties : {}) as Obj
  const wAdd = asSchema(w.additionalProperties ?? true)
  const rAdd = asSchema(r.additionalProperties ?? true)
  for (const [name, rp] of Object.entries(rProps)) {
    const at = `${path}/properties/${name}`
    if (Object.hasOwn(wProps, name)) check(ctx, asSchema(wProps[name]), wd, asSchema(rp), rd, at)
    else {
      // The writer never named it: it can only appear as one of the writer's additional properties.
      const before = ctx.messages.length
      check(ctx, wAdd, wd, asSchema(rp), rd, at)
      if (ctx.messages.length > before) ctx.messages.push(`${at}: property added to an open content model`)
    }
  }
  for (const [name, wp] of Object.entries(wProps)) {
    if (Object.hasOwn(rProps, name)) continue
    const at = `${path}/properties/${name}`
    if (rAdd === false) ctx.messages.push(`${at}: property removed from a closed content model`)
    else check(ctx, asSchema(wp), wd, rAdd, rd, at)
  }
  if (rAdd === false && wAdd !== false) ctx.messages.push(`${path}: additionalProperties became false`)
  else check(ctx, wAdd, wd, rAdd, rd, `${path}/additionalProperties`)
}

function lowerBound(ctx: Ctx, w: Obj, r: Obj, key: string, path: string): void {
  const rv = r[key]
  if (typeof rv !== 'number' || rv <= 0) return
  const wv = w[key]
  if (typeof wv !== 'number' || wv < rv) ctx.messages.push(`${path}: ${key} increased`)
}

function upperBound(ctx: Ctx, w: Obj, r: Obj, key: string, path: string): void {
  const rv = r[key]
  if (typeof rv !== 'number') return
  const wv = w[key]
  if (typeof wv !== 'number' || wv > rv) ctx.messages.push(`${path}: ${key} decreased`)
}

function same(ctx: Ctx, w: Obj, r: Obj, key: string, path: string): void {
  if (r[key] !== undefined && !isDeepStrictEqual(w[key], r[key])) ctx.messages.push(`${path}: ${key} changed`)
}

function valuesOf(s: Obj): unknown[] | undefined {
  if (s.const !== undefined) return [s.const]
  return Array.isArray(s.enum) ? s.enum : undefined
}

function typesOf(s: Obj, values: unknown[] | undefined): Set<string> | undefined {
  if (typeof s.type === 'string') return new Set([s.type])
  if (Array.isArray(s.type)) return new Set(s.type.filter((t): t is string => typeof t === 'string'))
  if (values === undefined) return undefined
  return new Set(values.map(jsonType))
}

function jsonType(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  return typeof v // string, boolean, object
}

/** Shallow conjunction: on a key clash the later schema wins, which only loosens (safe for a writer). */
function mergeAll(base: Obj, parts: JsonSchema[]): JsonSchema {
  let out: Obj = { ...base }
  for (const part of parts) {
    if (part === false) return false
    if (part === true) continue
    const required = [
      ...(Array.isArray(out.required) ? out.required : []),
      ...(Array.isArray(part.required) ? part.required : []),
    ]
    const properties = { ...(out.properties as Obj | undefined), ...(part.properties as Obj | undefined) }
    out = { ...out, ...part }
    if (required.length > 0) out.required = required
    if (Object.keys(properties).length > 0) out.properties = properties
  }
  return out
}

/** Resolves `#/json/pointer`, `name` and `name#/pointer` against the document or its references. */
function resolve(doc: Doc, ref: string): { schema: JsonSchema; doc: Doc } | undefined {
  const hash = ref.indexOf('#')
  const base = hash < 0 ? ref : ref.slice(0, hash)
  const pointer = hash < 0 ? '' : ref.slice(hash + 1)
  let target = doc
  if (base !== '') {
    const root = doc.refs.get(base)
    if (root === undefined) return undefined
    target = { root, refs: doc.refs }
  }
  // Anchors (a fragment not starting with '/') are not followed.
  const node = jsonPointer(target.root, pointer)
  if (typeof node !== 'boolean' && (typeof node !== 'object' || node === null)) return undefined
  return { schema: node as JsonSchema, doc: target }
}
