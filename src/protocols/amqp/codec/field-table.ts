// Field tables and arrays with RabbitMQ's type letters (rabbit_binary_parser), which differ from the
// 0-9-1 PDF (`s` is int16, `u` uint16, `x` byte array). Decoding accepts every letter; encoding picks the
// letters RabbitMQ and amqplib understand, or the letter forced with `typed(letter, value)`.
//
// Decoded forms: integer letters → number (l → bigint only past 2^53), f/d → number, t → boolean,
// S → string, x → Buffer, T → Date, V → null, A → array, F → table, D → typed('D', {scale, value}).
// Peers pick different integer letters for the same number (amqplib sends 10 as `b`), so callers must
// compare decoded values by value, never by letter.
import { Reader, readInt64, Writer } from './buffers.js'
import { encodeError, frameError, syntaxError } from './errors.js'

export type FieldType =
  | 't'
  | 'b'
  | 'B'
  | 's'
  | 'u'
  | 'I'
  | 'i'
  | 'l'
  | 'f'
  | 'd'
  | 'D'
  | 'S'
  | 'x'
  | 'A'
  | 'T'
  | 'F'
  | 'V'

export interface Decimal {
  /** Number of decimal places: the value is `value / 10 ** scale`. */
  scale: number
  value: number
}

/** A value with its wire letter chosen by the caller (e.g. `typed('b', 10)`, `typed('T', new Date())`). */
export class AmqpTyped {
  readonly type: FieldType
  readonly value: FieldValue | Decimal

  constructor(type: FieldType, value: FieldValue | Decimal) {
    this.type = type
    this.value = value
  }
}

export function typed(type: FieldType, value: FieldValue | Decimal): AmqpTyped {
  return new AmqpTyped(type, value)
}

export type FieldValue =
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | Date
  | null
  | AmqpTyped
  | FieldValue[]
  | FieldTable
  | undefined

export interface FieldTable {
  [key: string]: FieldValue
}

/** Nested tables/arrays recurse; without a cap a 128 KiB frame could nest ~25k levels and overflow the stack. */
export const FIELD_NESTING_DEPTH_MAX = 64

const TWO_POW_63 = 2 ** 63

function checkDepth(depth: number, decoding: boolean): void {
  if (depth <= FIELD_NESTING_DEPTH_MAX) return
  const message = `field table nesting deeper than ${FIELD_NESTING_DEPTH_MAX}`
  throw decoding ? frameError(message) : encodeError(`${message} (cyclic value?)`)
}

// ---------------------------------------------------------------------------------------------- decode

export function decodeTable(reader: Reader, depth = 0): FieldTable {
  checkDepth(depth, true)
  const length = reader.long()
  reader.need(length)
  const outerEnd = reader.end
  reader.end = reader.pos + length
  const table: FieldTable = {}
  while (reader.pos < reader.end) {
    const key = reader.shortstr()
    const value = decodeValue(reader, depth)
    // A plain assignment of "__proto__" would replace the object's prototype instead of adding a key.
    if (key === '__proto__')
      Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true })
    else table[key] = value
  }
  reader.end = outerEnd
  return table
}

export function decodeArray(reader: Reader, depth = 0): FieldValue[] {
  checkDepth(depth, true)
  const length = reader.long()
  reader.need(length)
  const outerEnd = reader.end
  reader.end = reader.pos + length
  const array: FieldValue[] = []
  while (reader.pos < reader.end) array.push(decodeValue(reader, depth))
  reader.end = outerEnd
  return array
}

