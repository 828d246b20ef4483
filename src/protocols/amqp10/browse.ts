// A browsing receiver (source `distribution-mode: copy` on a queue, as Qpid JMS's QueueBrowser attaches): the
// messages the queue holds when it is read, sent pre-settled without leasing them, so the queue is unchanged.
// Pages are read from the broker one at a time as the link has credit (bounded memory for a large queue). At
// the end nothing more is sent; a drain then gives the credit back, which is how a JMS browser learns it has
// seen everything.
import type { Broker } from '../../broker/broker.js'
import type { StoredMessage } from '../../broker/message.js'

/** Messages read per page (at most; fewer when the link has less credit). */
const PAGE_MAX = 100

export interface BrowseTarget {
  /** Deliveries the link may send now (credit and session window). */
  room(): number
  /** Whether the link is still attached. */
  live(): boolean
  send(message: StoredMessage): void
}

export class QueueBrowser {
  readonly #broker: Broker
  readonly #queue: string
  #pending: StoredMessage[] = []
  /** Where the next page starts; undefined before the first. */
  #from: number[] | undefined
  #end = false
  #pumping = false

  constructor(broker: Broker, queue: string) {
    this.#broker = broker
    this.#queue = queue
  }

  /** Every message was sent. */
  get finished(): boolean {
    return this.#end && this.#pending.length === 0
  }

  /** Sends what the link has room for, reading pages as needed (one pump at a time). */
  async pump(target: BrowseTarget): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      for (;;) {
        if (!target.live()) return
        let room = target.room()
        if (room <= 0) return
        if (this.#pending.length === 0) {
          if (this.#end || this.#broker.getQueue(this.#queue) === undefined) {
            this.#end = true
            return
          }
          const options = { max: Math.min(PAGE_MAX, room), ...(this.#from === undefined ? {} : { from: this.#from }) }
          const page = await this.#broker.browse(this.#queue, options)
          this.#pending = page.messages
          if (page.next === null) this.#end = true
          else this.#from = page.next
          continue
        }
        while (room-- > 0 && this.#pending.length > 0 && target.live()) target.send(this.#pending.shift()!)
      }
    } finally {
      this.#pumping = false
    }
  }
}
