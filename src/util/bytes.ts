// Buffers that outlive the call that produced them (queued messages) must not pin the socket read buffer
// they were sliced from: a 1 KiB payload viewed inside a 64 KiB read keeps all 64 KiB alive.

/** Views whose backing store exceeds their length by more than this are copied (Node's pool slab is 8 KiB). */
export const PIN_SLACK_BYTES = 16 * 1024

/** buf itself when it is compact, else a copy of just its bytes. */
export function unpinned(buf: Buffer): Buffer {
  if (buf.buffer.byteLength - buf.length <= PIN_SLACK_BYTES) return buf
  const copy = Buffer.allocUnsafe(buf.length)
  buf.copy(copy)
  return copy
}
