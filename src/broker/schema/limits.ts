// What the registry accepts before it parses a schema: its size and how deeply its JSON nests. Parsers,
// compilers and the compatibility checker all recurse per nesting level, so depth is checked on the raw
// text, iteratively, before any of them runs.
import { registryErrors } from './types.js'

export interface SchemaLimits {
  /** Most UTF-8 bytes in one schema text. */
  bytesMax: number
  /** Most nested JSON objects and arrays in one schema text. */
  depthMax: number
}

export const schemaBytesMaxDefault = 1024 * 1024
/** Deep enough for real schemas (a record nested 30 levels is ~90 JSON levels), far from the stack's limit. */
export const schemaDepthMaxDefault = 128

export const defaultSchemaLimits: SchemaLimits = Object.freeze({
  bytesMax: schemaBytesMaxDefault,
  depthMax: schemaDepthMaxDefault,
})

const quote = 34
const backslash = 92
const openBrace = 123
const openBracket = 91
const closeBrace = 125
const closeBracket = 93

/** Deepest nesting of objects and arrays in JSON text (strings skipped); stops counting past max. */
export function jsonDepth(text: string, max: number): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (inString) {
      if (code === backslash) i++
      else if (code === quote) inString = false
    } else if (code === quote) inString = true
    else if (code === openBrace || code === openBracket) {
      depth++
      if (depth > deepest) {
        deepest = depth
        if (deepest > max) return deepest
      }
    } else if (code === closeBrace || code === closeBracket) depth--
  }
  return deepest
}

/** Throws LIMIT_EXCEEDED with Confluent's invalid-schema code (42201) when text breaks a limit. */
export function checkSchemaText(text: string, limits: SchemaLimits): void {
  const bytes = Buffer.byteLength(text)
  if (bytes > limits.bytesMax)
    throw registryErrors.schemaTooLarge(`the schema is ${bytes} bytes, more than the limit of ${limits.bytesMax}`)
  if (jsonDepth(text, limits.depthMax) > limits.depthMax)
    throw registryErrors.schemaTooLarge(`the schema nests deeper than the limit of ${limits.depthMax} levels`)
}
