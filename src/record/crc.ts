// CRC-32C (Castagnoli), the checksum of RecordBatch v2. Native (SSE4.2/ARMv8 CRC instructions via @node-rs/crc32):
// a JS table loop runs at a few hundred MB/s, which would make CRC the most expensive step of produce and recovery.
import { crc32c as nativeCrc32c } from '@node-rs/crc32'

/** CRC-32C of buf as an unsigned 32-bit number; pass a previous result as initial to continue a running CRC. */
export function crc32c(buf: Uint8Array, initial = 0): number {
  return nativeCrc32c(buf, initial) >>> 0
}
