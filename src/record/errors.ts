// Error constructors for the record layer: every malformed input becomes a WharfError with a stable code.
import { WharfError } from '../util/errors.js'

export function corrupt(message: string, cause?: unknown): WharfError {
  return new WharfError('CORRUPT_RECORD', message, cause === undefined ? undefined : { cause })
}

export function tooLarge(message: string): WharfError {
  return new WharfError('RECORD_TOO_LARGE', message)
}

export function unsupportedCompression(codec: number): WharfError {
  return new WharfError('UNSUPPORTED_COMPRESSION', `compression codec ${codec} is not supported`)
}

export function invalidArgument(message: string): WharfError {
  return new WharfError('INVALID_ARGUMENT', message)
}
