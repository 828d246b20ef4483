// The five RecordBatch codecs, synchronous (zstd may be decode-only: see zstd/index.ts). decompress() is for
// untrusted bytes: it never allocates beyond maxBytes (each codec checks declared sizes before decoding and bounds
// what it produces), and every failure is a WharfError (CORRUPT_RECORD, RECORD_TOO_LARGE or
// UNSUPPORTED_COMPRESSION).
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib'
import { corrupt, tooLarge, unsupportedCompression } from './errors.js'
import { lz4Compress, lz4Decompress } from './lz4.js'
import { snappyCompress, snappyDecompress } from './snappy.js'
import { Compression } from './types.js'
import { canCompressZstd, zstdCompress, zstdDecompress } from './zstd/index.js'

export function compress(codec: Compression, data: Buffer): Buffer {
  switch (codec) {
    case Compression.None:
      return data
    case Compression.Gzip:
      return gzipSync(data)
    case Compression.Snappy:
      return snappyCompress(data)
    case Compression.Lz4:
      return lz4Compress(data)
    case Compression.Zstd:
      return zstdCompress(data)
    default:
      throw unsupportedCompression(codec)
  }
}

/** Whether compress() can write this codec here (zstd may be decode-only, see zstd/index.ts). */
export function canCompress(codec: Compression): boolean {
  return codec !== Compression.Zstd || canCompressZstd()
}

export function decompress(codec: Compression, data: Buffer, maxBytes: number): Buffer {
  switch (codec) {
    case Compression.None:
      if (data.length > maxBytes) throw tooLarge(`${data.length} bytes exceed the limit ${maxBytes}`)
      return data
    case Compression.Gzip:
      return gzipDecompress(data, maxBytes)
    case Compression.Snappy:
      return snappyDecompress(data, maxBytes)
    case Compression.Lz4:
      return lz4Decompress(data, maxBytes)
    case Compression.Zstd:
      return zstdDecompress(data, maxBytes)
    default:
      throw unsupportedCompression(codec)
  }
}

function gzipDecompress(data: Buffer, maxBytes: number): Buffer {
  try {
    // maxOutputLength makes zlib stop (and throw) instead of growing past the limit; it must be at least 1.
    return gunzipSync(data, { maxOutputLength: Math.max(1, Math.min(maxBytes, zlibConstants.Z_MAX_CHUNK)) })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge(`gzip data decodes to more than ${maxBytes} bytes`)
    }
    throw corrupt('gzip data does not decompress', error)
  }
}
