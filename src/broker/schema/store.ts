// The schema store: Confluent Schema Registry semantics over the broker catalog (MetadataStore).
// Everything lives in memory after open(); mutations run one at a time and reach memory only after the
// catalog has accepted them, so a failed write never leaves memory ahead of disk.
import type { MetadataStore } from '../../storage/api.js'
import {
  checkSubject,
  DEFAULT_COMPATIBILITY,
  GLOBAL_NAME,
  type GlobalRecord,
  KIND_CONFIG,
  KIND_GLOBAL,
  KIND_SCHEMA,
  KIND_SUBJECT,
  type Loaded,
  load,
  type SchemaRecord,
  type SubjectRecord,
  takeSchemaId,
  type VersionEntry,
} from './catalog.js'
import { checkLevel, directionsOf, pairMessages } from './compat.js'
import { defaultSchemaLimits, type SchemaLimits } from './limits.js'
import { type ParsedSchema, parseSchema } from './parse.js'
import { decodeFramed, encodeFramed, subjectValidator } from './records.js'
import { prepare, resolveReferences, type SchemaAt } from './references.js'
import {
  type CompatibilityLevel,
  compatibilityLevels,
  registryErrors,
  type SchemaById,
  type SchemaInput,
  SchemaRegistryError,
  type SchemaType,
  type SubjectVersion,
  type ValidationResult,
  type VersionSpec,
} from './types.js'

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
  private schemas: Map<number, SchemaRecord>
  private idsByKey: Map<string, number>
  private subjects: Map<string, SubjectRecord>
  private configs: Map<string, CompatibilityLevel>
  private global: GlobalRecord
  private readonly parsed = new Map<number, ParsedSchema>()
  private queue: Promise<unknown> = Promise.resolve()
  /** Bumped on every mutation; validators rebuild their per-subject view when it changes. */
  private generation = 0
  /** What reference resolution reads: built once, since the maps it closes over never change identity. */
  private readonly schemaAt: SchemaAt = (subject, version) => {
    const entry = this.subjects.get(subject)?.versions.find((v) => v.version === version)
    return entry === undefined ? undefined : this.schemas.get(entry.id)
  }

  private constructor(
    private readonly metadata: MetadataStore,
    loaded: Loaded,
    /** Size and nesting bounds of schemas registered from now on (stored ones load as they are). */
    private readonly limits: SchemaLimits,
  ) {
    this.schemas = loaded.schemas
    this.idsByKey = loaded.idsByKey
    this.subjects = loaded.subjects
    this.configs = loaded.configs
    this.global = loaded.global
  }

  static async open(metadata: MetadataStore, limits: Partial<SchemaLimits> = {}): Promise<SchemaStore> {
    return new SchemaStore(metadata, load(metadata), { ...defaultSchemaLimits, ...limits })
  }

  /** Reads the registry from the catalog again (another broker sharing it changed it), in turn with writes. */
  reload(): Promise<void> {
    return this.exclusive(async () => {
      const loaded = load(this.metadata)
      ;({ schemas: this.schemas, idsByKey: this.idsByKey, subjects: this.subjects } = loaded)
      ;({ configs: this.configs, global: this.global } = loaded)
      // An id names one schema for good (ids are never reused), so what is compiled stays valid while it exists.
      for (const id of this.parsed.keys()) if (!this.schemas.has(id)) this.parsed.delete(id)
    })
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
    const { key } = prepare(input, this.schemaAt, this.limits)
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
    const candidate = prepare(input, this.schemaAt, this.limits).parsed
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
      const { key, parsed, references } = prepare(input, this.schemaAt, this.limits)
      const record = this.subjects.get(subject)
      const existingId = this.idsByKey.get(key)
      const live = record?.versions.filter((v) => !v.deleted) ?? []
      const same = existingId === undefined ? undefined : live.findLast((v) => v.id === existingId)
      if (same !== undefined) return { id: same.id, version: same.version }

      const messages = checkLevel(this.effectiveCompatibility(subject), parsed, this.previousVersions(subject))
      if (messages.length > 0) throw registryErrors.incompatible(messages)

      const id = existingId ?? (await takeSchemaId(this.metadata, this.global, this.schemas))
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
      parsed = parseSchema(record.schemaType, record.schema, resolveReferences(record.references, this.schemaAt))
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
