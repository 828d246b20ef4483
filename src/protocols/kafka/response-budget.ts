// Bounds the response bytes one connection holds for a client that does not read them. A Fetch response is
// the only large one a small request can ask for, so a Fetch builds its response only with a turn: one at a
// time per connection, and only while the bytes the client has yet to take (queued on the socket, plus
// finished responses waiting behind an unfinished earlier request) are under the limit. The oldest request
// only waits for the socket to drain (what waits behind it cannot be written before it), so the bound is the
// limit plus one response, and a peer that never reads holds at most that.
import type { Slot } from './responses.js'

/** The connection's output: bytes queued on the socket or in its write buffer. */
export interface WrittenBytes {
  readonly bufferedBytes: number
}

/** The connection's response queue: bytes of finished responses not yet on the socket. */
export interface HeldBytes {
  readonly heldBytes: number
  isHead(slot: Slot): boolean
}

interface Waiter {
  slot: Slot
  resolve: () => void
}

export class ResponseBudget {
  readonly #limit: number
  readonly #written: WrittenBytes
  readonly #held: HeldBytes
  readonly #waiting: Waiter[] = []
  /** The slot building a response now. */
  #building: Slot | null = null
  #closed = false

  constructor(limit: number, written: WrittenBytes, held: HeldBytes) {
    this.#limit = limit
    this.#written = written
    this.#held = held
  }

  /** Resolves when `slot` may build its response (at once when the connection is closing). */
  acquire(slot: Slot): Promise<void> {
    if (this.#closed) return Promise.resolve()
    return new Promise((resolve) => {
      this.#waiting.push({ slot, resolve })
      this.recheck()
    })
  }

  /** The slot's response is built (or it waits for data again): the next may build. */
  release(slot: Slot): void {
    if (this.#building !== slot) return
    this.#building = null
    this.recheck()
  }

  /** Whether the bytes the client has yet to take are over the limit (reading pauses meanwhile). */
  get over(): boolean {
    return this.#written.bufferedBytes + this.#held.heldBytes >= this.#limit
  }

  /** Lets the next waiter build if there is room; called whenever the counted bytes shrink. */
  recheck(): void {
    if (this.#building !== null || this.#waiting.length === 0) return
    let index = this.#waiting.findIndex((w) => this.#held.isHead(w.slot))
    const head = index >= 0
    if (!head) index = 0
    const room = head ? this.#written.bufferedBytes < this.#limit : !this.over
    if (!room) return
    const [waiter] = this.#waiting.splice(index, 1)
    this.#building = waiter!.slot
    waiter!.resolve()
  }

  /** The connection closed: every waiter goes on (its response is dropped). */
  close(): void {
    this.#closed = true
    for (const w of this.#waiting.splice(0)) w.resolve()
  }
}
