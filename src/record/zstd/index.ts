// zstd for RecordBatches: the frames are walked (and bombs refused) in JS, then decoded by the best backend this
// process has (see backends.ts). Without zstd-napi and on Node < 22.15 the broker still decodes every zstd batch
// (pure JS) but cannot compress: canCompressZstd() tells the one writer that re-compresses (compaction) to
// write such batches uncompressed instead, which every Kafka client reads.
import { WharfError } from '../../util/errors.js'
import { availableZstdBackends, type ZstdBackend, zstdFailure } from './backends.js'
import { walkZstdFrames } from './frame.js'

export type { ZstdBackend } from './backends.js'
export { availableZstdBackends } from './backends.js'

const backends = availableZstdBackends()
const decoder = backends[0]!
const encoder = backends.find((backend) => backend.compress !== undefined)

/** Which implementation decodes and which encodes (none: this process cannot write zstd). */
export function zstdBackendNames(): { decode: string; encode: string | null } {
  return { decode: decoder.name, encode: encoder?.name ?? null }
}

export function canCompressZstd(): boolean {
  return encoder !== undefined
}

export function zstdCompress(data: Buffer): Buffer {
  if (encoder?.compress === undefined) {
    throw new WharfError('UNSUPPORTED_COMPRESSION', 'zstd compression needs the zstd-napi module or Node 22.15+')
  }
  return encoder.compress(data)
}

/** Bounded decode of untrusted bytes; only WharfErrors escape. `backend` picks one (tests). */
export function zstdDecompress(data: Buffer, maxBytes: number, backend: ZstdBackend = decoder): Buffer {
  const { declared, known } = walkZstdFrames(data, maxBytes)
  try {
    return backend.decompress(data, known ? declared : null, maxBytes)
  } catch (error) {
    throw zstdFailure(error, maxBytes)
  }
}
