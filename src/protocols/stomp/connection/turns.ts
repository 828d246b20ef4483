// Receipts and DISCONNECT of one connection, in frame order: each waits for its own work (a SEND's storage)
// and runs once it and every turn before it are ready. A queue instead of a promise chain, so a receipt costs
// no promise of its own; a failed work only stops blocking the turns after it (its publisher ends the
// connection).

interface Turn {
  run: (() => void) | undefined
  ready: boolean
}
const DONE: Turn = { run: undefined, ready: true }

export class Turns {
  #turns: Turn[] = []
  #done = 0
  #scheduled = false
  readonly #take = () => this.#takeReady()
  /** Whether turns still run (false once the connection closed). */
  readonly #open: () => boolean

  constructor(open: () => boolean) {
    this.#open = open
  }

  /** Runs `run` once `work` settled and every earlier turn ran. */
  add(work: Promise<unknown> | undefined, run: () => void): void {
    const turn: Turn = { run, ready: work === undefined }
    this.#turns.push(turn)
    if (work === undefined) {
      // Still later than now, as a promise chain would run it: the frame's handler finishes first.
      if (!this.#scheduled) {
        this.#scheduled = true
        queueMicrotask(this.#take)
      }
      return
    }
    const ready = () => {
      turn.ready = true
      this.#takeReady()
    }
    work.then(ready, () => {
      turn.run = undefined
      ready()
    })
  }

  #takeReady(): void {
    this.#scheduled = false
    const turns = this.#turns
    let done = this.#done
    while (done < turns.length && turns[done]!.ready) {
      const run = turns[done]!.run
      turns[done++] = DONE
      if (run !== undefined && this.#open()) run()
    }
    if (done === turns.length) {
      this.#turns = []
      done = 0
    } else if (done >= 1024 && done * 2 >= turns.length) {
      this.#turns = turns.slice(done)
      done = 0
    }
    this.#done = done
  }
}
