// Turning a SchemaInput into a parsed schema: size limits, references resolved depth-first through the
// registered versions, and the key that identifies equal schemas across subjects.
import type { SchemaRecord } from './catalog.js'
import { checkSchemaText, defaultSchemaLimits, type SchemaLimits } from './limits.js'
import { type ParsedSchema, parseSchema, type ResolvedReference } from './parse.js'
import { registryErrors, type SchemaInput, type SchemaReference, schemaTypes } from './types.js'

export const MAX_REFERENCES = 256

/** The registered schema of one subject version, whether or not that version is soft-deleted. */
export type SchemaAt = (subject: string, version: number) => SchemaRecord | undefined

export interface Prepared {
  key: string
  parsed: ParsedSchema
  references: SchemaReference[]
}

/** Validates and parses an input schema. */
export function prepare(input: SchemaInput, schemaAt: SchemaAt, limits: SchemaLimits = defaultSchemaLimits): Prepared {
  const schemaType = input.schemaType ?? 'AVRO'
  if (!schemaTypes.includes(schemaType))
    throw registryErrors.invalidSchema(`unsupported schema type '${String(schemaType)}'`)
  if (typeof input.schema !== 'string' || input.schema.length === 0) throw registryErrors.invalidSchema('empty schema')
  checkSchemaText(input.schema, limits)
  const references = (input.references ?? []).map((r) => ({ name: r.name, subject: r.subject, version: r.version }))
  if (references.length > MAX_REFERENCES) throw registryErrors.schemaTooLarge(`more than ${MAX_REFERENCES} references`)
  const parsed = parseSchema(schemaType, input.schema, resolveReferences(references, schemaAt))
  const key = `${schemaType}\n${parsed.canonical}\n${JSON.stringify(references)}`
  return { key, parsed, references }
}

/** Flattens references depth-first (dependencies before dependants), each name once. */
export function resolveReferences(references: SchemaReference[], schemaAt: SchemaAt): ResolvedReference[] {
  const out: ResolvedReference[] = []
  const seen = new Set<string>()
  const visit = (refs: SchemaReference[], depth: number) => {
    if (depth > 32) throw registryErrors.invalidSchema('references nest deeper than 32 levels')
    for (const ref of refs) {
      if (typeof ref?.name !== 'string' || typeof ref.subject !== 'string' || !Number.isInteger(ref.version))
        throw registryErrors.invalidSchema('a reference needs name, subject and version')
      if (seen.has(ref.name)) continue
      seen.add(ref.name)
      const record = schemaAt(ref.subject, ref.version)
      if (record === undefined)
        throw registryErrors.invalidSchema(`reference '${ref.name}' (${ref.subject} version ${ref.version}) not found`)
      visit(record.references, depth + 1)
      out.push({ name: ref.name, schemaType: record.schemaType, schema: record.schema })
    }
  }
  visit(references, 0)
  return out
}
