// The zstd frame layout (RFC 8878 §3.1), walked in plain JS before any decoder sees the bytes, so that every
// backend (native, node:zlib, pure JS) refuses a bomb or an oversized window the same way and before allocating:
// frame and block headers give the declared content sizes, the window each frame needs, and where each frame
// ends (truncation and trailing garbage are found here, not by the decoder).
import { corrupt, tooLarge } from '../errors.js'
import { needBytes, skippableFrameEnd } from '../skippable.js'

const FRAME_MAGIC = 0xfd2fb528
const RESERVED_BIT = 0x08
const CHECKSUM_FLAG = 0x04
const SINGLE_SEGMENT_FLAG = 0x20
const BLOCK_HEADER_BYTES = 3
const BLOCK_TYPE_RLE = 1
const BLOCK_TYPE_RESERVED = 3
/** No block's Block_Size (stored bytes, or decoded bytes of a raw or RLE block) exceeds this. */
const BLOCK_MAX_BYTES = 128 * 1024

export interface ZstdFrames {
  /** Sum of the content sizes the frames declare (skippable frames count 0). */
  declared: number
  /** Whether every frame declares its content size (then `declared` is the exact decoded size). */
  known: boolean
}

/**
 * Window limit for decoding: the window is the decoder's own allocation, so it is held near maxBytes; but never
 * below 8 MiB, since streaming producers (zstd-jni's ZstdOutputStream) use the level's window for unknown input
 * sizes, 2 MiB at level 3 and up to 8 MiB at level 19, however small the batch; and never above 128 MiB (zstd's
 * default limit).
 */
export function zstdWindowLog(maxBytes: number): number {
  return Math.min(27, Math.max(23, Math.ceil(Math.log2(Math.max(1, maxBytes)))))
}

function need(data: Buffer, pos: number, bytes: number): void {
  needBytes(data, pos, bytes, 'zstd')
}

function readLE(data: Buffer, pos: number, bytes: number): number {
  let value = 0
  for (let index = bytes - 1; index >= 0; index--) value = value * 256 + data[pos + index]!
  return value
}

/**
 * Walks every frame of data: refuses (RECORD_TOO_LARGE) declared sizes summing past maxBytes and windows beyond
 * 2^zstdWindowLog(maxBytes); refuses (CORRUPT_RECORD) bad magic, reserved bits or block types, and frames that
 * are truncated or followed by stray bytes.
 */
export function walkZstdFrames(data: Buffer, maxBytes: number): ZstdFrames {
  if (data.length === 0) throw corrupt('zstd data is empty')
  const windowMax = 2 ** zstdWindowLog(maxBytes)
  let declared = 0
  let known = true
  let pos = 0
  while (pos < data.length) {
    const skipped = skippableFrameEnd(data, pos, 'zstd')
    if (skipped !== null) {
      pos = skipped
      continue
    }
    if (data.readUInt32LE(pos) !== FRAME_MAGIC) throw corrupt('zstd frame has a bad magic number')
    pos += 4
    need(data, pos, 1)
    const descriptor = data[pos++]!
    if ((descriptor & RESERVED_BIT) !== 0) throw corrupt('zstd frame header sets a reserved bit')
    const singleSegment = (descriptor & SINGLE_SEGMENT_FLAG) !== 0
    const sizeFlag = descriptor >> 6
    const sizeBytes = sizeFlag === 0 ? (singleSegment ? 1 : 0) : 1 << sizeFlag
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!
    let window = 0
    if (!singleSegment) {
      need(data, pos, 1)
      const windowDescriptor = data[pos++]!
      const base = 2 ** (10 + (windowDescriptor >> 3))
      window = base + (base / 8) * (windowDescriptor & 7)
    }
    need(data, pos, dictionaryBytes + sizeBytes)
    pos += dictionaryBytes
    let contentSize: number | null = null
    if (sizeBytes > 0) {
      contentSize = readLE(data, pos, sizeBytes) + (sizeBytes === 2 ? 256 : 0)
      pos += sizeBytes
    }
    if (singleSegment) window = contentSize!
    if (window > windowMax) throw tooLarge(`zstd frame needs a window beyond 2^${zstdWindowLog(maxBytes)} bytes`)
    if (contentSize === null) known = false
    else declared += contentSize
    if (declared > maxBytes) throw tooLarge(`zstd data declares more than ${maxBytes} bytes`)
    for (let last = false; !last; ) {
      need(data, pos, BLOCK_HEADER_BYTES)
      const header = readLE(data, pos, BLOCK_HEADER_BYTES)
      pos += BLOCK_HEADER_BYTES
      last = (header & 1) === 1
      const type = (header >> 1) & 3
      const size = header >>> 3
      if (type === BLOCK_TYPE_RESERVED) throw corrupt('zstd block has the reserved block type')
      if (size > BLOCK_MAX_BYTES) throw corrupt('zstd block is larger than 128 KiB')
      const stored = type === BLOCK_TYPE_RLE ? 1 : size
      need(data, pos, stored)
      pos += stored
    }
    if ((descriptor & CHECKSUM_FLAG) !== 0) {
      need(data, pos, 4)
      pos += 4
    }
  }
  return { declared, known }
}
