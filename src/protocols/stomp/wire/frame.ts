// A STOMP frame as the parser hands it over and the encoder takes it, the codec's bounds, and its one error
// type. Headers keep the first value of a repeated name (STOMP 1.2 "Repeated Header Entries").

export type StompVersion = '1.0' | '1.1' | '1.2'

/** The commands a client may send; anything else is a protocol error. */
export const clientCommands = new Set([
  'CONNECT',
  'STOMP',
  'SEND',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'ACK',
  'NACK',
  'BEGIN',
  'COMMIT',
  'ABORT',
  'DISCONNECT',
])

export interface Frame {
  command: string
  /** Header name → value, the first occurrence of each name. */
  headers: Map<string, string>
  body: Buffer
}

/** Bounds of one inbound frame; a frame beyond any of them is refused with ERROR and the connection closes. */
export interface FrameLimits {
  /** Bytes of a whole frame: command, headers and body. */
  frameBytesMax: number
  /** Header lines in one frame. */
  headersMax: number
  /** Bytes of one header line (name, colon, value). */
  headerBytesMax: number
  /** Bytes of one body. */
  bodyBytesMax: number
}

export const defaultFrameLimits: FrameLimits = {
  // ActiveMQ's STOMP defaults are 1000 headers of 10 KiB and 100 MiB frames; Wharf's message bound is smaller.
  frameBytesMax: 16 * 1024 * 1024 + 64 * 1024,
  headersMax: 1000,
  headerBytesMax: 10 * 1024,
  bodyBytesMax: 16 * 1024 * 1024,
}

/** A frame the codec cannot accept: the connection answers ERROR with this message and closes. */
export class StompFrameError extends Error {
  override readonly name = 'StompFrameError'
}
