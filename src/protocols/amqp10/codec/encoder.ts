// The AMQP 1.0 encoder: the smallest encoding the standard has for each value (smalluint, list8, str8...), one
// growable buffer per call.
import { ENCODINGS, type PrimitiveType } from './generated/encodings.js'
import { AmqpArray, AmqpMap, Described, Typed, type Value } from './values.js'

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
