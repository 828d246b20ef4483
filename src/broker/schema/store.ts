// The schema store: Confluent Schema Registry semantics over the broker catalog (MetadataStore).
// Everything lives in memory after open(); mutations run one at a time and reach memory only after the
// catalog has accepted them, so a failed write never leaves memory ahead of disk.
import type { MetadataStore } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import { checkLevel, directionsOf, pairMessages } from './compat.js'
import { type ParsedSchema, parseSchema, type ResolvedReference } from './parse.js'
import { decodeFramed, encodeFramed, subjectValidator } from './records.js'
import {
  type CompatibilityLevel,
  compatibilityLevels,
  registryErrors,
  type SchemaById,
  type SchemaInput,
  type SchemaReference,
  SchemaRegistryError,
  type SchemaType,
  type SubjectVersion,
  schemaTypes,
  type ValidationResult,
  type VersionSpec,
} from './types.js'

const KIND_SCHEMA = 'schema'
const KIND_SUBJECT = 'schema-subject'
const KIND_CONFIG = 'schema-config'
const KIND_GLOBAL = 'schema-global'
const GLOBAL_NAME = 'state'

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD'
export const MAX_SCHEMA_BYTES = 1024 * 1024
export const MAX_SUBJECT_LENGTH = 1024
export const MAX_REFERENCES = 256

interface SchemaRecord {
  schemaType: SchemaType
  schema: string
  references: SchemaReference[]
  /** Dedup key: type, canonical form and references. Stored so open() need not parse anything. */
  key: string
}

interface VersionEntry {
  version: number
  id: number
  deleted: boolean
}

interface SubjectRecord {
  versions: VersionEntry[]
}

interface GlobalRecord {
  compatibility: CompatibilityLevel
  nextId: number
}

export interface ReadOptions {
  /** Include soft-deleted subjects/versions, like Confluent's `?deleted=true`. */
  deleted?: boolean
}

export interface DeleteOptions {
  permanent?: boolean
}

export interface CompatibilityResult {
  compatible: boolean
  messages: string[]
}

export class SchemaStore {
  private readonly schemas = new Map<number, SchemaRecord>()
  private readonly idsByKey = new Map<string, number>()
  private readonly subjects = new Map<string, SubjectRecord>()
  private readonly configs = new Map<string, CompatibilityLevel>()
  private global: GlobalRecord = { compatibility: DEFAULT_COMPATIBILITY, nextId: 1 }
  private readonly parsed = new Map<number, ParsedSchema>()
  private queue: Promise<unknown> = Promise.resolve()
  /** Bumped on every mutation; validators rebuild their per-subject view when it changes. */
  private generation = 0

  private constructor(private readonly metadata: MetadataStore) {}

  static async open(metadata: MetadataStore): Promise<SchemaStore> {
    const store = new SchemaStore(metadata)
    const global = metadata.get<GlobalRecord>(KIND_GLOBAL, GLOBAL_NAME)
    if (global !== undefined) store.global = { ...global }
    for (const [name, record] of metadata.list<SchemaRecord>(KIND_SCHEMA)) {
      const id = Number(name)
      if (!Number.isInteger(id) || typeof record?.key !== 'string')
        throw new WharfError('STORE_CORRUPT', `schema catalog entry '${name}' is malformed`)
      store.schemas.set(id, record)
      store.idsByKey.set(record.key, id)
      if (id >= store.global.nextId) store.global.nextId = id + 1
    }
    for (const [subject, record] of metadata.list<SubjectRecord>(KIND_SUBJECT)) {
      if (!Array.isArray(record?.versions)) throw new WharfError('STORE_CORRUPT', `subject '${subject}' is malformed`)
      store.subjects.set(subject, { versions: record.versions.map((v) => ({ ...v })) })
    }
    for (const [subject, record] of metadata.list<{ compatibility: CompatibilityLevel }>(KIND_CONFIG))
      store.configs.set(subject, record.compatibility)
    return store
  }

