// Schema parsing and canonical forms. Parsing is the only place that touches avsc/ajv construction, so
// the store can keep canonical strings cheaply in memory and compile validators lazily by id.
import { createRequire } from 'node:module'
import { Ajv, type AnySchema, type AnySchemaObject, type ValidateFunction } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import avro from 'avsc'
import { isWharfError } from '../../util/errors.js'
import { findRefCycle } from './json-cycles.js'
import { linearRegExp } from './regexp.js'
import { registryErrors, type SchemaType } from './types.js'

const require = createRequire(import.meta.url)

/** A referenced schema, already resolved by the store (transitive references first). */
export interface ResolvedReference {
  name: string
  schemaType: SchemaType
  schema: string
}

export interface ParsedAvro {
  schemaType: 'AVRO'
  canonical: string
  type: avro.Type
}

export interface ParsedJson {
  schemaType: 'JSON'
  canonical: string
  /** The schema document, used by the JSON compatibility checker. */
  document: JsonSchema
  /** Referenced documents by `$ref` name, so the checker can follow external refs. */
  references: Map<string, JsonSchema>
  validate: ValidateFunction
}

export type ParsedSchema = ParsedAvro | ParsedJson

export type JsonSchema = boolean | { [keyword: string]: unknown }

export function parseSchema(schemaType: SchemaType, text: string, references: ResolvedReference[] = []): ParsedSchema {
  return schemaType === 'AVRO' ? parseAvro(text, references) : parseJson(text, references)
}

function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw registryErrors.invalidSchema(`${what} is not valid JSON: ${(error as Error).message}`, error)
  }
}

function parseAvro(text: string, references: ResolvedReference[]): ParsedAvro {
  // Referenced schemas define named types; parsing them into one registry makes their names resolvable
  // from the main schema, which is how Confluent's AvroSchema handles references.
  const registry: Record<string, avro.Type> = {}
  try {
    for (const ref of references) {
      if (ref.schemaType !== 'AVRO') throw new Error(`reference '${ref.name}' is a ${ref.schemaType} schema`)
      avro.Type.forSchema(parseJsonText(ref.schema, `reference '${ref.name}'`) as avro.Schema, { registry })
    }
    const type = avro.Type.forSchema(parseJsonText(text, 'schema') as avro.Schema, { registry })
    // exportAttrs keeps defaults, aliases, order and logical types: plain Parsing Canonical Form drops
    // defaults, which would merge schemas that differ in compatibility.
    return { schemaType: 'AVRO', canonical: JSON.stringify(type.schema({ exportAttrs: true })), type }
  } catch (error) {
    if (isWharfError(error)) throw error
    throw registryErrors.invalidSchema((error as Error).message, error)
  }
}

function parseJson(text: string, references: ResolvedReference[]): ParsedJson {
  const document = parseJsonText(text, 'schema')
  if (typeof document !== 'boolean' && (typeof document !== 'object' || document === null || Array.isArray(document)))
    throw registryErrors.invalidSchema('a JSON Schema must be an object or a boolean')
  const refs = new Map<string, JsonSchema>()
  try {
    if (references.length === 0) {
      checkRefCycles(document as JsonSchema, refs)
      // A fresh Ajv costs ~10 ms (it compiles its meta-schemas), so schemas without references share one
      // per dialect and are removed again right after compiling: the validator keeps working, and a
      // later schema with the same $id does not collide.
      const ajv = sharedAjv(dialectOf(document))
      try {
        const validate = ajv.compile(document as AnySchema)
        return jsonResult(document as JsonSchema, refs, validate)
      } finally {
        if (typeof document === 'object') ajv.removeSchema(document as AnySchema) // booleans: nothing cached per schema
      }
    }
    const ajv = newAjv(dialectOf(document))
    for (const ref of references) {
      if (ref.schemaType !== 'JSON') throw new Error(`reference '${ref.name}' is a ${ref.schemaType} schema`)
      const doc = parseJsonText(ref.schema, `reference '${ref.name}'`) as JsonSchema
      refs.set(ref.name, doc)
      ajv.addSchema(doc as AnySchema, ref.name)
    }
    checkRefCycles(document as JsonSchema, refs)
    return jsonResult(document as JsonSchema, refs, ajv.compile(document as AnySchema))
  } catch (error) {
    if (isWharfError(error)) throw error
    throw registryErrors.invalidSchema((error as Error).message, error)
  }
}

function checkRefCycles(document: JsonSchema, references: Map<string, JsonSchema>): void {
  const cycle = findRefCycle(document, references)
  if (cycle !== null) throw registryErrors.invalidSchema(cycle)
}

function jsonResult(document: JsonSchema, references: Map<string, JsonSchema>, validate: ValidateFunction): ParsedJson {
  return { schemaType: 'JSON', canonical: canonicalJson(document), document, references, validate }
}

type Dialect = '2020-12' | '2019-09' | 'draft-06' | 'draft-07'

function dialectOf(document: unknown): Dialect {
  const uri =
    typeof document === 'object' && document !== null ? (document as { $schema?: unknown }).$schema : undefined
  if (typeof uri !== 'string') return 'draft-07' // Confluent's default too
  if (uri.includes('2020-12')) return '2020-12'
  if (uri.includes('2019-09')) return '2019-09'
  if (uri.includes('draft-06')) return 'draft-06'
  return 'draft-07'
}

/**
 * Compiles one shared Ajv serves before a fresh one replaces it. Ajv's code scope keeps every schema compiled
 * on an instance (removeSchema does not release it) and every validator holds that scope, so an instance that
 * lived forever would keep every schema ever registered, deleted ones included.
 */
export const SHARED_AJV_COMPILES = 16

const shared = new Map<Dialect, { ajv: Ajv; compiles: number }>()

function sharedAjv(dialect: Dialect): Ajv {
  let entry = shared.get(dialect)
  if (entry === undefined || entry.compiles >= SHARED_AJV_COMPILES) {
    entry = { ajv: newAjv(dialect), compiles: 0 }
    shared.set(dialect, entry)
  }
  entry.compiles++
  return entry.ajv
}

function newAjv(dialect: Dialect): Ajv {
  // strict:false accepts the vendor keywords real schemas carry; formats are not checked (no ajv-formats).
  const options = { strict: false, logger: false as const, validateFormats: false, code: { regExp: linearRegExp } }
  if (dialect === '2020-12') return new Ajv2020(options)
  if (dialect === '2019-09') return new Ajv2019(options)
  const ajv = new Ajv(options)
  if (dialect === 'draft-06') ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject)
  return ajv
}

/** JSON with object keys sorted at every level: equal documents give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key])
  return out
}
