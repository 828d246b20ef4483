// Attaches still being opened (a queue created, a subscription made) and the frames for their handle that came
// meanwhile: a client may send its flow (or detach) right after its attach, before our reply (Qpid Proton
// does), so those frames wait for the attach and then run in the order they came.
import { Amqp10FrameError } from './codec/frames.js'

export class Attaching {
  readonly #waiting = new Map<number, Array<() => void>>()

  /** An attach on a handle begins; one on a handle in use (or being attached) is a session error. */
  start(handle: number, inUse: boolean): void {
    if (inUse || this.#waiting.has(handle))
      throw new Amqp10FrameError(`handle ${handle} in use`, 'amqp:session:handle-in-use')
    this.#waiting.set(handle, [])
  }

  /** Runs a frame's work now, or once the attach of its handle is done. */
  run(handle: number | undefined, work: () => void): void {
    const waiting = handle === undefined ? undefined : this.#waiting.get(handle)
    if (waiting === undefined) work()
    else waiting.push(work)
  }

  /**
   * The attach is done (the link open, or refused and detached): the frames that waited run. One for a refused
   * link finds no link and is dropped (the client learns of the refusal from our detach).
   */
  done(handle: number): void {
    const waiting = this.#waiting.get(handle) ?? []
    this.#waiting.delete(handle)
    for (const work of waiting) {
      try {
        work()
      } catch (error) {
        if (!(error instanceof Amqp10FrameError)) throw error
      }
    }
  }
}
