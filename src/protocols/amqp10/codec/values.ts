// The AMQP 1.0 type system (Part 1 of the standard): the value model and its encoder and decoder. Which
// constructor byte means which type, and how wide it is, comes from the generated ENCODINGS table (written
// from types.bare.xml); this file holds only what the XML cannot say — how each category is laid out.
// Decoding is bounded: every length is checked against the bytes that are there before anything is
// allocated, nesting is capped, and any violation is an Amqp10DecodeError (the connection answers it with
// amqp:decode-error), never a RangeError.
import { ENCODINGS, type PrimitiveType } from './generated/encodings.js'

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

export interface DecodeLimits {
  /** Deepest nesting of lists, maps, arrays and described values. */
  depthMax: number
}

const DEFAULT_LIMITS: DecodeLimits = { depthMax: 64 }
/** Array elements that take no bytes each (null, true, list0) could claim billions for free: bounded apart. */
const ZERO_WIDTH_ELEMENTS_MAX = 65_536

export class Decoder {
  pos: number
  #depth = 0

  constructor(
    readonly buf: Buffer,
    pos = 0,
    public end = buf.length,
    readonly limits: DecodeLimits = DEFAULT_LIMITS,
  ) {
    this.pos = pos
  }

  get remaining(): number {
    return this.end - this.pos
  }