function decodeValue(reader: Reader, depth: number): FieldValue {
  const letter = reader.octet()
  const buf = reader.buf
  switch (letter) {
    case 0x74 /* t */:
      return reader.octet() !== 0
    case 0x62 /* b */:
      reader.need(1)
      return buf.readInt8(reader.pos++)
    case 0x42 /* B */:
      return reader.octet()
    case 0x73 /* s */:
      reader.need(2)
      reader.pos += 2
      return buf.readInt16BE(reader.pos - 2)
    case 0x75 /* u */:
      return reader.short()
    case 0x49 /* I */:
      reader.need(4)
      reader.pos += 4
      return buf.readInt32BE(reader.pos - 4)
    case 0x69 /* i */:
      return reader.long()
    case 0x6c /* l */:
      return readInt64(reader)
    case 0x66 /* f */:
      reader.need(4)
      reader.pos += 4
      return buf.readFloatBE(reader.pos - 4)
    case 0x64 /* d */:
      reader.need(8)
      reader.pos += 8
      return buf.readDoubleBE(reader.pos - 8)
    case 0x44 /* D */:
      {
        const scale = reader.octet()
        return new AmqpTyped('D', { scale, value: reader.long() })
      }
    case 0x53 /* S */:
      return reader.longstr().toString('utf8')
    case 0x78 /* x */:
      return reader.longstr()
    case 0x41 /* A */:
      return decodeArray(reader, depth + 1)
    case 0x54 /* T */:
      {
        const seconds = reader.longlong()
        const date = new Date(seconds * 1000)
        if (Number.isNaN(date.getTime())) throw syntaxError(`timestamp out of range: ${seconds}`)
        return date
      }
    case 0x46 /* F */:
      return decodeTable(reader, depth + 1)
    case 0x56 /* V */:
      return null
    default:
      throw frameError(`unknown field type 0x${letter.toString(16)}`)
  }
}

/** Decodes a standalone table (e.g. an AMQPLAIN response body with its length prefix restored). */
export function decodeFieldTable(bytes: Buffer): FieldTable {
  const reader = new Reader(bytes)
  const table = decodeTable(reader)
  reader.done('field table')
  return table
}

// ---------------------------------------------------------------------------------------------- encode

/** The letter a JS value is sent with: strings S, booleans t, int32 I, other int64 l, other numbers d. */
export function letterOf(value: FieldValue): FieldType {
  switch (typeof value) {
    case 'string':
      return 'S'
    case 'boolean':
      return 't'
    case 'number':
      // -0 goes out as a double so it survives the round trip (as an integer it would come back as 0).
      if (!Number.isInteger(value) || Object.is(value, -0)) return 'd'
      if ((value | 0) === value) return 'I'
      return value >= -TWO_POW_63 && value < TWO_POW_63 ? 'l' : 'd'
    case 'bigint':
      return 'l'
    case 'undefined':
      return 'V'
    case 'object':
      if (value === null) return 'V'
      if (value instanceof AmqpTyped) return value.type
      if (Buffer.isBuffer(value)) return 'x'
      if (value instanceof Date) return 'T'
      if (Array.isArray(value)) return 'A'
      return 'F'
    default:
      throw encodeError(`cannot encode a ${typeof value} in a field table`)
  }
}

const FIXED_SIZES: Partial<Record<FieldType, number>> = {
  t: 1,
  b: 1,
  B: 1,
  s: 2,
  u: 2,
  I: 4,
  i: 4,
  f: 4,
  l: 8,
  d: 8,
  T: 8,
  D: 5,
  V: 0,
}

/** Encoded size of a table including its 4-byte length. */
export function tableSize(table: FieldTable, depth = 0): number {
  checkDepth(depth, false)
  if (typeof table !== 'object' || table === null) throw encodeError('field table expected')
  let size = 4
  for (const key in table) {
    const value = table[key]
    if (value === undefined || !Object.hasOwn(table, key)) continue
    const keyBytes = Buffer.byteLength(key, 'utf8')
    if (keyBytes > 255) throw encodeError(`field table key longer than 255 bytes: ${key.slice(0, 32)}…`)
    size += 1 + keyBytes + 1 + valueSize(value, depth)
  }
  return size
}

/** Encoded size of an array including its 4-byte length. */
export function arraySize(array: FieldValue[], depth = 0): number {
  checkDepth(depth, false)
  let size = 4
  for (const value of array) size += 1 + valueSize(value, depth)
  return size
}