  // ---- reads (synchronous) ----

  getById(id: number): SchemaById {
    const record = this.schemas.get(id)
    if (record === undefined) throw registryErrors.schemaNotFound(`id ${id}`)
    return { schema: record.schema, schemaType: record.schemaType, references: record.references }
  }

  /** Every (subject, version) that uses schema `id` (Confluent `GET /schemas/ids/{id}/versions`). */
  versionsById(id: number, options: ReadOptions = {}): Array<{ subject: string; version: number }> {
    const out: Array<{ subject: string; version: number }> = []
    for (const [subject, record] of this.subjects)
      for (const v of record.versions)
        if (v.id === id && (options.deleted || !v.deleted)) out.push({ subject, version: v.version })
    return out
  }

  listSubjects(options: ReadOptions = {}): string[] {
    const out: string[] = []
    for (const [subject, record] of this.subjects)
      if (record.versions.some((v) => options.deleted || !v.deleted)) out.push(subject)
    return out.sort()
  }

  listVersions(subject: string, options: ReadOptions = {}): number[] {
    const versions = this.visibleVersions(subject, options)
    if (versions.length === 0) throw registryErrors.subjectNotFound(subject)
    return versions.map((v) => v.version)
  }

  getVersion(subject: string, version: VersionSpec, options: ReadOptions = {}): SubjectVersion {
    const entry = this.findVersion(subject, version, options)
    return this.describe(subject, entry)
  }

  /** Finds the version of `subject` holding this schema (Confluent `POST /subjects/{s}`). */
  lookup(subject: string, input: SchemaInput, options: ReadOptions = {}): SubjectVersion {
    const versions = this.visibleVersions(subject, options)
    if (versions.length === 0) throw registryErrors.subjectNotFound(subject)
    const { key } = this.prepare(input)
    const id = this.idsByKey.get(key)
    const entry = id === undefined ? undefined : versions.findLast((v) => v.id === id)
    if (entry === undefined) throw registryErrors.schemaNotFound(`no version of subject '${subject}' matches`)
    return this.describe(subject, entry)
  }

  /** The global level without a subject; a subject's own level, or undefined when it has none. */
  getCompatibility(subject?: string): CompatibilityLevel | undefined {
    return subject === undefined ? this.global.compatibility : this.configs.get(subject)
  }

  /** The level register() applies to `subject`. */
  effectiveCompatibility(subject: string): CompatibilityLevel {
    return this.configs.get(subject) ?? this.global.compatibility
  }

  /**
   * Tests `input` against one version under the subject's level (only that version), or, with version
   * undefined, against the versions register() would check.
   */
  testCompatibility(subject: string, version: VersionSpec | undefined, input: SchemaInput): CompatibilityResult {
    const candidate = this.prepare(input).parsed
    const level = this.effectiveCompatibility(subject)
    let messages: string[]
    if (version === undefined) messages = checkLevel(level, candidate, this.previousVersions(subject))
    else {
      const entry = this.findVersion(subject, version, {})
      messages = pairMessages(candidate, this.parsedSchema(entry.id), directionsOf(level))
    }
    return { compatible: messages.length === 0, messages }
  }

  // ---- writes (serialized) ----

