// The accepted outcomes of a client's stored messages. The messages of one storage write are stored
// together, so their outcomes are gathered until the end of the tick and go out as one disposition per run
// of consecutive delivery ids, not a frame per message.

export class AcceptedOutcomes {
  #ids: number[] = []
  readonly #send: (first: number, last: number) => void

  /** `send` writes one accepted disposition for deliveries first..last. */
  constructor(send: (first: number, last: number) => void) {
    this.#send = send
  }

  add(deliveryId: number): void {
    if (this.#ids.length === 0) process.nextTick(this.#flush)
    this.#ids.push(deliveryId)
  }

  readonly #flush = (): void => {
    const ids = this.#ids
    this.#ids = []
    let first = ids[0]!
    let last = first
    for (let i = 1; i <= ids.length; i++) {
      const id = ids[i]
      if (id === last + 1) {
        last = id
        continue
      }
      this.#send(first, last)
      if (id !== undefined) first = last = id
    }
  }
}
