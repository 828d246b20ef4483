// The cluster link's framing: a 4-byte big-endian length, then one frame: a 4-byte length and a JSON document,
// followed by the document's byte strings (record bytes, message keys, values and header values), each a 4-byte
// length and its bytes. The document names each one by its place in that list, {"$b": index}: bytes travel as
// they are, not as base64 inside the JSON. Each side bounds the frame it accepts, smaller until the peer has
// proved it knows the cluster's secret.
import { WharfError } from '../../util/errors.js'

/** A frame a peer may send before it has authenticated (the handshake's few fields). */
export const HANDSHAKE_FRAME_BYTES_MAX = 4096

/**
 * The document with each Buffer replaced by its place in `buffers`. A walk of its own rather than a JSON.stringify
 * replacer: stringify calls a Buffer's toJSON (an array of every byte as a number) before any replacer sees it.
 */
function extractBuffers(value: unknown, buffers: Buffer[]): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Buffer.isBuffer(value)) return { $b: buffers.push(value) - 1 }
  if (Array.isArray(value)) return value.map((item) => extractBuffers(item, buffers))
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) out[key] = extractBuffers(item, buffers)
  return out
}

export function encodeFrame(body: unknown): Buffer {
  const buffers: Buffer[] = []
  const json = Buffer.from(JSON.stringify(extractBuffers(body, buffers)), 'utf8')
  let bytes = 0
  for (const buffer of buffers) bytes += 4 + buffer.length
  const frame = Buffer.allocUnsafe(8 + json.length + bytes)
  frame.writeUInt32BE(4 + json.length + bytes, 0)
  frame.writeUInt32BE(json.length, 4)
  let at = 8 + json.copy(frame, 8)
  for (const buffer of buffers) {
    frame.writeUInt32BE(buffer.length, at)
    at += 4 + buffer.copy(frame, at + 4)
  }
  return frame
}

/** One frame's document, its byte strings put back where the document names them. */
function decodeFrame(frame: Buffer): unknown {
  const invalid = (why: string) => new WharfError('INVALID_ARGUMENT', `cluster link frame: ${why}`)
  if (frame.length < 4) throw invalid('no document length')
  const jsonEnd = 4 + frame.readUInt32BE(0)
  if (jsonEnd > frame.length) throw invalid('document longer than the frame')
  const buffers: Buffer[] = []
  for (let at = jsonEnd; at < frame.length; ) {
    if (at + 4 > frame.length) throw invalid('truncated byte string')
    const end = at + 4 + frame.readUInt32BE(at)
    if (end > frame.length) throw invalid('byte string longer than the frame')
    // A copy: a message kept (queued, in flight) must not hold the whole frame it came in.
    buffers.push(Buffer.from(frame.subarray(at + 4, end)))
    at = end
  }
  let document: unknown
  try {
    document = JSON.parse(frame.toString('utf8', 4, jsonEnd), (_key, value: unknown) => {
      if (value === null || typeof value !== 'object' || !('$b' in value) || Object.keys(value).length !== 1)
        return value
      const buffer = buffers[(value as { $b: unknown }).$b as number]
      if (buffer === undefined) throw invalid('names a byte string it does not carry')
      return buffer
    })
  } catch (error) {
    throw error instanceof WharfError ? error : invalid('document is not JSON')
  }
  return document
}

/** Splits a byte stream into frames; a frame over the current bound is an error (the link is closed). */
export class FrameReader {
  bytesMax: number
  #buffered: Buffer[] = []
  #length = 0

  constructor(bytesMax: number) {
    this.bytesMax = bytesMax
  }

  /**
   * The frames completed by chunk. Chunks are joined once per frame, when all of it has arrived (a large frame
   * in many chunks is not copied again with each one).
   */
  push(chunk: Buffer): unknown[] {
    this.#buffered.push(chunk)
    this.#length += chunk.length
    const frames: unknown[] = []
    while (this.#length >= 4) {
      if (this.#buffered[0]!.length < 4) this.#buffered = [Buffer.concat(this.#buffered)]
      const size = this.#buffered[0]!.readUInt32BE(0)
      if (size > this.bytesMax)
        throw new WharfError('LIMIT_EXCEEDED', `cluster link frame of ${size} bytes exceeds ${this.bytesMax}`)
      if (this.#length < 4 + size) break
      const all = this.#buffered.length === 1 ? this.#buffered[0]! : Buffer.concat(this.#buffered)
      const frame = all.subarray(4, 4 + size)
      const rest = all.subarray(4 + size)
      this.#buffered = rest.length > 0 ? [rest] : []
      this.#length = rest.length
      frames.push(decodeFrame(frame))
    }
    return frames
  }
}
