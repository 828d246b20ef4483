// Per-record work for streams bound to a subject: validation on the append path, and Confluent wire
// format encode/decode for the REST API. Built on the store's public reads, so it holds no state of its
// own beyond each validator's cached view of its subject.
import { isWharfError, WharfError } from '../../util/errors.js'
import { checkJsonText, checkPayload, decodePayload, encodePayload, fail, OK } from './codec.js'
import type { ParsedSchema } from './parse.js'
import type { SchemaType, SubjectVersion, ValidationResult, VersionSpec } from './types.js'
import { frame, frameId } from './wire.js'

/** The store reads this file uses (SchemaStore has them); declared here so the store can import this file. */
export interface SchemaSource {
  listVersions(subject: string): number[]
  getVersion(subject: string, version: VersionSpec): SubjectVersion
  parsedSchema(id: number): ParsedSchema
  /** Changes whenever a mutation completes. */
  readonly revision: number
}

/**
 * Framed values must carry the id of a live (not soft-deleted) version of the subject, as Confluent
 * Server's broker-side validation requires; unframed values are accepted only for JSON subjects, as JSON
 * text valid under the latest version. Null values (tombstones) pass. The subject's ids and latest schema
 * are cached until the store changes, so the common path is a Set lookup plus one decode or validate.
 */
export function subjectValidator(store: SchemaSource, subject: string): (value: Buffer | null) => ValidationResult {
  let revision = -1
  let allowed = new Set<number>()
  let latest: ParsedSchema | string | undefined
  const refresh = () => {
    allowed = new Set()
    latest = undefined
    try {
      for (const version of store.listVersions(subject)) allowed.add(store.getVersion(subject, version).id)
      latest = parsedOrReason(store, store.getVersion(subject, 'latest').id)
    } catch (error) {
      if (!isWharfError(error, 'SCHEMA_NOT_FOUND')) throw error
    }
    revision = store.revision
  }
  return (value) => {
    if (value === null) return OK
    if (revision !== store.revision) refresh()
    if (latest === undefined) return fail(`subject '${subject}' has no schema`)
    const id = frameId(value)
    if (id >= 0) {
      if (!allowed.has(id)) return fail(`schema id ${id} is not a version of subject '${subject}'`)
      const parsed = parsedOrReason(store, id)
      return typeof parsed === 'string' ? fail(parsed) : checkPayload(parsed, value)
    }
    if (typeof latest === 'string') return fail(latest)
    if (latest.schemaType !== 'JSON')
      return fail('value lacks the Confluent wire format header (magic byte 0 + schema id)')
    return checkJsonText(latest, value.toString('utf8'))
  }
}

/**
 * The compiled schema, or why it cannot be compiled: a schema stored before the registry refused it
 * (a $ref cycle, a pattern RE2 cannot run) fails the records checked against it, not the request.
 */
function parsedOrReason(store: SchemaSource, id: number): ParsedSchema | string {
  try {
    return store.parsedSchema(id)
  } catch (error) {
    if (!isWharfError(error, 'INVALID_SCHEMA')) throw error
    return `schema id ${id} cannot be used: ${error.message}`
  }
}

export function encodeFramed(store: SchemaSource, subjectOrId: string | number, value: unknown): Buffer {
  const id = typeof subjectOrId === 'number' ? subjectOrId : store.getVersion(subjectOrId, 'latest').id
  return frame(id, encodePayload(store.parsedSchema(id), value))
}

export function decodeFramed(
  store: SchemaSource,
  buffer: Buffer,
): { id: number; schemaType: SchemaType; value: unknown } {
  const id = frameId(buffer)
  if (id < 0) throw new WharfError('SCHEMA_VIOLATION', 'value lacks the Confluent wire format header')
  const parsed = store.parsedSchema(id)
  return { id, schemaType: parsed.schemaType, value: decodePayload(parsed, buffer) }
}
