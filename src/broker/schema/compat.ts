// Compatibility levels, as Confluent's CompatibilityChecker defines them: BACKWARD means the new schema
// can read data written with the previous one(s), FORWARD that the previous one(s) can read data written
// with the new one, FULL both; *_TRANSITIVE checks every earlier version instead of only the latest.
import { jsonSchemaCompatibility } from './json-compat.js'
import type { ParsedSchema } from './parse.js'
import type { CompatibilityLevel } from './types.js'

export type Direction = 'BACKWARD' | 'FORWARD'

export function directionsOf(level: CompatibilityLevel): Direction[] {
  if (level.startsWith('BACKWARD')) return ['BACKWARD']
  if (level.startsWith('FORWARD')) return ['FORWARD']
  if (level.startsWith('FULL')) return ['BACKWARD', 'FORWARD']
  return []
}

export function isTransitive(level: CompatibilityLevel): boolean {
  return level.endsWith('_TRANSITIVE')
}

/** Why data written with `writer` cannot be read with `reader`; empty when it can. */
export function readable(reader: ParsedSchema, writer: ParsedSchema): string[] {
  if (reader.schemaType !== writer.schemaType)
    return [`schema type changed between ${writer.schemaType} and ${reader.schemaType}`]
  if (reader.schemaType === 'AVRO' && writer.schemaType === 'AVRO') {
    try {
      // avsc applies Avro's schema resolution rules here and throws when the reader cannot read the writer.
      reader.type.createResolver(writer.type)
      return []
    } catch (error) {
      return [(error as Error).message]
    }
  }
  if (reader.schemaType === 'JSON' && writer.schemaType === 'JSON') return jsonSchemaCompatibility(writer, reader)
  return ['unsupported schema type']
}

/** Messages for each direction in which `candidate` and `previous` are incompatible. */
export function pairMessages(candidate: ParsedSchema, previous: ParsedSchema, directions: Direction[]): string[] {
  const messages: string[] = []
  for (const direction of directions) {
    const found = direction === 'BACKWARD' ? readable(candidate, previous) : readable(previous, candidate)
    for (const m of found) messages.push(`${direction}: ${m}`)
  }
  return messages
}

/**
 * Checks `candidate` against earlier versions (newest first) under `level`. Returns the reasons it is
 * incompatible, prefixed with the version they concern; empty when compatible.
 */
export function checkLevel(
  level: CompatibilityLevel,
  candidate: ParsedSchema,
  previousNewestFirst: ReadonlyArray<{ version: number; parsed: ParsedSchema }>,
): string[] {
  const directions = directionsOf(level)
  if (directions.length === 0) return []
  const targets = isTransitive(level) ? previousNewestFirst : previousNewestFirst.slice(0, 1)
  const messages: string[] = []
  for (const { version, parsed } of targets) {
    for (const m of pairMessages(candidate, parsed, directions)) messages.push(`version ${version}: ${m}`)
  }
  return messages
}
