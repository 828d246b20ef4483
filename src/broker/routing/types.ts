// Router vocabulary (exchanges, bindings, destinations), RabbitMQ-style error texts, and the codec that
// turns AMQP argument tables into catalog JSON and back. Arguments hold AMQP field values (bigint for
// int64, Buffer for byte strings, Date for timestamps, nested tables), none of which JSON keeps, so the
// catalog form tags them; the same tagged form, with sorted keys and numbers normalized by value, is
// the identity of a binding's arguments (amqplib may send 1 as int8 today and int32 tomorrow).
import { WharfError } from '../../util/errors.js'

export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers'
export const exchangeTypes: readonly ExchangeType[] = ['direct', 'fanout', 'topic', 'headers']

export interface ExchangeDef {
  name: string
  type: ExchangeType
  durable: boolean
  autoDelete: boolean
  internal: boolean
  /** Where a publish goes when this exchange's bindings match nothing (the `alternate-exchange` argument). */
  alternateExchange?: string
  arguments: Record<string, unknown>
}

export type LeafDestination = { kind: 'queue' | 'stream'; name: string } | { kind: 'sink'; id: string }
export type Destination = LeafDestination | { kind: 'exchange'; name: string }

export interface BindingDef {
  source: string
  destination: Destination
  key: string
  arguments: Record<string, unknown>
  /** 'amqp' (the source exchange's own semantics, the default) or 'mqtt' (an MQTT topic filter on a topic exchange). */
  syntax?: 'amqp' | 'mqtt'
  /**
   * Whether the binding survives a restart. Defaults to the source's durability; it is never persisted
   * when the source (or a destination exchange) is transient or the destination is a sink.
   */
  durable?: boolean
}

export interface RouteResult {
  /** Deduplicated leaf destinations. The objects are shared by the router: do not mutate them. */
  destinations: LeafDestination[]
  /** True when the publish reached no destination (AMQP mandatory → basic.return 312 NO_ROUTE). */
  unroutable: boolean
}

/** The subset of the storage MetadataStore the router needs (kinds 'exchange', 'binding', 'sns-*'). */
export interface RouterCatalog {
  put(kind: string, name: string, value: unknown): Promise<void>
  delete(kind: string, name: string): Promise<void>
  list<T = unknown>(kind: string): Array<[string, T]>
}

/** AMQP shortstr bound on exchange names and binding keys of the AMQP syntax. */
export const exchangeNameBytesMax = 255

const vhost = "in vhost '/'"

export function exchangeNotFound(name: string): WharfError {
  return new WharfError('EXCHANGE_NOT_FOUND', `NOT_FOUND - no exchange '${name}' ${vhost}`)
}

/** ACCESS_REFUSED has no WharfError code; adapters map it by the reply-text prefix. */
export function accessRefused(text: string): WharfError {
  return new WharfError('INVALID_ARGUMENT', `ACCESS_REFUSED - ${text}`)
}

export function preconditionFailed(text: string): WharfError {
  return new WharfError('PRECONDITION_FAILED', `PRECONDITION_FAILED - ${text}`)
}

export function defaultExchangeRefused(): WharfError {
  return accessRefused('operation not permitted on the default exchange')
}

export function describeExchange(name: string): string {
  return `exchange '${name}' ${vhost}`
}

// ---- argument codec ----

type Encoded = string | number | boolean | null | Encoded[] | { [tag: string]: unknown }

/** Catalog form of an AMQP field value: every non-JSON value and every table is a one-key tagged object. */
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

/** Short human text of an argument value for inequivalence messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'none'
  const type =
    typeof value === 'bigint'
      ? 'long'
      : typeof value === 'number'
        ? Number.isInteger(value)
          ? 'long'
          : 'double'
        : typeof value === 'string' || value instanceof Uint8Array
          ? 'longstr'
          : typeof value === 'boolean'
            ? 'bool'
            : Array.isArray(value)
              ? 'array'
              : value instanceof Date
                ? 'timestamp'
                : value === null
                  ? 'void'
                  : 'table'
  const text = value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : canonicalValue(value)
  return `the value '${typeof value === 'string' ? value : text}' of type '${type}'`
}

export function destinationKey(destination: Destination): string {
  return destination.kind === 'sink' ? `sink:${destination.id}` : `${destination.kind}:${destination.name}`
}

/** A validated, frozen copy of a destination (callers may reuse their own objects). */
export function copyDestination(destination: Destination): Destination {
  switch (destination?.kind) {
    case 'queue':
    case 'stream':
    case 'exchange':
      if (typeof destination.name !== 'string') break
      return Object.freeze({ kind: destination.kind, name: destination.name })
    case 'sink':
      if (typeof destination.id !== 'string') break
      return Object.freeze({ kind: 'sink', id: destination.id })
  }
  throw new WharfError('INVALID_ARGUMENT', 'destination must be a queue, stream, exchange or sink')
}
