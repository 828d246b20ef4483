// AMQP 1.0 framing (Part 2.3): the 8-byte protocol headers and the frames after them. A frame is SIZE (4),
// DOFF (1, in 4-byte words), TYPE (0 AMQP, 1 SASL), a channel (2), then the performative (a described value)
// and, for a transfer, the message bytes. The parser is sans-I/O: it checks every size against the
// negotiated maximum before buffering, decodes the performative, and leaves the payload as a view.

import { Decoder } from './decoder.js'
import { Encoder } from './encoder.js'
import { type AnyInit, type Composite, fromDescribed, toDescribed } from './generated/types.js'
import { Amqp10DecodeError, Described } from './values.js'

export const FRAME_AMQP = 0
export const FRAME_SASL = 1

/** Protocol ids of the header: 0 plain AMQP, 2 TLS, 3 SASL. */
export const PROTOCOL_AMQP = 0
export const PROTOCOL_TLS = 2
export const PROTOCOL_SASL = 3

export function protocolHeader(id: number): Buffer {
  return Buffer.from([0x41, 0x4d, 0x51, 0x50, id, 1, 0, 0])
}

/** A frame too big, too small or malformed: the connection closes with the condition. */
export class Amqp10FrameError extends Error {
  constructor(
    message: string,
    readonly condition: string,
  ) {
    super(message)
  }
}

export interface Frame {
  type: number
  channel: number
  /** null for an empty frame (a heartbeat). */
  performative: Composite | Described | null
  /** What follows the performative (a transfer's message bytes); a view into the input. */
  payload: Buffer
}

export type ParsedItem = { header: number } | Frame

export class FrameParser {
  #buffer: Buffer = Buffer.alloc(0)
  #expectHeader = true
  /** The largest frame accepted; the connection raises it to its own max-frame-size after open. */
  maxFrameSize: number

  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize
  }

  /** The next 8 bytes are a protocol header (after a SASL outcome the client sends the AMQP one). */
  expectHeader(): void {
    this.#expectHeader = true
  }

  /** Keeps bytes without parsing them (while the connection waits, e.g. for a login). */
  append(chunk: Buffer): void {
    if (chunk.length > 0) this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
  }

  /**
   * Parses what has arrived. Stops after a protocol header and after a SASL frame, whose answers decide how
   * the bytes after them are read (another header follows a SASL outcome).
   */
  push(chunk: Buffer): ParsedItem[] {
    this.append(chunk)
    const out: ParsedItem[] = []
    let pos = 0
    const buf = this.#buffer
    while (true) {
      if (this.#expectHeader) {
        const available = buf.length - pos
        // Fail on the first wrong byte, so that an HTTP or other client is answered at once.
        for (let i = 0; i < Math.min(available, 4); i++)
          if (buf[pos + i] !== [0x41, 0x4d, 0x51, 0x50][i])
            throw new Amqp10FrameError('not an AMQP protocol header', 'amqp:connection:framing-error')
        if (available < 8) break
        if (buf[pos + 5] !== 1 || buf[pos + 6] !== 0 || buf[pos + 7] !== 0)
          throw new Amqp10FrameError('unsupported AMQP version', 'amqp:connection:framing-error')
        out.push({ header: buf[pos + 4]! })
        pos += 8
        this.#expectHeader = false
        // Frames after the header wait until the connection has answered it (it may expect another header).
        break
      }
      if (buf.length - pos < 8) break
      const size = buf.readUInt32BE(pos)
      const doff = buf[pos + 4]!
      if (size < 8 || doff < 2 || doff * 4 > size)
        throw new Amqp10FrameError(`malformed frame (size ${size}, doff ${doff})`, 'amqp:connection:framing-error')
      if (size > this.maxFrameSize)
        throw new Amqp10FrameError(
          `frame of ${size} bytes exceeds max-frame-size ${this.maxFrameSize}`,
          'amqp:connection:framing-error',
        )
      if (buf.length - pos < size) break
      const frame = decodeFrame(buf, pos, size, doff)
      out.push(frame)
      pos += size
      if (frame.type === FRAME_SASL) break
    }
    this.#buffer = pos === buf.length ? Buffer.alloc(0) : buf.subarray(pos)
    return out
  }

  /** Bytes received but not yet a whole frame. */
  get buffered(): number {
    return this.#buffer.length
  }
}

function decodeFrame(buf: Buffer, pos: number, size: number, doff: number): Frame {
  const type = buf[pos + 5]!
  const channel = buf.readUInt16BE(pos + 6)
  const bodyStart = pos + doff * 4
  const end = pos + size
  if (bodyStart === end) return { type, channel, performative: null, payload: buf.subarray(end, end) }
  const decoder = new Decoder(buf, bodyStart, end)
  const value = decoder.value()
  if (!(value instanceof Described))
    throw new Amqp10DecodeError('a frame body must start with a described performative')
  return { type, channel, performative: fromDescribed(value), payload: buf.subarray(decoder.pos, end) }
}

/** One frame's bytes: header, performative, then the payload (if any). */
export function encodeFrame(type: number, channel: number, performative: AnyInit | null, payload?: Buffer): Buffer {
  const e = new Encoder(64 + (payload?.length ?? 0))
  for (let i = 0; i < 8; i++) e.byte(0)
  if (performative !== null) e.value(toDescribed(performative))
  if (payload !== undefined) e.bytes(payload)
  const frame = e.result()
  frame.writeUInt32BE(frame.length, 0)
  frame[4] = 2
  frame[5] = type
  frame.writeUInt16BE(channel, 6)
  return frame
}
