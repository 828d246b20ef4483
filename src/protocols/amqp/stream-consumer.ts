// A consumer of a stream queue (x-queue-type: stream): the broker's LogCursor over partition 0 from the
// x-stream-offset it resolves, pushed within the consumer's credit (prefetch). Acks only return credit, as in
// RabbitMQ; nothing is removed from the log. Cancel closes the cursor.
import type { Broker } from '../../broker/broker.js'
import { CreditGroup } from '../../broker/credit.js'
import type { LogCursor } from '../../broker/log/cursor.js'
import type { StoredMessage } from '../../broker/message.js'
import { parseInterval } from './arguments.js'
import { AmqpTyped, type FieldValue } from './codec/index.js'
import { amqpError } from './errors.js'

/** While caught up, read again this often, so that a stream deleted meanwhile surfaces as an error. */
const RECHECK_MS = 30_000

export class StreamConsumer {
  readonly tag: string
  readonly stream: string
  /** The consumer's prefetch: deliveries not yet acked. */
  readonly #credit: CreditGroup
  #cursor: LogCursor | null = null
  #offset = 0
  #cancelled = false
  readonly #broker: Broker
  readonly #deliver: (messages: StoredMessage[]) => void
  readonly #onError: (error: unknown) => void

  constructor(options: {
    broker: Broker
    stream: string
    tag: string
    prefetch: number
    /** The connection's delivery credit: no reads while it is held. */
    parentCredit?: CreditGroup
    deliver: (messages: StoredMessage[]) => void
    onError: (error: unknown) => void
  }) {
    this.#broker = options.broker
    this.stream = options.stream
    this.tag = options.tag
    this.#credit = new CreditGroup(options.prefetch, options.parentCredit)
    this.#deliver = options.deliver
    this.#onError = options.onError
  }

  /** Resolves x-stream-offset (first, last, next, offset, timestamp, interval); 406 when invalid. */
  async seek(spec: FieldValue): Promise<void> {
    this.#offset = await this.#startOffset(spec)
  }

  /** Starts pushing (after consume-ok was sent). */
  start(): void {
    if (this.#cancelled || this.#cursor !== null) return
    try {
      this.#cursor = this.#broker.logCursor(this.stream, 0, {
        offset: this.#offset,
        credit: this.#credit,
        deliver: this.#deliver,
        onError: (error) => {
          if (!this.#cancelled) this.#onError(error)
        },
        recheckMs: RECHECK_MS,
      })
    } catch (error) {
      this.#onError(error)
      return
    }
    this.#cursor.pump()
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
    this.#credit.release(count)
  }

  cancel(): void {
    this.#cancelled = true
    this.#cursor?.close()
  }
}
