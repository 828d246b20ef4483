// Typed argument values (exchange and binding arguments): bigint for 64-bit integers, Buffer for byte
// strings, Date for timestamps, nested tables. JSON keeps none of these, so the catalog form tags them;
// the canonical text (sorted keys, numbers by value) is the identity of a binding's arguments, since a
// client may send 1 as an 8-bit integer today and a 32-bit one tomorrow.
import { WharfError } from '../../util/errors.js'

type Encoded = string | number | boolean | null | Encoded[] | { [tag: string]: unknown }

/** Catalog form of a typed argument value: every non-JSON value and every table is a one-key tagged object. */
export function encodeValue(value: unknown): Encoded {
  if (value === undefined || value === null) return null
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $num: String(value) }
  if (typeof value === 'bigint') return { $bigint: value.toString() }
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') }
  if (value instanceof Date) return { $date: value.getTime() }
  if (Array.isArray(value)) return value.map(encodeValue)
  if (typeof value === 'object') return { $table: encodeTable(value as Record<string, unknown>) }
  throw new WharfError('INVALID_ARGUMENT', `unsupported argument value of type ${typeof value}`)
}

export function encodeTable(table: Record<string, unknown>): Record<string, Encoded> {
  const out: Record<string, Encoded> = {}
  for (const key of Object.keys(table)) out[key] = encodeValue(table[key])
  return out
}

function malformed(): never {
  throw new WharfError('STORE_CORRUPT', 'router catalog entry holds a malformed argument value')
}

export function decodeValue(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number')
    return value
  if (Array.isArray(value)) return value.map(decodeValue)
  if (typeof value !== 'object') return malformed()
  const tagged = value as Record<string, unknown>
  if (typeof tagged.$bigint === 'string') return BigInt(tagged.$bigint)
  if (typeof tagged.$bytes === 'string') return Buffer.from(tagged.$bytes, 'base64')
  if (typeof tagged.$date === 'number') return new Date(tagged.$date)
  if (typeof tagged.$num === 'string') return Number(tagged.$num)
  if (typeof tagged.$table === 'object' && tagged.$table !== null) return decodeTable(tagged.$table)
  return malformed()
}

export function decodeTable(table: unknown): Record<string, unknown> {
  if (typeof table !== 'object' || table === null || Array.isArray(table)) return malformed()
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(table)) out[key] = decodeValue(value)
  return out
}

/** Canonical text of a value: sorted keys, integral bigints in the safe range written as numbers. */
export function canonicalValue(value: unknown): string {
  if (typeof value === 'bigint') {
    const asNumber = Number(value)
    return Number.isSafeInteger(asNumber) ? String(asNumber) : `${value}n`
  }
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : `${value}`
  if (value === undefined || value === null) return 'null'
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value)
  if (value instanceof Uint8Array) return `b${Buffer.from(value).toString('base64')}`
  if (value instanceof Date) return `d${value.getTime()}`
  if (Array.isArray(value)) return `[${value.map(canonicalValue).join(',')}]`
  const table = value as Record<string, unknown>
  const keys = Object.keys(table).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalValue(table[k])}`).join(',')}}`
}
