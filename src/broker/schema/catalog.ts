// The schema store's entries in the broker catalog (one kind each for schemas, subjects, subject levels and
// the global state) and their load into memory at open(), which checks each entry's shape once.
import type { MetadataStore } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import type { CompatibilityLevel, SchemaReference, SchemaType } from './types.js'

export const KIND_SCHEMA = 'schema'
export const KIND_SUBJECT = 'schema-subject'
export const KIND_CONFIG = 'schema-config'
export const KIND_GLOBAL = 'schema-global'
export const GLOBAL_NAME = 'state'

export const MAX_SUBJECT_LENGTH = 1024

export function checkSubject(subject: string): void {
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH)
    throw new WharfError('INVALID_ARGUMENT', `subject must be 1..${MAX_SUBJECT_LENGTH} characters`)
}

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD'

export interface SchemaRecord {
  schemaType: SchemaType
  schema: string
  references: SchemaReference[]
  /** Dedup key: type, canonical form and references. Stored so open() need not parse anything. */
  key: string
}

export interface VersionEntry {
  version: number
  id: number
  deleted: boolean
}

export interface SubjectRecord {
  versions: VersionEntry[]
}

export interface GlobalRecord {
  compatibility: CompatibilityLevel
  nextId: number
}

/** Everything the store holds in memory. */
export interface Loaded {
  schemas: Map<number, SchemaRecord>
  idsByKey: Map<string, number>
  subjects: Map<string, SubjectRecord>
  configs: Map<string, CompatibilityLevel>
  global: GlobalRecord
}

export function load(metadata: MetadataStore): Loaded {
  const loaded: Loaded = {
    schemas: new Map(),
    idsByKey: new Map(),
    subjects: new Map(),
    configs: new Map(),
    global: { compatibility: DEFAULT_COMPATIBILITY, nextId: 1 },
  }
  const global = metadata.get<GlobalRecord>(KIND_GLOBAL, GLOBAL_NAME)
  if (global !== undefined) loaded.global = { ...global }
  for (const [name, record] of metadata.list<SchemaRecord>(KIND_SCHEMA)) {
    const id = Number(name)
    if (!Number.isInteger(id) || typeof record?.key !== 'string')
      throw new WharfError('STORE_CORRUPT', `schema catalog entry '${name}' is malformed`)
    loaded.schemas.set(id, record)
    loaded.idsByKey.set(record.key, id)
    if (id >= loaded.global.nextId) loaded.global.nextId = id + 1
  }
  for (const [subject, record] of metadata.list<SubjectRecord>(KIND_SUBJECT)) {
    if (!Array.isArray(record?.versions)) throw new WharfError('STORE_CORRUPT', `subject '${subject}' is malformed`)
    loaded.subjects.set(subject, { versions: record.versions.map((v) => ({ ...v })) })
  }
  for (const [subject, record] of metadata.list<{ compatibility: CompatibilityLevel }>(KIND_CONFIG))
    loaded.configs.set(subject, record.compatibility)
  return loaded
}

/**
 * A new schema id: from the catalog's counter, which a storage shared by several brokers takes atomically, so
 * two brokers registering at once never give one id to two schemas. Ids the store gave out before it kept the
 * counter (below global.nextId) are skipped.
 */
export async function takeSchemaId(
  metadata: MetadataStore,
  global: GlobalRecord,
  schemas: ReadonlyMap<number, SchemaRecord>,
): Promise<number> {
  for (;;) {
    const id = await metadata.nextId('schema-id')
    if (id >= global.nextId && !schemas.has(id)) return id
  }
}