  /** Registers `input` under `subject`; an identical schema already there returns its id unchanged. */
  register(subject: string, input: SchemaInput): Promise<{ id: number; version: number }> {
    return this.exclusive(async () => {
      checkSubject(subject)
      const { key, parsed, references } = this.prepare(input)
      const record = this.subjects.get(subject)
      const existingId = this.idsByKey.get(key)
      const live = record?.versions.filter((v) => !v.deleted) ?? []
      const same = existingId === undefined ? undefined : live.findLast((v) => v.id === existingId)
      if (same !== undefined) return { id: same.id, version: same.version }

      const messages = checkLevel(this.effectiveCompatibility(subject), parsed, this.previousVersions(subject))
      if (messages.length > 0) throw registryErrors.incompatible(messages)

      const id = existingId ?? this.global.nextId
      const version = (record?.versions.reduce((max, v) => Math.max(max, v.version), 0) ?? 0) + 1
      const schemaType = input.schemaType ?? 'AVRO'
      const newSchema: SchemaRecord | undefined =
        existingId === undefined ? { schemaType, schema: input.schema, references, key } : undefined
      const nextGlobal = existingId === undefined ? { ...this.global, nextId: id + 1 } : this.global
      const nextSubject: SubjectRecord = { versions: [...(record?.versions ?? []), { version, id, deleted: false }] }
      // Schema first, subject last: a crash in between leaves at most an unreferenced schema.
      if (newSchema !== undefined) {
        await this.metadata.put(KIND_SCHEMA, String(id), newSchema)
        await this.metadata.put(KIND_GLOBAL, GLOBAL_NAME, nextGlobal)
      }
      await this.metadata.put(KIND_SUBJECT, subject, nextSubject)
      if (newSchema !== undefined) {
        this.schemas.set(id, newSchema)
        this.idsByKey.set(key, id)
        this.parsed.set(id, parsed)
        this.global = nextGlobal
      }
      this.subjects.set(subject, nextSubject)
      return { id, version }
    })
  }

  /** Soft delete marks every version deleted; permanent removes a soft-deleted subject and its config. */
  deleteSubject(subject: string, options: DeleteOptions = {}): Promise<number[]> {
    return this.exclusive(async () => {
      const record = this.subjects.get(subject)
      if (record === undefined || record.versions.length === 0) throw registryErrors.subjectNotFound(subject)
      const live = record.versions.filter((v) => !v.deleted)
      this.checkUnreferenced(subject, record.versions)
      if (options.permanent) {
        if (live.length > 0) throw registryErrors.subjectNotSoftDeleted(subject)
        await this.metadata.delete(KIND_SUBJECT, subject)
        if (this.configs.has(subject)) await this.metadata.delete(KIND_CONFIG, subject)
        this.subjects.delete(subject)
        this.configs.delete(subject)
        await this.collect(record.versions.map((v) => v.id))
        return record.versions.map((v) => v.version)
      }
      if (live.length === 0) throw registryErrors.subjectSoftDeleted(subject)
      const next: SubjectRecord = { versions: record.versions.map((v) => ({ ...v, deleted: true })) }
      await this.metadata.put(KIND_SUBJECT, subject, next)
      this.subjects.set(subject, next)
      return live.map((v) => v.version)
    })
  }

  /** Soft or (after a soft delete) permanent deletion of one version; returns the version number. */
  deleteVersion(subject: string, version: VersionSpec, options: DeleteOptions = {}): Promise<number> {
    return this.exclusive(async () => {
      const record = this.subjects.get(subject)
      if (record === undefined || record.versions.length === 0) throw registryErrors.subjectNotFound(subject)
      if (
        !options.permanent &&
        typeof version === 'number' &&
        record.versions.some((v) => v.version === version && v.deleted)
      )
        throw registryErrors.versionSoftDeleted(subject, version)
      const entry = this.findVersion(subject, version, { deleted: options.permanent === true })
      if (options.permanent && !entry.deleted) throw registryErrors.versionNotSoftDeleted(subject, entry.version)
      this.checkUnreferenced(subject, [entry])
      const versions = options.permanent
        ? record.versions.filter((v) => v !== entry)
        : record.versions.map((v) => (v === entry ? { ...v, deleted: true } : v))
      if (versions.length === 0) {
        await this.metadata.delete(KIND_SUBJECT, subject)
        this.subjects.delete(subject)
      } else {
        await this.metadata.put(KIND_SUBJECT, subject, { versions })
        this.subjects.set(subject, { versions })
      }
      if (options.permanent) await this.collect([entry.id])
      return entry.version
    })
  }

