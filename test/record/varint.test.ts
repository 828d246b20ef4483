import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  ByteReader,
  readInt64,
  sizeOfVarint,
  sizeOfVarlong,
  VARLONG_MAX_ABS,
  writeInt64,
  writeVarint,
  writeVarlong,
} from '../../src/record/varint.ts'
import { isWharfError } from '../../src/util/errors.ts'

const corruptCheck = (error: unknown) => isWharfError(error, 'CORRUPT_RECORD')
const reader = (bytes: number[]) => new ByteReader(Buffer.from(bytes), 0, bytes.length)
const runs = process.env.WHARF_LONG === '1' ? 20_000 : 500

describe('varints', () => {
  it('known zig-zag encodings (Kafka ByteUtils)', () => {
    const cases: [number, number[]][] = [
      [0, [0]],
      [-1, [1]],
      [1, [2]],
      [-64, [0x7f]],
      [64, [0x80, 0x01]],
      [2147483647, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
      [-2147483648, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    ]
    for (const [value, bytes] of cases) {
      const buf = Buffer.alloc(5)
      assert.equal(writeVarint(buf, 0, value), bytes.length)
      assert.deepEqual([...buf.subarray(0, bytes.length)], bytes)
      assert.equal(sizeOfVarint(value), bytes.length)
      assert.equal(reader(bytes).varint(), value)
      assert.equal(reader(bytes).varlong(), value)
    }
  })

  it('rejects overflow, overlong and truncated varints', () => {
    assert.throws(() => reader([0xff, 0xff, 0xff, 0xff, 0x1f]).varint(), corruptCheck) // 33 bits
    assert.throws(() => reader([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]).varint(), corruptCheck) // 6 bytes
    assert.throws(() => reader([0x80]).varint(), corruptCheck)
    assert.throws(() => reader([]).varint(), corruptCheck)
    assert.throws(() => reader(new Array(10).fill(0x80).concat([0])).varlong(), corruptCheck) // 11 bytes
    assert.throws(() => reader([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).varlong(), corruptCheck)
    assert.throws(() => reader([0x80, 0x80, 0x80, 0x80, 0x80]).varlong(), corruptCheck)
    // The reader respects its end even when the buffer continues.
    assert.throws(() => new ByteReader(Buffer.from([0x80, 0x01]), 0, 1).varint(), corruptCheck)
  })

  it('varint and varlong round trip (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), (value) => {
        const buf = Buffer.alloc(5)
        const end = writeVarint(buf, 0, value)
        assert.equal(end, sizeOfVarint(value))
        const r = new ByteReader(buf, 0, end)
        assert.equal(r.varint(), value)
        assert.equal(r.pos, end)
      }),
      { numRuns: runs },
    )
    fc.assert(
      fc.property(fc.integer({ min: -VARLONG_MAX_ABS, max: VARLONG_MAX_ABS }), (value) => {
        const buf = Buffer.alloc(10)
        const end = writeVarlong(buf, 0, value)
        assert.equal(end, sizeOfVarlong(value))
        const r = new ByteReader(buf, 0, end)
        assert.equal(r.varlong(), value)
        assert.equal(r.pos, end)
      }),
      { numRuns: runs },
    )
  })

  it('int64 round trips safe integers and rejects the rest', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => {
        const buf = Buffer.alloc(8)
        writeInt64(buf, 0, value)
        assert.equal(buf.readBigInt64BE(0), BigInt(value))
        assert.equal(readInt64(buf, 0), value)
      }),
      { numRuns: runs },
    )
    const buf = Buffer.alloc(8)
    buf.writeBigInt64BE(2n ** 53n)
    assert.throws(() => readInt64(buf, 0), corruptCheck)
    buf.writeBigInt64BE(-(2n ** 53n))
    assert.throws(() => readInt64(buf, 0), corruptCheck)
  })
})
