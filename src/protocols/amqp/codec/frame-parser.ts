// Sans-I/O frame parser: push socket bytes in any split, get whole frames back. It checks only framing
// (protocol header, frame type, size against frame-max, frame-end); what a frame means on a channel is
// the connection state machine's business. After the first error every push rethrows it: the
// connection is dead and must be closed with the error's reply code.
import { assert } from '../../../util/assert.js'
import { AmqpFrameError, AmqpProtocolHeaderError, frameError } from './errors.js'
import {
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  PROTOCOL_HEADER,
} from './generated/constants.js'

export type FrameType = typeof FRAME_METHOD | typeof FRAME_HEADER | typeof FRAME_BODY | typeof FRAME_HEARTBEAT

export interface AmqpFrame {
  type: FrameType
  channel: number
  /** The frame's payload; a view into the pushed chunk when the frame arrived whole, else a copy. */
  payload: Buffer
}

/** type (1) + channel (2) + size (4) before the payload, frame-end (1) after it. */
export const FRAME_OVERHEAD_BYTES = 8
const FRAME_HEADER_BYTES = 7

/**
 * The smallest frame-max either side may impose: the 0-9-1 spec's FRAME-MIN-SIZE. RabbitMQ 4.1 raised its
 * own to 8192 (the JSON's value), but amqplib < 0.10.7 offers 4096, so Wharf accepts that.
 */
export const FRAME_MAX_FLOOR = 4096
export const FRAME_MAX_CEILING = 0xffff_ffff

export interface FrameParserOptions {
  /** Largest whole frame accepted (header and frame-end included); raise it after tune-ok. */
  frameMax: number
  /** Servers expect the client's protocol header before the first frame; clients do not. */
  expectProtocolHeader: boolean
}

export function checkFrameMax(frameMax: number): void {
  assert(
    Number.isInteger(frameMax) && frameMax >= FRAME_MAX_FLOOR && frameMax <= FRAME_MAX_CEILING,
    `frameMax ${frameMax}`,
  )
}

export class AmqpFrameParser {
  #frameMax: number
  /** Bytes of the protocol header still expected (8 → 0). */
  #protocolHeaderMissing: number
  readonly #head = Buffer.alloc(FRAME_HEADER_BYTES)
  #headFill = 0
  /** Payload of the frame being assembled across pushes, sized from its header. */
  #payload: Buffer | undefined
  #payloadFill = 0
  #failure: AmqpFrameError | undefined

  constructor(options: FrameParserOptions) {
    checkFrameMax(options.frameMax)
    this.#frameMax = options.frameMax
    this.#protocolHeaderMissing = options.expectProtocolHeader ? PROTOCOL_HEADER.length : 0
  }

  get frameMax(): number {
    return this.#frameMax
  }

  /** Applies the negotiated frame-max; frames already being assembled were checked against the old one. */
  setFrameMax(frameMax: number): void {
    checkFrameMax(frameMax)
    this.#frameMax = frameMax
  }

  /** True while the protocol header has not fully arrived. */
  get awaitingProtocolHeader(): boolean {
    return this.#protocolHeaderMissing > 0
  }

  /** Parses as many frames as the bytes complete; throws AmqpFrameError (sticky) on bad input. */
  push(chunk: Buffer): AmqpFrame[] {
    if (this.#failure) throw this.#failure
    try {
      return this.#parse(chunk)
    } catch (error) {
      if (error instanceof AmqpFrameError) this.#failure = error
      throw error
    }
  }

  #parse(chunk: Buffer): AmqpFrame[] {
    const frames: AmqpFrame[] = []
    let pos = this.#protocolHeaderMissing > 0 ? this.#consumeProtocolHeader(chunk) : 0
    while (pos < chunk.length) {
      if (this.#payload === undefined && this.#headFill === 0) {
        // Fast path: a whole frame inside this chunk is returned as a view, without copying.
        const whole = this.#wholeFrameAt(chunk, pos)
        if (whole !== undefined) {
          frames.push(whole)
          pos += whole.payload.length + FRAME_OVERHEAD_BYTES
          continue
        }
      }
      pos = this.#assemble(chunk, pos, frames)
    }
    return frames
  }

  #consumeProtocolHeader(chunk: Buffer): number {
    const start = PROTOCOL_HEADER.length - this.#protocolHeaderMissing
    const take = Math.min(this.#protocolHeaderMissing, chunk.length)
    for (let i = 0; i < take; i++) {
      // Fail on the first wrong byte so an HTTP or AMQP 1.0 client is answered at once.
      if (chunk[i] !== PROTOCOL_HEADER[start + i]) {
        const received = Buffer.concat([PROTOCOL_HEADER.subarray(0, start), chunk.subarray(0, Math.min(take, i + 1))])
        throw new AmqpProtocolHeaderError(received)
      }
    }
    this.#protocolHeaderMissing -= take
    return take
  }

  #checkHeader(type: number, size: number): FrameType {
    if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY && type !== FRAME_HEARTBEAT) {
      throw frameError(`unknown frame type ${type}`)
    }
    if (size > this.#frameMax - FRAME_OVERHEAD_BYTES) {
      throw frameError(`frame size ${size} exceeds frame-max ${this.#frameMax}`)
    }
    return type
  }

  #wholeFrameAt(chunk: Buffer, pos: number): AmqpFrame | undefined {
    if (chunk.length - pos < FRAME_HEADER_BYTES) return undefined
    const size = chunk.readUInt32BE(pos + 3)
    const type = this.#checkHeader(chunk[pos]!, size)
    const end = pos + FRAME_HEADER_BYTES + size
    if (end >= chunk.length) return undefined
    if (chunk[end] !== FRAME_END) throw frameError(`bad frame-end octet 0x${chunk[end]!.toString(16)}`)
    return { type, channel: chunk.readUInt16BE(pos + 1), payload: chunk.subarray(pos + FRAME_HEADER_BYTES, end) }
  }

  /** Slow path for frames split across pushes: header into a scratch, payload into its own buffer. */
  #assemble(chunk: Buffer, pos: number, frames: AmqpFrame[]): number {
    if (this.#payload === undefined) {
      const take = Math.min(FRAME_HEADER_BYTES - this.#headFill, chunk.length - pos)
      chunk.copy(this.#head, this.#headFill, pos, pos + take)
      this.#headFill += take
      pos += take
      if (this.#headFill < FRAME_HEADER_BYTES) return pos
      const size = this.#head.readUInt32BE(3)
      this.#checkHeader(this.#head[0]!, size)
      // Bounded by frame-max, checked just above, so a hostile size cannot force a huge allocation.
      this.#payload = Buffer.allocUnsafe(size)
      this.#payloadFill = 0
    }
    const payload = this.#payload
    const take = Math.min(payload.length - this.#payloadFill, chunk.length - pos)
    chunk.copy(payload, this.#payloadFill, pos, pos + take)
    this.#payloadFill += take
    pos += take
    if (this.#payloadFill < payload.length || pos >= chunk.length) return pos
    if (chunk[pos] !== FRAME_END) throw frameError(`bad frame-end octet 0x${chunk[pos]!.toString(16)}`)
    frames.push({ type: this.#head[0] as FrameType, channel: this.#head.readUInt16BE(1), payload })
    this.#payload = undefined
    this.#headFill = 0
    return pos + 1
  }
}
