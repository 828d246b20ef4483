// Shared types of the schema store. The shapes follow the Confluent Schema Registry REST API so that the
// HTTP adapter can pass them through nearly unchanged.
import { type ErrorCode, WharfError } from '../../util/errors.js'

export type SchemaType = 'AVRO' | 'JSON'
export const schemaTypes: readonly SchemaType[] = ['AVRO', 'JSON']

export type CompatibilityLevel =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE'

export const compatibilityLevels: readonly CompatibilityLevel[] = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
]

/** A named dependency on another registered schema (Confluent `references`). */
export interface SchemaReference {
  /** Avro: the fully qualified type name it defines; JSON Schema: the `$ref` URI that points at it. */
  name: string
  subject: string
  version: number
}

export interface SchemaInput {
  schema: string
  /** Absent means AVRO, as in Confluent. */
  schemaType?: SchemaType
  references?: SchemaReference[]
}

export interface SchemaById {
  schema: string
  schemaType: SchemaType
  references: SchemaReference[]
}

export interface SubjectVersion extends SchemaById {
  subject: string
  id: number
  version: number
}

export type VersionSpec = number | 'latest'

export type ValidationResult = { ok: true } | { ok: false; reason: string }

/**
 * Confluent's numeric `error_code` travels with the stable Wharf code, so the HTTP registry can answer
 * exactly what Confluent clients expect (40401 subject, 40402 version, 40403 schema not found, ...).
 */
export class SchemaRegistryError extends WharfError {
  readonly registryCode: number

  constructor(code: ErrorCode, registryCode: number, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.registryCode = registryCode
  }
}

export const registryErrors = {
  subjectNotFound: (subject: string) =>
    new SchemaRegistryError('SCHEMA_NOT_FOUND', 40401, `Subject '${subject}' not found.`),
  versionNotFound: (subject: string, version: VersionSpec) =>
    new SchemaRegistryError('SCHEMA_NOT_FOUND', 40402, `Version ${version} not found for subject '${subject}'.`),
  schemaNotFound: (what: string) => new SchemaRegistryError('SCHEMA_NOT_FOUND', 40403, `Schema not found: ${what}`),
  subjectSoftDeleted: (subject: string) =>
    new SchemaRegistryError('SCHEMA_NOT_FOUND', 40404, `Subject '${subject}' was soft deleted.`),
  versionSoftDeleted: (subject: string, version: number) =>
    new SchemaRegistryError('SCHEMA_NOT_FOUND', 40406, `Subject '${subject}' Version ${version} was soft deleted.`),
  referenceExists: (subject: string, version: number) =>
    new SchemaRegistryError(
      'PRECONDITION_FAILED',
      42206,
      `One or more references exist to the schema {subject=${subject}, version=${version}}`,
    ),
  subjectNotSoftDeleted: (subject: string) =>
    new SchemaRegistryError(
      'PRECONDITION_FAILED',
      40405,
      `Subject '${subject}' was not deleted first before being permanently deleted`,
    ),
  versionNotSoftDeleted: (subject: string, version: number) =>
    new SchemaRegistryError(
      'PRECONDITION_FAILED',
      40407,
      `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`,
    ),
  incompatible: (messages: string[]) =>
    new SchemaRegistryError(
      'SCHEMA_INCOMPATIBLE',
      40901,
      `Schema being registered is incompatible with an earlier schema: ${messages.join('; ')}`,
    ),
  /** A schema past a configured bound: a limit, answered as Confluent answers an invalid schema. */
  schemaTooLarge: (message: string) => new SchemaRegistryError('LIMIT_EXCEEDED', 42201, `Invalid schema: ${message}`),
  invalidSchema: (message: string, cause?: unknown) =>
    new SchemaRegistryError('INVALID_SCHEMA', 42201, `Invalid schema: ${message}`, { cause }),
  invalidVersion: (version: unknown) =>
    new SchemaRegistryError('INVALID_ARGUMENT', 42202, `The specified version '${String(version)}' is not valid`),
  invalidLevel: (level: unknown) =>
    new SchemaRegistryError('INVALID_CONFIG', 42203, `Invalid compatibility level: ${String(level)}`),
}
