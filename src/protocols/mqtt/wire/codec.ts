// Sans-I/O MQTT framing around mqtt-packet. mqtt-packet parses every packet type of 3.1, 3.1.1 and 5.0, but
// buffers a frame of any announced length (up to 256 MiB) before parsing it; so frames are cut here first,
// with the announced Remaining Length checked against our bound before a byte of the body is kept. Each
// complete frame is then handed to mqtt-packet on its own, so a parser error is tied to exactly one frame.

import type { Packet } from 'mqtt-packet'
import mqttPacket from 'mqtt-packet'

export type { Packet } from 'mqtt-packet'

/** A frame the decoder refused: `reason` is the MQTT 5 reason code for the DISCONNECT (or CONNACK). */
export class MqttFrameError extends Error {
  constructor(
    readonly reason: number,
    message: string,
    /** The frame was a CONNECT with an unknown protocol level (answered with CONNACK 0x01 / 0x84). */
    readonly badProtocolLevel = false,
  ) {
    super(message)
  }
}

const PACKET_TOO_LARGE = 0x95
const MALFORMED = 0x81
const PUBACK_BYTE = 0x40
const PUBCOMP_BYTE = 0x70

export class MqttDecoder {
  readonly #parser = mqttPacket.parser()
  readonly #chunks: Buffer[] = []
  #buffered = 0
  #packets: Array<{ packet: Packet; frame: Buffer }> = []
  #frame: Buffer = Buffer.alloc(0)
  #error: Error | null = null
  /** Upper bound of one whole frame (fixed header included). */
  maxPacketBytes: number

  constructor(maxPacketBytes: number) {
    this.maxPacketBytes = maxPacketBytes
    this.#parser.on('packet', (packet: Packet) => this.#packets.push({ packet, frame: this.#frame }))
    this.#parser.on('error', (error: Error) => {
      this.#error ??= error
    })
  }

  /** Bytes waiting for the rest of their frame. */
  get buffered(): number {
    return this.#buffered
  }

  /**
   * Feeds bytes; returns the complete packets, each with its frame (for checks mqtt-packet cannot do).
   * Throws MqttFrameError on a bad or oversized frame.
   */
  push(chunk: Buffer): Array<{ packet: Packet; frame: Buffer }> {
    if (chunk.length > 0) {
      this.#chunks.push(chunk)
      this.#buffered += chunk.length
    }
    const out: Array<{ packet: Packet; frame: Buffer }> = []
    for (;;) {
      const head = this.#peekHeader()
      if (head === null) break
      const total = head.headerBytes + head.remaining
      if (total > this.maxPacketBytes) {
        throw new MqttFrameError(
          PACKET_TOO_LARGE,
          `packet of ${total} bytes exceeds the maximum of ${this.maxPacketBytes}`,
        )
      }
      if (this.#buffered < total) break
      const frame = this.#take(total)
      if (total === 4 && (frame[0] === PUBACK_BYTE || frame[0] === PUBCOMP_BYTE) && frame[1] === 2) {
        // The bulk of a subscriber's traffic: a plain PUBACK/PUBCOMP (4 bytes in every version; a v5 one
        // with reason 0 and no properties may omit both). Decoded here, without mqtt-packet's machinery.
        const messageId = (frame[2]! << 8) | frame[3]!
        out.push({ packet: { cmd: frame[0] === PUBACK_BYTE ? 'puback' : 'pubcomp', messageId }, frame })
        continue
      }
      this.#packets = out
      this.#frame = frame
      this.#parser.parse(frame)
      if (this.#error !== null) {
        const message = this.#error.message
        const badLevel = frame[0]! >> 4 === 1 && /protocol version|protocolId/i.test(message)
        throw new MqttFrameError(MALFORMED, message, badLevel)
      }
    }
    return out
  }

  /** Fixed header of the next frame once its length bytes are in: null while incomplete. */
  #peekHeader(): { headerBytes: number; remaining: number } | null {
    if (this.#buffered < 2) return null
    let remaining = 0
    let multiplier = 1
    for (let i = 1; i <= 4; i++) {
      if (i >= this.#buffered) return null
      const byte = this.#byteAt(i)
      remaining += (byte & 0x7f) * multiplier
      if ((byte & 0x80) === 0) return { headerBytes: i + 1, remaining }
      multiplier *= 128
    }
    // A fifth length byte is malformed [MQTT-1.5.5-1 / 2.2.3].
    throw new MqttFrameError(MALFORMED, 'Remaining Length longer than 4 bytes')
  }

  #byteAt(index: number): number {
    let i = index
    for (const chunk of this.#chunks) {
      if (i < chunk.length) return chunk[i]!
      i -= chunk.length
    }
    return -1
  }

  #take(bytes: number): Buffer {
    const first = this.#chunks[0]!
    let frame: Buffer
    if (first.length >= bytes) {
      frame = first.subarray(0, bytes)
      if (first.length === bytes) this.#chunks.shift()
      else this.#chunks[0] = first.subarray(bytes)
    } else {
      frame = Buffer.allocUnsafe(bytes)
      let copied = 0
      while (copied < bytes) {
        const chunk = this.#chunks[0]!
        const n = Math.min(chunk.length, bytes - copied)
        chunk.copy(frame, copied, 0, n)
        copied += n
        if (n === chunk.length) this.#chunks.shift()
        else this.#chunks[0] = chunk.subarray(n)
      }
    }
    this.#buffered -= bytes
    return frame
  }
}

/** Encodes one packet for a connection of the given protocol level. */
export function encodePacket(packet: Packet, protocolVersion: number): Buffer {
  return mqttPacket.generate(packet, { protocolVersion })
}

/**
 * Fixed and variable header of a PUBLISH whose payload is written separately (so a payload shared by many
 * subscribers is never copied). For MQTT 5 `properties` is the already encoded property block with its
 * length prefix (a single 0 byte when there are none). Returns null when the packet would exceed maxBytes.
 */
export function encodePublishHeader(
  topic: Buffer,
  payloadBytes: number,
  qos: number,
  retain: boolean,
  dup: boolean,
  messageId: number,
  properties: Buffer | null,
  maxBytes: number,
): Buffer | null {
  const variable = 2 + topic.length + (qos > 0 ? 2 : 0) + (properties === null ? 0 : properties.length)
  const remaining = variable + payloadBytes
  const lengthBytes = remaining < 0x80 ? 1 : remaining < 0x4000 ? 2 : remaining < 0x200000 ? 3 : 4
  if (1 + lengthBytes + remaining > maxBytes || remaining > 0xfffffff) return null
  const out = Buffer.allocUnsafe(1 + lengthBytes + variable)
  out[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0)
  let at = 1
  let rest = remaining
  do {
    let byte = rest & 0x7f
    rest >>>= 7
    if (rest > 0) byte |= 0x80
    out[at++] = byte
  } while (rest > 0)
  out.writeUInt16BE(topic.length, at)
  at += 2
  at += topic.copy(out, at)
  if (qos > 0) {
    out.writeUInt16BE(messageId, at)
    at += 2
  }
  if (properties !== null) properties.copy(out, at)
  return out
}
