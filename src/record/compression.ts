// The five RecordBatch codecs, synchronous and native. decompress() is for untrusted bytes: it never allocates
// beyond maxBytes (each codec checks declared sizes before decoding and bounds what it produces), and every
// failure is a WharfError (CORRUPT_RECORD, RECORD_TOO_LARGE or UNSUPPORTED_COMPRESSION).
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib'
import zstdBinding from 'zstd-napi/binding.js'
import { WharfError } from '../util/errors.js'
import { corrupt, tooLarge, unsupportedCompression } from './errors.js'
import { lz4Compress, lz4Decompress } from './lz4.js'
import { snappyCompress, snappyDecompress } from './snappy.js'
import { Compression } from './types.js'

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

// zstd: one context for the process (decoding is synchronous, so never shared concurrently).
let zstdContext: zstdBinding.DCtx | undefined
let zstdCompressContext: zstdBinding.CCtx | undefined
const ZSTD_LEVEL = 3 // zstd's and Kafka's default level
/** Output chunk of the streaming path (ZSTD_DStreamOutSize). */
const ZSTD_CHUNK_BYTES = 128 * 1024

function zstdCompress(data: Buffer): Buffer {
  zstdCompressContext ??= new zstdBinding.CCtx()
  const output = Buffer.allocUnsafe(zstdBinding.compressBound(data.length))
  const size = zstdCompressContext.compress(output, data, ZSTD_LEVEL)
  return output.subarray(0, size)
}

/**
 * Window limit for frames that do not declare their size: the window is the decoder's own allocation, so it is
 * held near maxBytes; but never below 8 MiB, since streaming producers (zstd-jni's ZstdOutputStream) use the
 * level's window for unknown input sizes, 2 MiB at level 3 and up to 8 MiB at level 19, however small the batch;
 * and never above 128 MiB (zstd's default limit).
 */
function zstdWindowLog(maxBytes: number): number {
  return Math.min(27, Math.max(23, Math.ceil(Math.log2(Math.max(1, maxBytes)))))
}

function zstdDecompress(data: Buffer, maxBytes: number): Buffer {
  if (data.length === 0) throw corrupt('zstd data is empty')
  // Pass 1: sum the content sizes the frames declare, so a bomb is refused before anything is allocated.
  let declared = 0
  let known = true
  let pos = 0
  while (pos < data.length) {
    const frame = data.subarray(pos)
    let size: number | null
    let compressedSize: number
    try {
      size = zstdBinding.getFrameContentSize(frame)
      compressedSize = zstdBinding.findFrameCompressedSize(frame)
    } catch (error) {
      throw corrupt('zstd frame header is malformed', error)
    }
    if (compressedSize <= 0) throw corrupt('zstd frame is empty')
    if (size === null) known = false
    else declared += size
    if (declared > maxBytes) throw tooLarge(`zstd data declares more than ${maxBytes} bytes`)
    pos += compressedSize
  }
  zstdContext ??= new zstdBinding.DCtx()
  const context = zstdContext
  try {
    context.reset(zstdBinding.ResetDirective.sessionOnly)
    if (known) {
      const output = Buffer.allocUnsafe(declared)
      const size = context.decompress(output, data)
      if (size !== declared) throw corrupt('zstd content size does not match its content')
      return output
    }
    context.setParameter(zstdBinding.DParameter.windowLogMax, zstdWindowLog(maxBytes))
    return zstdStream(context, data, maxBytes)
  } catch (error) {
    if (error instanceof WharfError) throw error
    // ZSTD_error_frameParameter_windowTooLarge: the frame wants a window beyond zstdWindowLog.
    if (error instanceof Error && error.message.includes('too much memory')) {
      throw tooLarge(`zstd frame needs a window beyond 2^${zstdWindowLog(maxBytes)} bytes`)
    }
    throw corrupt('zstd data does not decompress', error)
  }
}

/** Streaming decode with output bounded by maxBytes; every step consumes or produces, or the data is truncated. */
function zstdStream(context: zstdBinding.DCtx, data: Buffer, maxBytes: number): Buffer {
  const chunks: Buffer[] = []
  let total = 0
  let input = data
  for (;;) {
    // One byte more than the limit allows, so that overflowing output is seen rather than truncated.
    const room = Math.min(maxBytes - total + 1, Math.max(ZSTD_CHUNK_BYTES, input.length * 4))
    const chunk = Buffer.allocUnsafe(room)
    const [remaining, produced, consumed] = context.decompressStream(chunk, input)
    total += produced
    if (total > maxBytes) throw tooLarge(`zstd data decodes to more than ${maxBytes} bytes`)
    if (produced > 0) chunks.push(chunk.subarray(0, produced))
    input = input.subarray(consumed)
    if (input.length === 0 && remaining === 0) break
    if (produced === 0 && consumed === 0) throw corrupt('zstd data is truncated')
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)
}