  /** Sets the global level (no subject) or a subject's level. */
  setCompatibility(level: CompatibilityLevel, subject?: string): Promise<CompatibilityLevel> {
    return this.exclusive(async () => {
      if (!compatibilityLevels.includes(level)) throw registryErrors.invalidLevel(level)
      if (subject === undefined) {
        const next = { ...this.global, compatibility: level }
        await this.metadata.put(KIND_GLOBAL, GLOBAL_NAME, next)
        this.global = next
      } else {
        checkSubject(subject)
        await this.metadata.put(KIND_CONFIG, subject, { compatibility: level })
        this.configs.set(subject, level)
      }
      return level
    })
  }

  /** Removes a subject's level (it falls back to global), or resets the global level to the default. */
  deleteCompatibility(subject?: string): Promise<CompatibilityLevel> {
    return this.exclusive(async () => {
      if (subject === undefined) {
        const previous = this.global.compatibility
        const next = { ...this.global, compatibility: DEFAULT_COMPATIBILITY }
        await this.metadata.put(KIND_GLOBAL, GLOBAL_NAME, next)
        this.global = next
        return previous
      }
      const previous = this.configs.get(subject)
      if (previous === undefined)
        throw new SchemaRegistryError(
          'SCHEMA_NOT_FOUND',
          40408,
          `Subject '${subject}' does not have subject-level compatibility configured`,
        )
      await this.metadata.delete(KIND_CONFIG, subject)
      this.configs.delete(subject)
      return previous
    })
  }

  // ---- records (see records.ts) ----

  /** A per-record check for a stream bound to `subject`; see subjectValidator. */
  validator(subject: string): (value: Buffer | null) => ValidationResult {
    return subjectValidator(this, subject)
  }

  /** Serializes `value` in Confluent wire format with the subject's latest schema or the given id. */
  encode(subjectOrId: string | number, value: unknown): Buffer {
    return encodeFramed(this, subjectOrId, value)
  }

  decode(buffer: Buffer): { id: number; schemaType: SchemaType; value: unknown } {
    return decodeFramed(this, buffer)
  }

  /** Changes whenever a mutation completes; lets record validators cache their view of a subject. */
  get revision(): number {
    return this.generation
  }

  /** The compiled schema of `id` (avsc type or ajv validator), compiled once and cached. */
  parsedSchema(id: number): ParsedSchema {
    let parsed = this.parsed.get(id)
    if (parsed === undefined) {
      const record = this.schemas.get(id)
      if (record === undefined) throw registryErrors.schemaNotFound(`id ${id}`)
      parsed = parseSchema(record.schemaType, record.schema, this.resolveReferences(record.references))
      this.parsed.set(id, parsed)
    }
    return parsed
  }

