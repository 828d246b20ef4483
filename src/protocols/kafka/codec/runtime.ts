// Small helpers the generated code calls; kept out of generated/ so they are reviewed and linted.
import { WharfError } from '../../../util/errors.js'

/** Shared defaults: never mutated (decoded bytes are fresh subarrays, so nobody writes into these). */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0)
export const ZERO_UUID: Buffer = Buffer.alloc(16)

export function isZeroUuid(value: Buffer): boolean {
  for (let i = 0; i < value.length; i++) if (value[i] !== 0) return false
  return true
}

export function checkVersion(message: string, version: number, min: number, max: number): void {
  if (!(version >= min && version <= max)) {
    throw new WharfError('INVALID_ARGUMENT', `kafka: ${message} has no version ${version} (valid ${min}-${max})`)
  }
}

/** A non-ignorable field holds a non-default value that the chosen version cannot carry. */
export function unsupportedField(field: string, version: number): WharfError {
  return new WharfError('INVALID_ARGUMENT', `kafka: ${field} cannot be sent in version ${version}`)
}

export function nullNotAllowed(field: string, version: number): WharfError {
  return new WharfError('INVALID_ARGUMENT', `kafka: ${field} is not nullable in version ${version}`)
}
