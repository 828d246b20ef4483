// The three zstd implementations Wharf can run on, best first. zstd-napi is an optional dependency that compiles
// from C at install time, so a machine without a toolchain (or an `npm install --ignore-scripts`) has none;
// node:zlib has zstd from Node 22.15 / 23.8 on; fzstd is pure JS and only decompresses. Every backend gets data
// that walkZstdFrames already accepted (sizes, windows and framing checked), so each one only has to keep its
// own output within maxBytes and report failures; the caller maps them to WharfErrors.
import { createRequire } from 'node:module'
import * as zlib from 'node:zlib'
import { Decompress } from 'fzstd'
import type * as ZstdNapi from 'zstd-napi/binding.js'
import { WharfError } from '../../util/errors.js'
import { corrupt, tooLarge } from '../errors.js'
import { zstdWindowLog } from './frame.js'

export interface ZstdBackend {
  readonly name: 'zstd-napi' | 'node:zlib' | 'fzstd'
  /** Absent when the backend cannot compress (fzstd). */
  readonly compress?: (data: Buffer) => Buffer
  /** Decodes every frame; `declared` is the exact size when every frame declares one, else null. */
  decompress(data: Buffer, declared: number | null, maxBytes: number): Buffer
}

/** zstd's and Kafka's default level. */
const LEVEL = 3
/** Output chunk of the streaming path (ZSTD_DStreamOutSize). */
const CHUNK_BYTES = 128 * 1024

function loadNapi(): typeof ZstdNapi | undefined {
  try {
    return createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdNapi
  } catch {
    return undefined // not installed, or installed without its compiled binding
  }
}

function napiBackend(binding: typeof ZstdNapi): ZstdBackend {
  // One context each for the process (coding is synchronous, so never shared concurrently).
  let decoder: ZstdNapi.DCtx | undefined
  let encoder: ZstdNapi.CCtx | undefined
  return {
    name: 'zstd-napi',
    compress(data) {
      encoder ??= new binding.CCtx()
      const output = Buffer.allocUnsafe(binding.compressBound(data.length))
      return output.subarray(0, encoder.compress(output, data, LEVEL))
    },
    decompress(data, declared, maxBytes) {
      decoder ??= new binding.DCtx()
      decoder.reset(binding.ResetDirective.sessionOnly)
      if (declared !== null) {
        const output = Buffer.allocUnsafe(declared)
        if (decoder.decompress(output, data) !== declared) throw corrupt('zstd content size does not match')
        return output
      }
      decoder.setParameter(binding.DParameter.windowLogMax, zstdWindowLog(maxBytes))
      return napiStream(decoder, data, maxBytes)
    },
  }
}

/** Streaming decode with output bounded by maxBytes; every step consumes or produces, or the data is truncated. */
function napiStream(context: ZstdNapi.DCtx, data: Buffer, maxBytes: number): Buffer {
  const chunks: Buffer[] = []
  let total = 0
  let input = data
  for (;;) {
    // One byte more than the limit allows, so that overflowing output is seen rather than truncated.
    const room = Math.min(maxBytes - total + 1, Math.max(CHUNK_BYTES, input.length * 4))
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

/** node:zlib's zstd (Node ≥ 22.15); typed here because the project's @types/node is Node 20's. */
interface ZlibZstd {
  zstdCompressSync(data: Buffer, options: { params: Record<number, number> }): Buffer
  zstdDecompressSync(data: Buffer, options: { maxOutputLength: number; params: Record<number, number> }): Buffer
  constants: { ZSTD_c_compressionLevel: number; ZSTD_d_windowLogMax: number }
}

function zlibBackend(): ZstdBackend | undefined {
  const z = zlib as unknown as Partial<ZlibZstd>
  if (typeof z.zstdCompressSync !== 'function' || typeof z.zstdDecompressSync !== 'function') return undefined
  const api = z as ZlibZstd
  return {
    name: 'node:zlib',
    compress: (data) => api.zstdCompressSync(data, { params: { [api.constants.ZSTD_c_compressionLevel]: LEVEL } }),
    decompress(data, declared, maxBytes) {
      let output: Buffer
      try {
        output = api.zstdDecompressSync(data, {
          // maxOutputLength must be at least 1; one byte over a declared size shows a frame that lies.
          maxOutputLength: Math.max(
            1,
            Math.min(declared === null ? maxBytes : declared + 1, zlib.constants.Z_MAX_CHUNK),
          ),
          params: { [api.constants.ZSTD_d_windowLogMax]: zstdWindowLog(maxBytes) },
        })
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw error
        if (declared !== null) throw corrupt('zstd content size does not match')
        throw tooLarge(`zstd data decodes to more than ${maxBytes} bytes`)
      }
      if (declared !== null && output.length !== declared) throw corrupt('zstd content size does not match')
      return output
    },
  }
}

function fzstdBackend(): ZstdBackend {
  return {
    name: 'fzstd',
    decompress(data, declared, maxBytes) {
      // The streaming decoder hands out one block (≤ 128 KiB) at a time, so the limit is checked as it grows.
      const limit = declared ?? maxBytes
      const chunks: Buffer[] = []
      let total = 0
      let ended = false
      const stream = new Decompress((chunk, final) => {
        total += chunk.length
        if (total > limit) {
          throw declared === null
            ? tooLarge(`zstd data decodes to more than ${maxBytes} bytes`)
            : corrupt('zstd content size does not match')
        }
        if (chunk.length > 0) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))
        if (final === true) ended = true
      })
      stream.push(data, true)
      if (!ended) throw corrupt('zstd data is truncated')
      if (declared !== null && total !== declared) throw corrupt('zstd content size does not match')
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)
    },
  }
}

/** Every backend this process can run, best first (tests run the codec tests against each). */
export function availableZstdBackends(): ZstdBackend[] {
  const napi = loadNapi()
  const backends: ZstdBackend[] = []
  if (napi !== undefined) backends.push(napiBackend(napi))
  const fromZlib = zlibBackend()
  if (fromZlib !== undefined) backends.push(fromZlib)
  backends.push(fzstdBackend())
  return backends
}

/** Maps a backend's own failure to CORRUPT_RECORD / RECORD_TOO_LARGE. */
export function zstdFailure(error: unknown, maxBytes: number): WharfError {
  if (error instanceof WharfError) return error
  // ZSTD_error_frameParameter_windowTooLarge, should a frame get past walkZstdFrames' window check.
  if (error instanceof Error && /too much memory|window ?size too large/i.test(error.message)) {
    return tooLarge(`zstd frame needs a window beyond 2^${zstdWindowLog(maxBytes)} bytes`)
  }
  return corrupt('zstd data does not decompress', error)
}
