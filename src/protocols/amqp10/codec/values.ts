// The AMQP 1.0 type system (Part 1 of the standard): the value model the decoder (decoder.ts) produces and the
// encoder (encoder.ts) writes. Types a JS value carries by itself (null, boolean, string, Buffer for binary, an
// array for a list) stay plain; every other scalar is a Typed, and maps, arrays and described values have their
// classes, so a decoded value encodes back to the same types.
import type { PrimitiveType } from './generated/encodings.js'

export type { PrimitiveType }

export class Amqp10DecodeError extends Error {
  readonly condition = 'amqp:decode-error'
}

/** A scalar whose AMQP type a JS value cannot carry by itself (every number type, symbol, char, timestamp...). */
export class Typed {
  constructor(
    readonly type: TypedType,
    readonly value: number | bigint | string | Buffer,
  ) {}
}

export type TypedType = Exclude<PrimitiveType, 'null' | 'boolean' | 'string' | 'binary' | 'list' | 'map' | 'array'>

/** A map, with its keys in wire order (keys may be any value: symbols, strings, ulongs). */
export class AmqpMap {
  constructor(readonly entries: Array<[Value, Value]>) {}

  /** The value under a string or symbol key (the first one), or undefined. */
  get(key: string): Value | undefined {
    for (const [k, v] of this.entries) if (keyText(k) === key) return v
    return undefined
  }
}

/** An array: one element type for all elements (described arrays carry the descriptor too). */
export class AmqpArray {
  constructor(
    readonly elementType: PrimitiveType,
    readonly items: Value[],
    readonly descriptor?: Value,
  ) {}
}

export class Described {
  constructor(
    readonly descriptor: Value,
    readonly value: Value,
  ) {}
}

/** null, boolean, string (AMQP string), Buffer (binary), list (JS array) or one of the classes above. */
export type Value = null | boolean | string | Buffer | Typed | Value[] | AmqpMap | AmqpArray | Described

export function symbol(text: string): Typed {
  return new Typed('symbol', text)
}

export function ulong(n: number | bigint): Typed {
  return new Typed('ulong', BigInt(n))
}

export function uint(n: number): Typed {
  return new Typed('uint', n)
}

/** The text of a string or symbol key; undefined for other keys. */
export function keyText(key: Value): string | undefined {
  if (typeof key === 'string') return key
  if (key instanceof Typed && key.type === 'symbol') return key.value as string
  return undefined
}