  #need(bytes: number, what: string): void {
    if (this.end - this.pos < bytes)
      throw new Amqp10DecodeError(`${what}: need ${bytes} bytes, have ${this.end - this.pos}`)
  }

  /** One value, its constructor included. */
  value(): Value {
    this.#need(1, 'constructor')
    const code = this.buf[this.pos++]!
    if (code === 0x00) {
      if (++this.#depth > this.limits.depthMax) throw new Amqp10DecodeError('values nested too deeply')
      const descriptor = this.value()
      const value = this.value()
      this.#depth--
      return new Described(descriptor, value)
    }
    return this.#body(code)
  }

  #body(code: number): Value {
    const encoding = ENCODINGS[code]
    if (encoding === undefined)
      throw new Amqp10DecodeError(`unknown constructor 0x${code.toString(16).padStart(2, '0')}`)
    const { type, category, width } = encoding
    switch (category) {
      case 'fixed':
        return this.#fixed(code, type, width)
      case 'variable': {
        const size = this.#size(width)
        this.#need(size, type)
        const start = this.pos
        this.pos += size
        if (type === 'binary') return this.buf.subarray(start, start + size)
        const text = this.buf.toString('utf8', start, start + size)
        return type === 'symbol' ? new Typed('symbol', text) : text
      }
      case 'compound':
        return this.#compound(type, width)
      default:
        return this.#array(width)
    }
  }

  #size(width: number): number {
    this.#need(width, 'size')
    const size = width === 1 ? this.buf[this.pos]! : this.buf.readUInt32BE(this.pos)
    this.pos += width
    return size
  }

  #fixed(code: number, type: PrimitiveType, width: number): Value {
    this.#need(width, type)
    const b = this.buf
    const at = this.pos
    this.pos += width
    switch (type) {
      case 'null':
        return null
      case 'boolean':
        if (width === 0) return code === 0x41
        if (b[at]! > 1) throw new Amqp10DecodeError(`boolean byte ${b[at]}`)
        return b[at] === 1
      case 'list':
        return [] // list0
      case 'ubyte':
        return new Typed(type, b[at]!)
      case 'byte':
        return new Typed(type, b.readInt8(at))
      case 'ushort':
        return new Typed(type, b.readUInt16BE(at))
      case 'short':
        return new Typed(type, b.readInt16BE(at))
      case 'uint':
        return new Typed(type, width === 0 ? 0 : width === 1 ? b[at]! : b.readUInt32BE(at))
      case 'int':
        return new Typed(type, width === 1 ? b.readInt8(at) : b.readInt32BE(at))
      case 'ulong':
        return new Typed(type, width === 0 ? 0n : width === 1 ? BigInt(b[at]!) : b.readBigUInt64BE(at))
      case 'long':
        return new Typed(type, width === 1 ? BigInt(b.readInt8(at)) : b.readBigInt64BE(at))
      case 'float':
        return new Typed(type, b.readFloatBE(at))
      case 'double':
        return new Typed(type, b.readDoubleBE(at))
      case 'char':
        return new Typed(type, b.readUInt32BE(at))
      case 'timestamp':
        return new Typed(type, Number(b.readBigInt64BE(at)))
      default:
        // uuid and the decimals: their bytes as they are.
        return new Typed(type as TypedType, Buffer.from(b.subarray(at, at + width)))
    }
  }

  #compound(type: PrimitiveType, width: number): Value {
    const size = this.#size(width)
    this.#need(size, type)
    if (size < width) throw new Amqp10DecodeError(`${type} size ${size} leaves no room for its count`)
    const end = this.pos + size
    const count = this.#size(width)
    // Every element takes at least its constructor byte.
    if (count > end - this.pos) throw new Amqp10DecodeError(`${type} of ${count} elements in ${size} bytes`)
    if (type === 'map' && count % 2 !== 0) throw new Amqp10DecodeError(`map with an odd element count ${count}`)
    const outer = this.end
    this.end = end
    if (++this.#depth > this.limits.depthMax) throw new Amqp10DecodeError('values nested too deeply')
    try {
      if (type === 'list') {
        const items: Value[] = new Array(count)
        for (let i = 0; i < count; i++) items[i] = this.value()
        this.#exact(end, type)
        return items
      }
      const entries: Array<[Value, Value]> = new Array(count / 2)
      for (let i = 0; i < count / 2; i++) entries[i] = [this.value(), this.value()]
      this.#exact(end, type)
      return new AmqpMap(entries)
    } finally {
      this.#depth--
      this.end = outer
    }
  }

  #exact(end: number, what: string): void {
    if (this.pos !== end) throw new Amqp10DecodeError(`${what}: ${end - this.pos} bytes left over`)
  }

  #array(width: number): Value {
    const size = this.#size(width)
    this.#need(size, 'array')
    if (size < width + 1) throw new Amqp10DecodeError(`array size ${size} leaves no room for its constructor`)
    const end = this.pos + size
    const count = this.#size(width)
    const outer = this.end
    this.end = end
    if (++this.#depth > this.limits.depthMax) throw new Amqp10DecodeError('values nested too deeply')
    try {
      this.#need(1, 'array constructor')
      let code = this.buf[this.pos++]!
      let descriptor: Value | undefined
      if (code === 0x00) {
        descriptor = this.value()
        this.#need(1, 'array constructor')
        code = this.buf[this.pos++]!
      }
      const encoding = ENCODINGS[code]
      if (encoding === undefined) throw new Amqp10DecodeError(`unknown array constructor 0x${code.toString(16)}`)
      const elementBytes = encoding.category === 'fixed' ? encoding.width : encoding.width
      if (elementBytes === 0 ? count > ZERO_WIDTH_ELEMENTS_MAX : count > Math.floor((end - this.pos) / elementBytes))
        throw new Amqp10DecodeError(`array of ${count} elements in ${size} bytes`)
      const items: Value[] = new Array(count)
      for (let i = 0; i < count; i++) items[i] = this.#body(code)
      this.#exact(end, 'array')
      return new AmqpArray(encoding.type, items, descriptor)
    } finally {
      this.#depth--
      this.end = outer
    }
  }
}

/** Decodes exactly one value filling the whole buffer. */
export function decodeValue(buf: Buffer, limits?: DecodeLimits): Value {
  const d = new Decoder(buf, 0, buf.length, limits)
  const value = d.value()
  if (d.remaining !== 0) throw new Amqp10DecodeError(`${d.remaining} bytes after the value`)
  return value
}

