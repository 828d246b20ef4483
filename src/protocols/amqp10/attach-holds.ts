// Frames pipelined behind an attach: a session's frames after an attach wait until its link is set up (a flow
// right after the attach must find the link), and are then handled in order; the frames of the connection's
// other sessions go on meanwhile. Held frames are bounded: past the bound the socket is not read.
import type { SocketOutput } from '../common/socket-output.js'
import type { Frame } from './codec/frames.js'

/** Frames held behind attaches being set up, over all sessions, beyond which the socket is not read. */
const HELD_FRAMES_MAX = 1024

export class AttachHolds {
  /** Sessions (by channel) with an attach being set up, and the frames that came after it. */
  readonly #waiting = new Map<number, Frame[]>()
  #held = 0
  readonly #output: SocketOutput
  readonly #handle: (frame: Frame) => void

  constructor(output: SocketOutput, handle: (frame: Frame) => void) {
    this.#output = output
    this.#handle = handle
  }

  /** Handles a frame now, or holds it behind its session's attach. */
  route(frame: Frame): void {
    const held = this.#waiting.get(frame.channel)
    if (held === undefined) {
      this.#handle(frame)
      return
    }
    held.push(frame)
    if (++this.#held >= HELD_FRAMES_MAX) this.#output.hold('backlog')
  }

  /** The session on `channel` has an attach being set up: its next frames wait for `attached`. */
  attaching(channel: number): void {
    this.#waiting.set(channel, [])
  }

  /** The attach is set up: the session's held frames, in order, until one of them is another attach to wait for. */
  attached(channel: number, open: () => boolean): void {
    const held = this.#waiting.get(channel) ?? []
    this.#waiting.delete(channel)
    let next = 0
    while (next < held.length && open()) {
      this.#held--
      this.#handle(held[next++]!)
      if (this.#waiting.has(channel)) {
        this.#waiting.set(channel, held.slice(next))
        break
      }
    }
    if (this.#held < HELD_FRAMES_MAX) this.#output.release('backlog')
  }
}
