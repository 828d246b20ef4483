// The AMQP 1.0 decoder. Which constructor byte means which type, and how wide it is, comes from the generated
// ENCODINGS table (written from types.bare.xml); this file holds only what the XML cannot say: how each category
// is laid out. Decoding is bounded: every length is checked against the bytes that are there before anything is
// allocated, nesting is capped, and any violation is an Amqp10DecodeError (the connection answers it with
// amqp:decode-error), never a RangeError.
import { ENCODINGS, type PrimitiveType } from './generated/encodings.js'
import { Amqp10DecodeError, AmqpArray, AmqpMap, Described, Typed, type TypedType, type Value } from './values.js'

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
