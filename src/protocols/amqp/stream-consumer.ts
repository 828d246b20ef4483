// A consumer of a stream queue (x-queue-type: stream): a log-mode cursor over partition 0, read in bounded
// chunks, pushed within the consumer's credit (prefetch). Acks only return credit, as in RabbitMQ; nothing
// is removed from the log. Cancel aborts the long poll.
import type { Broker } from '../../broker/broker.js'
import type { StoredMessage } from '../../broker/message.js'
import { parseInterval } from './arguments.js'
import { AmqpTyped, type FieldValue } from './codec/index.js'
import { amqpError } from './errors.js'

/** Bytes read from the log per step; bounds memory per consumer. */
const READ_BYTES_MAX = 256 * 1024
/** Long-poll slice while caught up; cancel aborts it at once. */
const WAIT_MS = 30_000

export class StreamConsumer {
  readonly tag: string
  readonly stream: string
  #credit: number
  #offset = 0
  #cancelled = false
  #wake: (() => void) | null = null
  readonly #abort = new AbortController()
  readonly #broker: Broker
  readonly #deliver: (messages: StoredMessage[]) => void
  readonly #onError: (error: unknown) => void

  constructor(options: {
    broker: Broker
    stream: string
    tag: string
    prefetch: number
    deliver: (messages: StoredMessage[]) => void
    onError: (error: unknown) => void
  }) {
    this.#broker = options.broker
    this.stream = options.stream
    this.tag = options.tag
    this.#credit = options.prefetch
    this.#deliver = options.deliver
    this.#onError = options.onError
  }

  /** Resolves x-stream-offset (first, last, next, offset, timestamp, interval); 406 when invalid. */
  async seek(spec: FieldValue): Promise<void> {
    this.#offset = await this.#startOffset(spec)
  }

  /** Starts pushing (after consume-ok was sent). */
  start(): void {
    void this.#run().catch((error) => {
      if (!this.#cancelled) this.#onError(error)
    })
  }

  async #startOffset(spec: FieldValue): Promise<number> {
    const log = this.#broker.stream(this.stream).partitionLog(0)
    const raw = spec instanceof AmqpTyped ? spec.value : spec
    if (raw === undefined || raw === 'next') return log.highWatermark
    if (raw === 'first') return log.logStartOffset
    if (raw === 'last') return Math.max(log.logStartOffset, log.highWatermark - 1)
    if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw
    if (typeof raw === 'bigint' && raw >= 0n) return Number(raw)
    let timestamp: number | undefined
    if (raw instanceof Date) timestamp = raw.getTime()
    else if (typeof raw === 'string') {
      const ms = parseInterval(raw)
      if (ms !== undefined) timestamp = Date.now() - ms
    }
    if (timestamp === undefined) throw amqpError.precondition(`invalid x-stream-offset ${JSON.stringify(String(raw))}`)
    return (await log.offsetForTimestamp(timestamp)) ?? log.highWatermark
  }

  /** An ack (or nack/reject) of one delivery returns one credit. */
  credit(count = 1): void {
    this.#credit += count
    this.#wake?.()
  }

  cancel(): void {
    this.#cancelled = true
    this.#abort.abort()
    this.#wake?.()
  }

  async #run(): Promise<void> {
    while (!this.#cancelled) {
      if (this.#credit <= 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
        this.#wake = null
        continue
      }
      const { messages, nextOffset } = await this.#broker.readMessages(this.stream, 0, this.#offset, READ_BYTES_MAX)
      if (this.#cancelled) return
      if (messages.length === 0) {
        if (nextOffset > this.#offset) {
          this.#offset = nextOffset
          continue
        }
        await this.#broker.waitForData(this.stream, 0, this.#offset, WAIT_MS, this.#abort.signal)
        continue
      }
      const take = messages.slice(0, this.#credit)
      this.#credit -= take.length
      this.#offset = take[take.length - 1]!.offset + 1
      this.#deliver(take)
    }
  }
}
