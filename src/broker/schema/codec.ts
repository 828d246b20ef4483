// Value checks and conversions against one parsed schema. These run per record on the append path, so
// they allocate as little as they can: the OK result is a shared constant and Avro is decoded in place.
import { WharfError } from '../../util/errors.js'
import type { ParsedSchema } from './parse.js'
import type { ValidationResult } from './types.js'
import { HEADER_SIZE } from './wire.js'

export const OK: ValidationResult = Object.freeze({ ok: true }) as ValidationResult

export function fail(reason: string): ValidationResult {
  return { ok: false, reason }
}

/** Checks the payload that follows the 5-byte header of `value` against `parsed`. */
export function checkPayload(parsed: ParsedSchema, value: Buffer): ValidationResult {
  if (parsed.schemaType === 'AVRO') {
    try {
      const { offset } = parsed.type.decode(value, HEADER_SIZE)
      if (offset < 0) return fail('Avro payload is truncated')
      if (offset !== value.length) return fail(`Avro payload has ${value.length - offset} trailing bytes`)
      return OK
    } catch (error) {
      return fail(`Avro payload is malformed: ${(error as Error).message}`)
    }
  }
  return checkJsonText(parsed, value.toString('utf8', HEADER_SIZE))
}

/**
 * Runs the compiled validator. A schema stored before cycles were refused at registration can still
 * recurse without end; that is the schema's fault, so it fails the record rather than the request.
 */
function validates(parsed: ParsedSchema & { schemaType: 'JSON' }, doc: unknown): boolean {
  try {
    return parsed.validate(doc)
  } catch (error) {
    if (!(error instanceof RangeError)) throw error
    parsed.validate.errors = [
      { instancePath: '', schemaPath: '#', keyword: '$ref', params: {}, message: 'schema recursion has no end' },
    ]
    return false
  }
}

/** Parses and validates JSON text against a JSON Schema. */
export function checkJsonText(parsed: ParsedSchema, text: string): ValidationResult {
  if (parsed.schemaType !== 'JSON') return fail('the schema is not a JSON Schema')
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    return fail(`payload is not valid JSON: ${(error as Error).message}`)
  }
  if (validates(parsed, doc)) return OK
  const first = parsed.validate.errors?.[0]
  return fail(
    first === undefined
      ? 'JSON does not match the schema'
      : `${first.instancePath || '/'} ${first.message ?? 'is invalid'}`,
  )
}

/** Serializes a value (avsc's JS representation for Avro, any JSON value for JSON Schema). */
export function encodePayload(parsed: ParsedSchema, value: unknown): Buffer {
  if (parsed.schemaType === 'AVRO') {
    const paths: string[] = []
    const valid = parsed.type.isValid(value, {
      errorHook: (path: string[]) => {
        if (paths.length === 0) paths.push(path.join('.') || '<root>')
      },
    })
    if (!valid)
      throw new WharfError('SCHEMA_VIOLATION', `value does not match the Avro schema at ${paths[0] ?? '<root>'}`)
    return parsed.type.toBuffer(value)
  }
  if (!validates(parsed, value)) {
    const first = parsed.validate.errors?.[0]
    throw new WharfError(
      'SCHEMA_VIOLATION',
      `value does not match the JSON Schema: ${first?.instancePath || '/'} ${first?.message ?? ''}`,
    )
  }
  const text = JSON.stringify(value)
  if (text === undefined) throw new WharfError('SCHEMA_VIOLATION', 'value is not representable as JSON')
  return Buffer.from(text, 'utf8')
}

/** Decodes the payload after the header; the whole payload must be consumed. */
export function decodePayload(parsed: ParsedSchema, value: Buffer): unknown {
  if (parsed.schemaType === 'AVRO') {
    let decoded: { value: unknown; offset: number }
    try {
      decoded = parsed.type.decode(value, HEADER_SIZE)
    } catch (error) {
      throw new WharfError('SCHEMA_VIOLATION', `Avro payload is malformed: ${(error as Error).message}`, {
        cause: error,
      })
    }
    if (decoded.offset !== value.length)
      throw new WharfError('SCHEMA_VIOLATION', 'Avro payload is truncated or has trailing bytes')
    return decoded.value
  }
  try {
    return JSON.parse(value.toString('utf8', HEADER_SIZE))
  } catch (error) {
    throw new WharfError('SCHEMA_VIOLATION', `payload is not valid JSON: ${(error as Error).message}`, { cause: error })
  }
}
