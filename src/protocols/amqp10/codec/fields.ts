// Field converters of the generated composites (generated/types.ts): reading one decoded value as a
// field's declared type, and writing a field back as a typed value. A field of the wrong type is a decode
// error naming the field (a peer must send the types the standard declares); an absent field is null on the
// wire and undefined here.
import {
  Amqp10DecodeError,
  AmqpArray,
  AmqpMap,
  Described,
  type PrimitiveType,
  Typed,
  type TypedType,
  type Value,
} from './values.js'

type Read<T> = (value: Value | undefined, field: string) => T | undefined

function wrong(field: string, expected: string, value: Value): Amqp10DecodeError {
  const got = value instanceof Typed ? value.type : Array.isArray(value) ? 'list' : typeof value
  return new Amqp10DecodeError(`${field}: expected ${expected}, got ${got}`)
}

/** The list of a composite's fields (a described list); more fields than declared are allowed (forward compatible). */
export function fieldsOf(value: Value, kind: string): Value[] {
  if (!Array.isArray(value)) throw new Amqp10DecodeError(`${kind}: expected a list of fields`)
  return value
}

export function mandatory<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new Amqp10DecodeError(`${field} is mandatory`)
  return value
}

export const boolean: Read<boolean> = (v, field) => {
  if (v === null || v === undefined) return undefined
  if (typeof v !== 'boolean') throw wrong(field, 'boolean', v)
  return v
}

function number(type: PrimitiveType): Read<number> {
  return (v, field) => {
    if (v === null || v === undefined) return undefined
    if (!(v instanceof Typed) || v.type !== type) throw wrong(field, type, v)
    return v.value as number
  }
}

function bigint(type: PrimitiveType): Read<bigint> {
  return (v, field) => {
    if (v === null || v === undefined) return undefined
    if (!(v instanceof Typed) || v.type !== type) throw wrong(field, type, v)
    return v.value as bigint
  }
}

function raw(type: PrimitiveType): Read<Buffer> {
  return (v, field) => {
    if (v === null || v === undefined) return undefined
    if (!(v instanceof Typed) || v.type !== type) throw wrong(field, type, v)
    return v.value as Buffer
  }
}

/** One reader per type, built once (the generated decoders run for every frame). */
export const numbers = {
  ubyte: number('ubyte'),
  ushort: number('ushort'),
  uint: number('uint'),
  byte: number('byte'),
  short: number('short'),
  int: number('int'),
  float: number('float'),
  double: number('double'),
  char: number('char'),
  timestamp: number('timestamp'),
}
export const bigints = { ulong: bigint('ulong'), long: bigint('long') }
export const raws = {
  uuid: raw('uuid'),
  decimal32: raw('decimal32'),
  decimal64: raw('decimal64'),
  decimal128: raw('decimal128'),
}

export const binary: Read<Buffer> = (v, field) => {
  if (v === null || v === undefined) return undefined
  if (!Buffer.isBuffer(v)) throw wrong(field, 'binary', v)
  return v
}

export const string: Read<string> = (v, field) => {
  if (v === null || v === undefined) return undefined
  if (typeof v !== 'string') throw wrong(field, 'string', v)
  return v
}

export const symbol: Read<string> = (v, field) => {
  if (v === null || v === undefined) return undefined
  if (!(v instanceof Typed) || v.type !== 'symbol') throw wrong(field, 'symbol', v)
  return v.value as string
}

export const map: Read<AmqpMap> = (v, field) => {
  if (v === null || v === undefined) return undefined
  if (!(v instanceof AmqpMap)) throw wrong(field, 'map', v)
  return v
}

export const list: Read<Value[]> = (v, field) => {
  if (v === null || v === undefined) return undefined
  if (!Array.isArray(v)) throw wrong(field, 'list', v)
  return v
}

export const array: Read<AmqpArray> = (v, field) => {
  if (v === null || v === undefined) return undefined
  if (!(v instanceof AmqpArray)) throw wrong(field, 'array', v)
  return v
}

/** What this module knows of a generated composite (generated/types.ts imports this module, not the reverse). */
interface Kinded {
  readonly kind: string
}

let decodeDescribed: ((d: Described) => Kinded | Described) | undefined

/** Set once by generated/types.ts, which owns the descriptor table (this module cannot import it back). */
export function registerDecoder(decode: (d: Described) => Kinded | Described): void {
  decodeDescribed = decode
}

/** A field of any type: described values become the composite they name (C: the generated Composite union). */
export function any<C extends Kinded>(v: Value | undefined, _field: string): Value | C | undefined {
  if (v === null || v === undefined) return undefined
  return v instanceof Described ? (decodeDescribed!(v) as C | Described) : v
}

export function composite<T extends Kinded>(kind: T['kind']): Read<T> {
  return (v, field) => {
    if (v === null || v === undefined) return undefined
    if (!(v instanceof Described)) throw wrong(field, kind, v)
    const c = decodeDescribed!(v)
    if (c instanceof Described || c.kind !== kind) throw new Amqp10DecodeError(`${field}: expected ${kind}`)
    return c as T
  }
}

/** A multiple field: one value or an array of them. */
export function multiple<T>(read: Read<T>, v: Value | undefined, field: string): T[] | undefined {
  if (v === null || v === undefined) return undefined
  if (v instanceof AmqpArray) return v.items.map((item) => read(item, field) as T)
  const one = read(v, field)
  return one === undefined ? undefined : [one]
}

/** A descriptor as a ulong code or a symbolic name. */
export function descriptorKey(descriptor: Value): bigint | string | undefined {
  if (descriptor instanceof Typed) {
    if (descriptor.type === 'ulong') return descriptor.value as bigint
    if (descriptor.type === 'symbol') return descriptor.value as string
  }
  return undefined
}

// Writers: field value (as the generated interfaces hold it) → wire value.

export function descriptor(code: bigint): Typed {
  return new Typed('ulong', code)
}

/** Values whose JS form already says their AMQP type (boolean, string, Buffer, list, map, array). */
export function plain(v: unknown): Value {
  return v === undefined ? null : (v as Value)
}

export function typed(type: PrimitiveType): (v: unknown) => Value {
  return (v) =>
    v === undefined || v === null ? null : new Typed(type as TypedType, v as number | bigint | string | Buffer)
}

/** A field of any type: composites are encoded as described values. */
export function anyValue(v: unknown): Value {
  if (v === undefined || v === null) return null
  if (typeof v === 'object' && v !== null && 'kind' in v) return encodeComposite!(v as Kinded)
  return v as Value
}

let encodeComposite: ((c: Kinded) => Described) | undefined

export function registerEncoder(encode: (c: never) => Described): void {
  encodeComposite = encode as (c: Kinded) => Described
}

export function compositeValue(v: unknown): Value {
  return v === undefined || v === null ? null : encodeComposite!(v as Kinded)
}

/** A multiple field is written as an array (of the element type of its first element) or left out. */
export function multipleOf(write: (v: unknown) => Value, v: unknown): Value {
  if (v === undefined || v === null) return null
  const items = (v as unknown[]).map(write)
  const first = items[0]
  const type: PrimitiveType = first instanceof Typed ? first.type : typeof first === 'string' ? 'string' : 'null'
  return new AmqpArray(type, items)
}

/** Trailing absent fields are not sent (the standard's encoding of a composite's list). */
export function trim(items: Value[]): Value[] {
  let n = items.length
  while (n > 0 && items[n - 1] === null) n--
  return n === items.length ? items : items.slice(0, n)
}
