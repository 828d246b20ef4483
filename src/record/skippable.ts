// Skippable frames, which the LZ4 frame format and zstd define identically (magic 0x184D2A50–5F, a 4-byte
// little-endian size, then that many bytes to ignore), and the bounds check both frame walkers use.
import { corrupt } from './errors.js'

const SKIPPABLE_MAGIC = 0x184d2a50
const SKIPPABLE_MASK = 0xfffffff0

/** Throws CORRUPT_RECORD ("<codec> frame is truncated") unless `bytes` bytes follow pos. */
export function needBytes(data: Buffer, pos: number, bytes: number, codec: string): void {
  if (data.length - pos < bytes) throw corrupt(`${codec} frame is truncated`)
}

/** Where the skippable frame at pos ends, or null when pos starts another kind of frame (4 bytes checked). */
export function skippableFrameEnd(data: Buffer, pos: number, codec: string): number | null {
  needBytes(data, pos, 4, codec)
  if ((data.readUInt32LE(pos) & SKIPPABLE_MASK) >>> 0 !== SKIPPABLE_MAGIC) return null
  needBytes(data, pos, 8, codec)
  const size = data.readUInt32LE(pos + 4)
  needBytes(data, pos + 8, size, codec)
  return pos + 8 + size
}
