// The in-order response queue of one connection: every request takes a slot in a FIFO when it is dispatched,
// handlers may finish out of order (a parked JoinGroup, a long-poll Fetch), and responses are written only
// from the head. A finished response is encoded at once, so the bytes waiting behind an unfinished earlier
// request are known and count against the connection's response bytes in flight.
import type { SocketOutput } from '../common/socket-output.js'
import { encodeResponseFrame, type KafkaApi } from './codec/index.js'

/** Returned by a handler for a request that gets no response (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('no response')

/** Returned by a handler whose response is the last: the connection ends once it is written. */
export class ThenClose<T> {
  constructor(readonly response: T) {}
}

/** Kafka's answer to a failed authentication: the error response, then the connection closes. */
export function thenClose<T>(response: T): ThenClose<T> {
  return new ThenClose(response)
}

export interface Slot {
  /** null: a bare SASL token answer (after SaslHandshake v0), written as a size and the bytes. */
  readonly api: KafkaApi | null
  readonly version: number
  readonly correlationId: number
  done: boolean
  /** The encoded frame once done; empty for NO_RESPONSE. */
  chunks: Buffer[]
  bytes: number
  /** The connection ends once this response is written. */
  closeAfter: boolean
}

export class ResponseQueue {
  readonly #slots: Slot[] = []
  #head = 0
  /** Bytes of finished responses waiting behind an unfinished earlier one. */
  heldBytes = 0

  /** Requests dispatched and not yet written (unfinished, or finished behind an unfinished one). */
  get pending(): number {
    return this.#slots.length - this.#head
  }

  enqueue(api: KafkaApi | null, version: number, correlationId: number): Slot {
    const slot: Slot = { api, version, correlationId, done: false, chunks: [], bytes: 0, closeAfter: false }
    this.#slots.push(slot)
    return slot
  }

  /** The oldest unwritten request: nothing before it waits to be written. */
  isHead(slot: Slot): boolean {
    return this.#slots[this.#head] === slot
  }

  /**
   * Marks the slot done with the handler's result (a response, ThenClose or NO_RESPONSE; a Buffer for a bare
   * SASL token) and encodes it now. Throws when the response cannot be encoded (our bug).
   */
  settle(slot: Slot, result: unknown): void {
    let response = result
    if (result instanceof ThenClose) {
      response = result.response
      slot.closeAfter = true
    }
    if (response !== NO_RESPONSE) {
      if (slot.api === null) {
        const token = response as Buffer
        const size = Buffer.allocUnsafe(4)
        size.writeInt32BE(token.length, 0)
        slot.chunks = token.length > 0 ? [size, token] : [size]
      } else {
        slot.chunks = encodeResponseFrame(slot.api, slot.version, slot.correlationId, response).chunks
      }
      for (const chunk of slot.chunks) slot.bytes += chunk.length
    }
    slot.done = true
    this.heldBytes += slot.bytes
  }

  /** Queues every finished response at the head on `output`; returns true when one of them ends the connection. */
  writeTo(output: SocketOutput): boolean {
    while (this.#head < this.#slots.length) {
      const slot = this.#slots[this.#head]!
      if (!slot.done) break
      this.#slots[this.#head++] = undefined as unknown as Slot
      this.heldBytes -= slot.bytes
      if (slot.chunks.length > 0) output.writeAll(slot.chunks)
      if (slot.closeAfter) return true
    }
    if (this.#head > 1024 && this.#head * 2 > this.#slots.length) {
      this.#slots.splice(0, this.#head)
      this.#head = 0
    }
    return false
  }
}
