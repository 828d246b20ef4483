// One credit-bounded reader of a stream partition: reads bounded chunks from its position, hands out at most
// what its credit has room for, advances, and waits (event-driven) for data once caught up. AMQP stream-queue
// consumers and the broker-assigned log groups both consume through it.
import type { CreditGroup } from '../credit.js'
import type { StoredMessage } from '../message.js'

/** The partition a cursor reads (the broker builds it over a stream's partition log). */
export interface LogSource {
  read(offset: number, maxBytes: number): Promise<{ messages: StoredMessage[]; nextOffset: number }>
  /** Calls wake once the partition has data beyond offset (never from within onData); returns an unsubscribe. */
  onData(offset: number, wake: () => void): () => void
}

export interface LogCursorOptions {
  /** First offset to read. */
  offset: number
  /** Bounds the messages handed out and not yet released; cursors of one consumer may share it. */
  credit: CreditGroup
  deliver(messages: StoredMessage[]): void
  /** A read failed (e.g. the stream is gone): the cursor stops until pump() is called again. */
  onError(error: unknown): void
  /** Bytes read per step; bounds memory per cursor. */
  readBytes?: number
  /**
   * While caught up, read again after this long even without new data, so that a stream deleted meanwhile
   * surfaces as a read error. Default: only new data wakes the cursor.
   */
  recheckMs?: number
}

const READ_BYTES = 256 * 1024

export class LogCursor {
  #position: number
  #reading = false
  #closed = false
  /** Set while caught up: ends the wait for data. */
  #waiting: (() => void) | null = null
  readonly #source: LogSource
  readonly #credit: CreditGroup
  readonly #deliver: (messages: StoredMessage[]) => void
  readonly #onError: (error: unknown) => void
  readonly #readBytes: number
  readonly #recheckMs: number | undefined
  readonly #offCredit: () => void

  constructor(source: LogSource, options: LogCursorOptions) {
    this.#source = source
    this.#position = options.offset
    this.#credit = options.credit
    this.#deliver = options.deliver
    this.#onError = options.onError
    this.#readBytes = options.readBytes ?? READ_BYTES
    this.#recheckMs = options.recheckMs
    // Returned credit resumes a cursor that stopped for lack of it; a cursor waiting for data waits on.
    this.#offCredit = options.credit.onRelease(() => {
      if (this.#waiting === null) this.pump()
    })
  }

  /** Next offset to read. */
  get position(): number {
    return this.#position
  }

  /** Reads and delivers while there is credit and data; one read loop at a time. */
  pump(): void {
    if (this.#reading || this.#closed) return
    this.#waiting?.()
    this.#waiting = null
    void this.#run()
  }

  close(): void {
    this.#closed = true
    this.#waiting?.()
    this.#waiting = null
    this.#offCredit()
  }

  async #run(): Promise<void> {
    this.#reading = true
    try {
      while (!this.#closed && this.#credit.room > 0) {
        const offset = this.#position
        const { messages, nextOffset } = await this.#source.read(offset, this.#readBytes)
        if (this.#closed) return
        if (messages.length === 0) {
          if (nextOffset > offset) {
            this.#position = nextOffset
            continue
          }
          this.#wait(offset)
          return
        }
        // Cursors sharing the credit may have taken it during the read; a release pumps again.
        const room = this.#credit.room
        if (room <= 0) return
        const batch = messages.length <= room ? messages : messages.slice(0, room)
        this.#position = batch[batch.length - 1]!.offset + 1
        this.#credit.take(batch.length)
        this.#deliver(batch)
      }
    } catch (error) {
      if (!this.#closed) this.#onError(error)
    } finally {
      this.#reading = false
    }
  }

  #wait(offset: number): void {
    let timer: NodeJS.Timeout | null = null
    const stop = () => {
      off()
      if (timer !== null) clearTimeout(timer)
    }
    const wake = () => {
      if (this.#waiting !== stop) return
      this.#waiting = null
      stop()
      this.pump()
    }
    const off = this.#source.onData(offset, wake)
    if (this.#recheckMs !== undefined) timer = setTimeout(wake, this.#recheckMs)
    this.#waiting = stop
  }
}