/** A growable output buffer; encode() chooses the smallest encoding of every value. */
export class Encoder {
  buf: Buffer
  pos = 0

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial)
  }

  #room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes))
    this.buf.copy(grown, 0, 0, this.pos)
    this.buf = grown
  }

  byte(n: number): void {
    this.#room(1)
    this.buf[this.pos++] = n
  }

  bytes(b: Buffer): void {
    this.#room(b.length)
    b.copy(this.buf, this.pos)
    this.pos += b.length
  }

  /** The bytes written so far (a view). */
  result(): Buffer {
    return this.buf.subarray(0, this.pos)
  }

  value(v: Value): void {
    if (v === null) this.byte(0x40)
    else if (v === true) this.byte(0x41)
    else if (v === false) this.byte(0x42)
    else if (typeof v === 'string') this.#variable(0xa1, 0xb1, Buffer.from(v, 'utf8'))
    else if (Buffer.isBuffer(v)) this.#variable(0xa0, 0xb0, v)
    else if (v instanceof Typed) this.#typed(v)
    else if (Array.isArray(v)) this.#list(v)
    else if (v instanceof AmqpMap) this.#mapBody(v, false)
    else if (v instanceof Described) {
      this.byte(0x00)
      this.value(v.descriptor)
      this.value(v.value)
    } else this.#array(v)
  }

  #variable(small: number, large: number, bytes: Buffer): void {
    if (bytes.length <= 0xff) {
      this.#room(2 + bytes.length)
      this.buf[this.pos++] = small
      this.buf[this.pos++] = bytes.length
    } else {
      this.#room(5 + bytes.length)
      this.buf[this.pos++] = large
      this.buf.writeUInt32BE(bytes.length, this.pos)
      this.pos += 4
    }
    this.bytes(bytes)
  }

  #typed(v: Typed): void {
    const n = v.value
    switch (v.type) {
      case 'symbol': {
        this.#variable(0xa3, 0xb3, Buffer.from(n as string, 'ascii'))
        return
      }
      case 'uint':
        if (n === 0) {
          this.byte(0x43)
          return
        }
        if ((n as number) <= 0xff) {
          this.#fixed(0x52, v)
          return
        }
        {
          this.#fixed(0x70, v)
          return
        }
      case 'ulong': {
        const big = BigInt(n as number | bigint)
        if (big === 0n) {
          this.byte(0x44)
          return
        }
        this.#fixed(big <= 0xffn ? 0x53 : 0x80, v)
        return
      }
      case 'int': {
        this.#fixed((n as number) >= -128 && (n as number) <= 127 ? 0x54 : 0x71, v)
        return
      }
      case 'long': {
        const big = BigInt(n as number | bigint)
        this.#fixed(big >= -128n && big <= 127n ? 0x55 : 0x81, v)
        return
      }
      default: {
        this.#fixed(FIXED_CODE[v.type]!, v)
        return
      }
    }
  }

  /** A fixed-width element body (after a constructor already written, or with it when withCode). */
  #fixed(code: number, v: Typed, withCode = true): void {
    const width = ENCODINGS[code]!.width
    this.#room(1 + width)
    if (withCode) this.buf[this.pos++] = code
    const b = this.buf
    const at = this.pos
    const n = v.value
    switch (code) {
      case 0x50:
      case 0x52:
        b.writeUInt8(n as number, at)
        break
      case 0x51:
      case 0x54:
        b.writeInt8(n as number, at)
        break
      case 0x53:
        b.writeUInt8(Number(n), at)
        break
      case 0x55:
        b.writeInt8(Number(n), at)
        break
      case 0x60:
        b.writeUInt16BE(n as number, at)
        break
      case 0x61:
        b.writeInt16BE(n as number, at)
        break
      case 0x70:
      case 0x73:
        b.writeUInt32BE(n as number, at)
        break
      case 0x71:
        b.writeInt32BE(n as number, at)
        break
      case 0x72:
        b.writeFloatBE(n as number, at)
        break
      case 0x80:
        b.writeBigUInt64BE(BigInt(n as number | bigint), at)
        break
      case 0x81:
        b.writeBigInt64BE(BigInt(n as number | bigint), at)
        break
      case 0x82:
        b.writeDoubleBE(n as number, at)
        break
      case 0x83:
        b.writeBigInt64BE(BigInt(n as number), at)
        break
      default: {
        const raw = n as Buffer
        if (!Buffer.isBuffer(raw) || raw.length !== width) throw new TypeError(`${v.type} needs ${width} bytes`)
        raw.copy(b, at)
      }
    }
    this.pos += width
  }

  /** Writes a list32/map32 header, the elements, then shrinks to list8/map8 when they fit. */
  #compound(code8: number, code32: number, count: number, elements: () => void, wide: boolean): void {
    this.#room(9)
    const start = this.pos
    this.buf[start] = code32
    this.pos += 9
    elements()
    const size = this.pos - start - 5 // bytes after the size field: count (4) + elements
    if (!wide && size - 3 <= 0xff && count <= 0xff) {
      this.buf[start] = code8
      this.buf[start + 1] = size - 3
      this.buf[start + 2] = count
      this.buf.copy(this.buf, start + 3, start + 9, this.pos)
      this.pos -= 6
    } else {
      this.buf.writeUInt32BE(size, start + 1)
      this.buf.writeUInt32BE(count, start + 5)
    }
  }

  #list(items: Value[]): void {
    if (items.length === 0) this.byte(0x45)
    else this.#listBody(items, false)
  }

  #listBody(items: Value[], wide: boolean): void {
    const each = () => {
      for (const item of items) this.value(item)
    }
    this.#compound(0xc0, 0xd0, items.length, each, wide)
  }

  #mapBody(map: AmqpMap, wide: boolean): void {
    const each = () => {
      for (const [k, v] of map.entries) {
        this.value(k)
        this.value(v)
      }
    }
    this.#compound(0xc1, 0xd1, map.entries.length * 2, each, wide)
  }

  /** array32 always (one pass); elements in the widest encoding of their type. */
  #array(a: AmqpArray): void {
    this.#room(9)
    const start = this.pos
    this.buf[start] = 0xf0
    this.pos += 9
    if (a.descriptor !== undefined) {
      this.byte(0x00)
      this.value(a.descriptor)
    }
    const code = ARRAY_CODE[a.elementType]
    this.byte(code)
    for (const item of a.items) this.#element(code, item)
    this.buf.writeUInt32BE(this.pos - start - 5, start + 1)
    this.buf.writeUInt32BE(a.items.length, start + 5)
  }

  #element(code: number, item: Value): void {
    switch (code) {
      case 0x40:
        return
      case 0x56: {
        this.byte(item === true ? 1 : 0)
        return
      }
      case 0xb0:
      case 0xb1:
      case 0xb3: {
        const bytes = Buffer.isBuffer(item)
          ? item
          : Buffer.from(item instanceof Typed ? (item.value as string) : (item as string), 'utf8')
        this.#room(4 + bytes.length)
        this.buf.writeUInt32BE(bytes.length, this.pos)
        this.pos += 4
        this.bytes(bytes)
        return
      }
      case 0xd0:
      case 0xd1:
      case 0xf0: {
        // The element's own 32-bit encoding without its constructor byte.
        const at = this.pos
        if (code === 0xd0 && Array.isArray(item)) this.#listBody(item, true)
        else if (code === 0xd1 && item instanceof AmqpMap) this.#mapBody(item, true)
        else if (code === 0xf0 && item instanceof AmqpArray) this.#array(item)
        else throw new TypeError('array element does not match the element type')
        this.buf.copy(this.buf, at, at + 1, this.pos)
        this.pos--
        return
      }
      default: {
        this.#fixed(code, item as Typed, false)
        return
      }
    }
  }
}

