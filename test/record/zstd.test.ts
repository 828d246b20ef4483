// Every zstd backend this process has (zstd-napi when compiled, node:zlib on Node ≥ 22.15, fzstd always) decodes
// the same inputs to the same bytes and refuses the same bombs, so a broker installed without the native module
// behaves like one with it. The frame walker's refusals come before any backend runs.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { CompressStream } from 'zstd-napi'
import { Compression, decodeBatch } from '../../src/record/index.ts'
import { availableZstdBackends, canCompressZstd, zstdCompress, zstdDecompress } from '../../src/record/zstd/index.ts'
import { isWharfError } from '../../src/util/errors.ts'

const MiB = 1024 * 1024
const text = Buffer.from('the quick brown fox jumps over the lazy dog '.repeat(5000))

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => isWharfError(error) && error.code === code)
}

/** A frame without a content size, as streaming producers (zstd-jni, librdkafka) write them. */
function unsized(data: Buffer, options: { checksum?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const stream = new CompressStream({ checksumFlag: options.checksum === true })
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => resolve(Buffer.concat(chunks)))
    stream.on('error', reject)
    stream.end(data)
  })
}

/** A hand-made frame header: no content size, the given window descriptor, then one empty last raw block. */
function frameWithWindow(windowDescriptor: number): Buffer {
  return Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, windowDescriptor, 0x01, 0x00, 0x00])
}

describe('zstd backends', () => {
  const backends = availableZstdBackends()

  it('the pure-JS decoder is always there, and this process can compress', () => {
    assert.equal(backends.at(-1)?.name, 'fzstd')
    assert.equal(backends.at(-1)?.compress, undefined)
    assert.ok(canCompressZstd())
  })

  for (const backend of backends) {
    describe(backend.name, () => {
      it('decodes sized, unsized, checksummed, concatenated and skippable frames', async () => {
        const sized = zstdCompress(text)
        const streamed = await unsized(text)
        const checked = await unsized(text, { checksum: true })
        const skippable = Buffer.from('502a4d180300000078797a', 'hex')
        assert.ok(zstdDecompress(sized, MiB, backend).equals(text))
        assert.ok(zstdDecompress(streamed, MiB, backend).equals(text))
        assert.ok(zstdDecompress(checked, MiB, backend).equals(text))
        assert.equal(zstdDecompress(Buffer.concat([sized, skippable, streamed]), MiB, backend).length, 2 * text.length)
        assert.equal(zstdDecompress(zstdCompress(Buffer.alloc(0)), 10, backend).length, 0)
      })

      it('decodes what every other backend compresses', () => {
        for (const other of backends) {
          if (other.compress === undefined) continue
          assert.ok(zstdDecompress(other.compress(text), MiB, backend).equals(text), `from ${other.name}`)
        }
      })

      it('refuses output beyond maxBytes, declared or not', async () => {
        expectCode(() => zstdDecompress(zstdCompress(text), text.length - 1, backend), 'RECORD_TOO_LARGE')
        const streamed = await unsized(text)
        expectCode(() => zstdDecompress(streamed, 1000, backend), 'RECORD_TOO_LARGE')
        const bomb = await unsized(Buffer.alloc(32 * MiB))
        expectCode(() => zstdDecompress(bomb, MiB, backend), 'RECORD_TOO_LARGE')
        expectCode(() => zstdDecompress(frameWithWindow(20 << 3), MiB, backend), 'RECORD_TOO_LARGE')
        assert.equal(zstdDecompress(frameWithWindow(10 << 3), MiB, backend).length, 0)
      })

      it('garbage, truncation and trailing bytes are CORRUPT_RECORD', async () => {
        const streamed = await unsized(text)
        expectCode(() => zstdDecompress(Buffer.from('definitely not zstd'), MiB, backend), 'CORRUPT_RECORD')
        expectCode(() => zstdDecompress(Buffer.alloc(0), MiB, backend), 'CORRUPT_RECORD')
        expectCode(() => zstdDecompress(streamed.subarray(0, streamed.length - 4), MiB, backend), 'CORRUPT_RECORD')
        expectCode(() => zstdDecompress(Buffer.concat([streamed, Buffer.from('junk')]), MiB, backend), 'CORRUPT_RECORD')
        // A compressed block whose content is noise.
        const noisy = Buffer.from(streamed)
        noisy.fill(0xa5, 12, Math.min(noisy.length - 4, 60))
        expectCode(() => zstdDecompress(noisy, MiB, backend), 'CORRUPT_RECORD')
      })
    })
  }

  it('a kafkajs zstd batch decodes (through the default backend)', () => {
    const batch = readFileSync(new URL('../fixtures/record/kafkajs-zstd.bin', import.meta.url))
    const { header, records } = decodeBatch(batch)
    assert.equal(header.compression, Compression.Zstd)
    assert.ok(records.length > 0)
  })
})