  // ---- internals ----

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn).finally(() => {
      this.generation++
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  private visibleVersions(subject: string, options: ReadOptions): VersionEntry[] {
    return this.subjects.get(subject)?.versions.filter((v) => options.deleted || !v.deleted) ?? []
  }

  private findVersion(subject: string, version: VersionSpec, options: ReadOptions): VersionEntry {
    const isLatest = version === 'latest' || version === -1
    if (!isLatest && !(Number.isInteger(version) && (version as number) >= 1 && (version as number) <= 0x7fffffff))
      throw registryErrors.invalidVersion(version)
    const versions = this.visibleVersions(subject, options)
    if (versions.length === 0) throw registryErrors.subjectNotFound(subject)
    const entry = isLatest ? versions.at(-1) : versions.find((v) => v.version === version)
    if (entry === undefined) throw registryErrors.versionNotFound(subject, version)
    return entry
  }

  private describe(subject: string, entry: VersionEntry): SubjectVersion {
    return { subject, id: entry.id, version: entry.version, ...this.getById(entry.id) }
  }

  /** Live versions, newest first, parsed: what compatibility is checked against. */
  private previousVersions(subject: string): Array<{ version: number; parsed: ParsedSchema }> {
    const live = this.visibleVersions(subject, {})
    return live.reverse().map((v) => ({ version: v.version, parsed: this.parsedSchema(v.id) }))
  }

  /** Validates and parses an input schema; the key identifies equal schemas across subjects. */
  private prepare(input: SchemaInput): { key: string; parsed: ParsedSchema; references: SchemaReference[] } {
    const schemaType = input.schemaType ?? 'AVRO'
    if (!schemaTypes.includes(schemaType))
      throw registryErrors.invalidSchema(`unsupported schema type '${String(schemaType)}'`)
    if (typeof input.schema !== 'string' || input.schema.length === 0)
      throw registryErrors.invalidSchema('empty schema')
    if (Buffer.byteLength(input.schema) > MAX_SCHEMA_BYTES)
      throw new WharfError('LIMIT_EXCEEDED', `schema exceeds ${MAX_SCHEMA_BYTES} bytes`)
    const references = (input.references ?? []).map((r) => ({ name: r.name, subject: r.subject, version: r.version }))
    if (references.length > MAX_REFERENCES)
      throw new WharfError('LIMIT_EXCEEDED', `more than ${MAX_REFERENCES} references`)
    const parsed = parseSchema(schemaType, input.schema, this.resolveReferences(references))
    const key = `${schemaType}\n${parsed.canonical}\n${JSON.stringify(references)}`
    return { key, parsed, references }
  }

  /** Flattens references depth-first (dependencies before dependants), each name once. */
  private resolveReferences(references: SchemaReference[]): ResolvedReference[] {
    const out: ResolvedReference[] = []
    const seen = new Set<string>()
    const visit = (refs: SchemaReference[], depth: number) => {
      if (depth > 32) throw registryErrors.invalidSchema('references nest deeper than 32 levels')
      for (const ref of refs) {
        if (typeof ref?.name !== 'string' || typeof ref.subject !== 'string' || !Number.isInteger(ref.version))
          throw registryErrors.invalidSchema('a reference needs name, subject and version')
        if (seen.has(ref.name)) continue
        seen.add(ref.name)
        const entry = this.subjects.get(ref.subject)?.versions.find((v) => v.version === ref.version)
        const record = entry === undefined ? undefined : this.schemas.get(entry.id)
        if (record === undefined)
          throw registryErrors.invalidSchema(
            `reference '${ref.name}' (${ref.subject} version ${ref.version}) not found`,
          )
        visit(record.references, depth + 1)
        out.push({ name: ref.name, schemaType: record.schemaType, schema: record.schema })
      }
    }
    visit(references, 0)
    return out
  }

  /** Confluent refuses to delete a version another schema names in its references. */
  private checkUnreferenced(subject: string, versions: VersionEntry[]): void {
    for (const record of this.schemas.values())
      for (const ref of record.references)
        if (ref.subject === subject && versions.some((v) => v.version === ref.version)) {
          // Only a schema still registered somewhere keeps the reference alive.
          if (this.isUsed(this.idsByKey.get(record.key))) throw registryErrors.referenceExists(subject, ref.version)
        }
  }

  private isUsed(id: number | undefined): boolean {
    if (id === undefined) return false
    for (const record of this.subjects.values()) if (record.versions.some((v) => v.id === id)) return true
    return false
  }

  /** Hard-deletes schemas that no version of any subject uses any more. */
  private async collect(ids: number[]): Promise<void> {
    for (const id of new Set(ids)) {
      const record = this.schemas.get(id)
      if (this.isUsed(id) || record === undefined) continue
      await this.metadata.delete(KIND_SCHEMA, String(id))
      this.schemas.delete(id)
      this.idsByKey.delete(record.key)
      this.parsed.delete(id)
    }
  }
}

function checkSubject(subject: string): void {
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH)
    throw new WharfError('INVALID_ARGUMENT', `subject must be 1..${MAX_SUBJECT_LENGTH} characters`)
}
