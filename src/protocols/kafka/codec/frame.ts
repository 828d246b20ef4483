// Framing: every Kafka message is `int32 size` + payload. FrameSplitter turns a byte stream into whole frames
// (push bytes in, frames out; sans-I/O), and the helpers below read a request and write a framed response.
import { assert } from '../../../util/assert.js'
import { WharfError } from '../../../util/errors.js'
import type { KafkaApi } from './api.js'
import { kafkaApis } from './generated/apis.js'
import { decodeRequestHeader, encodeRequestHeader, type RequestHeader } from './generated/request-header.js'
import { encodeResponseHeader } from './generated/response-header.js'
import { malformed, Reader } from './reader.js'
import { Writer } from './writer.js'

/** Kafka's own default for socket.request.max.bytes (100 MiB). */
export const frameBytesMaxDefault = 100 * 1024 * 1024

export class FrameSplitter {
  private readonly pending: Buffer[] = []
  private pendingBytes = 0
  /** Payload size of the frame being assembled, or -1 while its size prefix is incomplete. */
  private frameBytes = -1

  /** Checked when a frame's size arrives; the owner may lower it (before authentication) or raise it. */
  constructor(public frameBytesMax = frameBytesMaxDefault) {
    assert(frameBytesMax > 0, 'frameBytesMax must be positive')
  }

  /** Returns every frame (payload without the size prefix) completed by `chunk`. Frames inside one chunk are
   *  zero-copy views of it; a frame split across chunks is joined once, when its last byte arrives. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = []
    if (this.pendingBytes > 0) {
      if (this.frameBytes < 0) {
        chunk = this.take(chunk, 4)
        if (this.pendingBytes < 4) return frames
        this.frameBytes = this.checkSize(Buffer.concat(this.pending, 4).readInt32BE(0))
      }
      chunk = this.take(chunk, 4 + this.frameBytes)
      if (this.pendingBytes < 4 + this.frameBytes) return frames
      frames.push(Buffer.concat(this.pending, this.pendingBytes).subarray(4))
      this.pending.length = 0
      this.pendingBytes = 0
      this.frameBytes = -1
    }
    let pos = 0
    while (chunk.length - pos >= 4) {
      const size = this.checkSize(chunk.readInt32BE(pos))
      if (chunk.length - pos - 4 < size) {
        this.frameBytes = size
        break
      }
      frames.push(chunk.subarray(pos + 4, pos + 4 + size))
      pos += 4 + size
    }
    if (pos < chunk.length) {
      this.pending.push(chunk.subarray(pos))
      this.pendingBytes = chunk.length - pos
    }
    return frames
  }

  /** Bytes buffered towards the next frame (for per-connection memory accounting). */
  get bufferedBytes(): number {
    return this.pendingBytes
  }

  /** Moves bytes from the head of `chunk` into `pending` until it holds `total`; returns the rest. */
  private take(chunk: Buffer, total: number): Buffer {
    const n = Math.min(total - this.pendingBytes, chunk.length)
    this.pending.push(chunk.subarray(0, n))
    this.pendingBytes += n
    return chunk.subarray(n)
  }

  private checkSize(size: number): number {
    if (size < 0) throw malformed(`negative frame size ${size}`)
    if (size > this.frameBytesMax) {
      throw new WharfError('LIMIT_EXCEEDED', `kafka: frame of ${size} bytes exceeds ${this.frameBytesMax}`)
    }
    return size
  }
}

export interface DecodedRequest {
  header: RequestHeader
  /** The API descriptor, or undefined for an API key this broker does not serve. */
  api: KafkaApi | undefined
  /** Reader positioned at the body; decode with api.decodeRequest(body, header.requestApiVersion). */
  body: Reader
}

/** Reads the request header of one frame. The header version follows from the API key and version (v2 for
 *  flexible versions, with clientId still a classic string); an unknown API gets header v1. The body is left
 *  undecoded so the caller can answer an unsupported version (ApiVersions: with error 35 in v0 layout). */
export function readRequest(frame: Buffer): DecodedRequest {
  if (frame.length < 4) throw malformed('request shorter than its header')
  const api = kafkaApis.get(frame.readInt16BE(0))
  const version = frame.readInt16BE(2)
  const r = new Reader(frame)
  const header = decodeRequestHeader(r, api?.isFlexible(version) === true ? 2 : 1)
  return { header, api, body: r }
}

/** Size prefix + response header + body, as chunks ready for cork()/writev. */
export function encodeResponseFrame<Res>(
  api: KafkaApi<unknown, Res>,
  version: number,
  correlationId: number,
  body: Res,
  initialBytes?: number,
): { chunks: Buffer[]; length: number } {
  const w = new Writer(initialBytes)
  w.int32(0) // size, patched below
  encodeResponseHeader(w, { correlationId }, api.responseHeaderVersion(version))
  api.encodeResponse(w, body, version)
  const length = w.length
  const chunks = w.finish()
  // The first chunk always starts with the placeholder: it was the first thing written to scratch.
  chunks[0]!.writeInt32BE(length - 4, 0)
  return { chunks, length }
}

/** Size prefix + request header + body (the client direction; used by tests and tools). */
export function encodeRequestFrame<Req>(
  api: KafkaApi<Req, unknown>,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: Req,
): { chunks: Buffer[]; length: number } {
  const w = new Writer()
  w.int32(0)
  const header = { requestApiKey: api.apiKey, requestApiVersion: version, correlationId, clientId }
  encodeRequestHeader(w, header, api.requestHeaderVersion(version))
  api.encodeRequest(w, body, version)
  const length = w.length
  const chunks = w.finish()
  chunks[0]!.writeInt32BE(length - 4, 0)
  return { chunks, length }
}