function valueSize(value: FieldValue, depth: number): number {
  const letter = letterOf(value)
  const inner = value instanceof AmqpTyped ? value.value : value
  const fixed = FIXED_SIZES[letter]
  if (fixed !== undefined) return fixed
  switch (letter) {
    case 'S':
      if (Buffer.isBuffer(inner)) return 4 + inner.length
      if (typeof inner !== 'string') throw encodeError('field type S expects a string or Buffer')
      return 4 + Buffer.byteLength(inner, 'utf8')
    case 'x':
      if (!Buffer.isBuffer(inner)) throw encodeError('field type x expects a Buffer')
      return 4 + inner.length
    case 'A':
      if (!Array.isArray(inner)) throw encodeError('field type A expects an array')
      return arraySize(inner, depth + 1)
    default:
      return tableSize(inner as FieldTable, depth + 1)
  }
}

export function writeTable(writer: Writer, table: FieldTable): void {
  const start = writer.pos
  writer.pos += 4
  for (const key in table) {
    const value = table[key]
    if (value === undefined || !Object.hasOwn(table, key)) continue
    writer.shortstr(key)
    writeValue(writer, value)
  }
  writer.buf.writeUInt32BE(writer.pos - start - 4, start)
}

export function writeArray(writer: Writer, array: FieldValue[]): void {
  const start = writer.pos
  writer.pos += 4
  for (const value of array) writeValue(writer, value)
  writer.buf.writeUInt32BE(writer.pos - start - 4, start)
}

function writeValue(writer: Writer, value: FieldValue): void {
  const letter = letterOf(value)
  const inner = value instanceof AmqpTyped ? value.value : value
  writer.buf[writer.pos++] = letter.charCodeAt(0)
  const buf = writer.buf
  switch (letter) {
    case 't':
      if (typeof inner !== 'boolean') throw encodeError('field type t expects a boolean')
      buf[writer.pos++] = inner ? 1 : 0
      return
    case 'b':
      writer.pos = buf.writeInt8(integerIn(inner, -0x80, 0x7f, letter), writer.pos)
      return
    case 'B':
      writer.octet(integerIn(inner, 0, 0xff, letter))
      return
    case 's':
      writer.pos = buf.writeInt16BE(integerIn(inner, -0x8000, 0x7fff, letter), writer.pos)
      return
    case 'u':
      writer.short(integerIn(inner, 0, 0xffff, letter))
      return
    case 'I':
      writer.pos = buf.writeInt32BE(integerIn(inner, -0x8000_0000, 0x7fff_ffff, letter), writer.pos)
      return
    case 'i':
      writer.long(integerIn(inner, 0, 0xffff_ffff, letter))
      return
    case 'l':
      if (typeof inner !== 'number' && typeof inner !== 'bigint') throw encodeError('field type l expects a number')
      writer.int64(inner)
      return
    case 'f':
      writer.pos = buf.writeFloatBE(numberOf(inner, letter), writer.pos)
      return
    case 'd':
      writer.pos = buf.writeDoubleBE(numberOf(inner, letter), writer.pos)
      return
    case 'D': {
      const decimal = inner as Decimal | null
      if (typeof decimal !== 'object' || decimal === null) throw encodeError('field type D expects {scale, value}')
      writer.octet(decimal.scale)
      writer.long(decimal.value)
      return
    }
    case 'S':
      writer.longstr(Buffer.isBuffer(inner) ? inner : Buffer.from(inner as string, 'utf8'))
      return
    case 'x':
      writer.longstr(inner as Buffer)
      return
    case 'A':
      writeArray(writer, inner as FieldValue[])
      return
    case 'T': {
      const seconds = inner instanceof Date ? Math.floor(inner.getTime() / 1000) : inner
      if (typeof seconds !== 'number') throw encodeError('field type T expects a Date or seconds')
      writer.longlong(seconds)
      return
    }
    case 'F':
      writeTable(writer, inner as FieldTable)
      return
    case 'V':
      return
  }
}

function numberOf(value: unknown, letter: FieldType): number {
  if (typeof value !== 'number') throw encodeError(`field type ${letter} expects a number`)
  return value
}

function integerIn(value: unknown, min: number, max: number, letter: FieldType): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw encodeError(`field type ${letter} expects an integer in [${min}, ${max}], got ${String(value)}`)
  }
  return value
}

/** Encodes a standalone table (with its length prefix). */
export function encodeFieldTable(table: FieldTable): Buffer {
  const buf = Buffer.allocUnsafe(tableSize(table))
  writeTable(new Writer(buf), table)
  return buf
}
