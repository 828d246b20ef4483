// The broker's schema store: Confluent Schema Registry semantics (subjects, versions, global ids,
// compatibility levels) for Avro and JSON Schema, plus per-record validation for streams bound to a
// subject. Protocol-free: the HTTP registry and the append path both call into it.

export { DEFAULT_COMPATIBILITY, MAX_SUBJECT_LENGTH } from './catalog.js'
export {
  defaultSchemaLimits,
  type SchemaLimits,
  schemaBytesMaxDefault,
  schemaDepthMaxDefault,
} from './limits.js'
export { canonicalJson } from './parse.js'
export { MAX_REFERENCES } from './references.js'
export type { CompatibilityResult, DeleteOptions, ReadOptions } from './store.js'
export { SchemaStore } from './store.js'
export {
  type CompatibilityLevel,
  compatibilityLevels,
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
export { frame, frameId, HEADER_SIZE, MAGIC_BYTE } from './wire.js'