/** The one constructor of each fixed-width type (the variable-width choices are made in #typed). */
const FIXED_CODE: Record<string, number> = {
  ubyte: 0x50,
  byte: 0x51,
  ushort: 0x60,
  short: 0x61,
  float: 0x72,
  double: 0x82,
  char: 0x73,
  timestamp: 0x83,
  uuid: 0x98,
  decimal32: 0x74,
  decimal64: 0x84,
  decimal128: 0x94,
}

/** Array element constructors: one fixed width for every element. */
const ARRAY_CODE: Record<PrimitiveType, number> = {
  null: 0x40,
  boolean: 0x56,
  ubyte: 0x50,
  byte: 0x51,
  ushort: 0x60,
  short: 0x61,
  uint: 0x70,
  int: 0x71,
  ulong: 0x80,
  long: 0x81,
  float: 0x72,
  double: 0x82,
  decimal32: 0x74,
  decimal64: 0x84,
  decimal128: 0x94,
  char: 0x73,
  timestamp: 0x83,
  uuid: 0x98,
  binary: 0xb0,
  string: 0xb1,
  symbol: 0xb3,
  list: 0xd0,
  map: 0xd1,
  array: 0xf0,
}

export function encodeValue(v: Value): Buffer {
  const e = new Encoder()
  e.value(v)
  return Buffer.from(e.result())
}
