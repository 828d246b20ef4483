// The cluster link's framing: a 4-byte big-endian length, then one JSON document. Buffers (record bytes,
// message keys, values and header values) travel as {"$b": base64}. Each side bounds the frame it accepts,
// smaller until the peer has proved it knows the cluster's secret.
import { WharfError } from '../../util/errors.js'

/** A frame a peer may send before it has authenticated (the handshake's few fields). */
export const HANDSHAKE_FRAME_BYTES_MAX = 4096

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key]
  return Buffer.isBuffer(raw) ? { $b: raw.toString('base64') } : value
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { $b?: unknown }).$b === 'string')
    return Buffer.from((value as { $b: string }).$b, 'base64')
  return value
}

export function encodeFrame(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body, replacer), 'utf8')
  const frame = Buffer.allocUnsafe(4 + json.length)
  frame.writeUInt32BE(json.length, 0)
  json.copy(frame, 4)
  return frame
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
      const json = all.subarray(4, 4 + size).toString('utf8')
      const rest = all.subarray(4 + size)
      this.#buffered = rest.length > 0 ? [rest] : []
      this.#length = rest.length
      try {
        frames.push(JSON.parse(json, reviver))
      } catch {
        throw new WharfError('INVALID_ARGUMENT', 'cluster link frame is not JSON')
      }
    }
    return frames
  }
}
