import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import * as lz4 from 'lz4-napi'
import snappy from 'snappy'
import { CompressStream } from 'zstd-napi'
import { Compression, compress, crc32c, decompress } from '../../src/record/index.ts'
import { isWharfError } from '../../src/util/errors.ts'

const MiB = 1024 * 1024
const CODECS = [Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => isWharfError(error) && error.code === code)
}

function xerial(blocks: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from('82534e41505059000000000100000001', 'hex')]
  for (const block of blocks) {
    const raw = snappy.compressSync(block)
    const size = Buffer.alloc(4)
    size.writeInt32BE(raw.length)
    parts.push(size, raw)
  }
  return Buffer.concat(parts)
}

function zstdWithoutContentSize(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const stream = new CompressStream()
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => resolve(Buffer.concat(chunks)))
    stream.on('error', reject)
    stream.end(data)
  })
}

describe('crc32c', () => {
  it('matches the CRC-32C check value and continues a running CRC', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
    assert.equal(crc32c(Buffer.from('56789'), crc32c(Buffer.from('1234'))), 0xe3069283)
    assert.equal(crc32c(Buffer.alloc(0)), 0)
  })
})

describe('compress/decompress', () => {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog '.repeat(5000))
  for (const codec of CODECS) {
    it(`${Compression[codec]} round trips empty, small and 200 KiB inputs`, () => {
      for (const data of [Buffer.alloc(0), Buffer.from('x'), text]) {
        const packed = compress(codec, data)
        assert.ok(decompress(codec, packed, MiB).equals(data))
      }
      assert.ok(compress(codec, text).length < text.length / 10)
    })
    it(`${Compression[codec]} garbage and truncation are CORRUPT_RECORD`, () => {
      const packed = compress(codec, text)
      expectCode(() => decompress(codec, Buffer.from('definitely not compressed data'), MiB), 'CORRUPT_RECORD')
      expectCode(() => decompress(codec, packed.subarray(0, packed.length - 5), MiB), 'CORRUPT_RECORD')
      expectCode(() => decompress(codec, Buffer.alloc(0), MiB), 'CORRUPT_RECORD')
    })
    it(`${Compression[codec]} refuses output beyond maxBytes`, () => {
      const packed = compress(codec, text)
      expectCode(() => decompress(codec, packed, text.length - 1), 'RECORD_TOO_LARGE')
      assert.equal(decompress(codec, packed, text.length).length, text.length)
    })
  }

  it('None passes data through, bounded', () => {
    assert.ok(decompress(Compression.None, text, text.length).equals(text))
    expectCode(() => decompress(Compression.None, text, 10), 'RECORD_TOO_LARGE')
  })

  it('unknown codecs are UNSUPPORTED_COMPRESSION', () => {
    expectCode(() => compress(5 as Compression, text), 'UNSUPPORTED_COMPRESSION')
    expectCode(() => decompress(7 as Compression, text, MiB), 'UNSUPPORTED_COMPRESSION')
  })

  it('gzip bomb: 64 MiB of zeros stops at the limit', () => {
    const bomb = gzipSync(Buffer.alloc(64 * MiB))
    expectCode(() => decompress(Compression.Gzip, bomb, MiB), 'RECORD_TOO_LARGE')
  })

  it('snappy accepts raw (librdkafka) and multi-chunk xerial (Java) data', () => {
    assert.ok(decompress(Compression.Snappy, snappy.compressSync(text), MiB).equals(text))
    const chunks = [text.subarray(0, 32768), text.subarray(32768, 65536), text.subarray(65536)]
    assert.ok(decompress(Compression.Snappy, xerial(chunks), MiB).equals(text))
    assert.equal(decompress(Compression.Snappy, xerial([]), MiB).length, 0)
    assert.ok(compress(Compression.Snappy, text).subarray(0, 8).equals(Buffer.from('82534e4150505900', 'hex')))
  })

  it('snappy: declared sizes are checked before decoding', () => {
    // A raw block that claims 2^32-1 bytes: refused from its 5-byte header alone.
    expectCode(
      () => decompress(Compression.Snappy, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0]), MiB),
      'RECORD_TOO_LARGE',
    )
    const chunks = Array.from({ length: 40 }, () => text.subarray(0, 30_000))
    expectCode(() => decompress(Compression.Snappy, xerial(chunks), MiB), 'RECORD_TOO_LARGE')
    const badLength = xerial([text])
    badLength.writeInt32BE(badLength.length, 16)
    expectCode(() => decompress(Compression.Snappy, badLength, MiB), 'CORRUPT_RECORD')
  })

  it('lz4: frames with checksums, concatenated frames, skippable frames', () => {
    const checked = lz4.compressFrameSync(text, { contentChecksum: true, blockChecksums: true })
    assert.ok(decompress(Compression.Lz4, checked, MiB).equals(text))
    const two = Buffer.concat([lz4.compressFrameSync(Buffer.from('ab')), lz4.compressFrameSync(Buffer.from('cd'))])
    assert.equal(decompress(Compression.Lz4, two, MiB).toString(), 'abcd')
    const skippable = Buffer.from('502a4d180300000078797a', 'hex')
    assert.equal(decompress(Compression.Lz4, Buffer.concat([skippable, two]), MiB).toString(), 'abcd')
    expectCode(() => decompress(Compression.Lz4, Buffer.concat([two, Buffer.from('junk')]), MiB), 'CORRUPT_RECORD')
    assert.ok(compress(Compression.Lz4, text).subarray(0, 4).equals(Buffer.from('04224d18', 'hex')))
  })

  it('lz4: a bomb is refused from its block sizes before decoding', () => {
    const zeros = lz4.compressFrameSync(Buffer.alloc(16 * MiB))
    expectCode(() => decompress(Compression.Lz4, zeros, MiB), 'RECORD_TOO_LARGE')
    assert.equal(decompress(Compression.Lz4, zeros, 16 * MiB).length, 16 * MiB)
  })

  it('zstd: frames without a content size decode through the bounded streaming path', async () => {
    const unsized = await zstdWithoutContentSize(text)
    assert.ok(decompress(Compression.Zstd, unsized, MiB).equals(text))
    expectCode(() => decompress(Compression.Zstd, unsized, 1000), 'RECORD_TOO_LARGE')
    expectCode(() => decompress(Compression.Zstd, unsized.subarray(0, unsized.length - 4), MiB), 'CORRUPT_RECORD')
    const bomb = await zstdWithoutContentSize(Buffer.alloc(32 * MiB))
    expectCode(() => decompress(Compression.Zstd, bomb, MiB), 'RECORD_TOO_LARGE')
    const concatenated = Buffer.concat([compress(Compression.Zstd, text), unsized])
    assert.equal(decompress(Compression.Zstd, concatenated, MiB).length, text.length * 2)
  })
})
