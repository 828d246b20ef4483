// SEND and transactions. Where a SEND goes (queues created on first use as ActiveMQ does, topics, temporary
// and composite destinations) is targets.ts's business. A SEND is routed at once and only its receipt waits,
// in order, for the broker to have stored it durably, so SENDs pipeline. BEGIN / COMMIT / ABORT map onto what AMQP 0-9-1 tx does here: a
// transaction's SENDs, ACKs and NACKs are checked when they arrive, held by the connection (bounded in
// bytes), and carried out in order at COMMIT; ABORT drops them (an aborted ACK leaves its message
// unacknowledged with the client).
import { isWharfError } from '../../../util/errors.js'
import { type Frame, StompFrameError } from '../wire/frame.js'
import type { ConnectionCore } from './context.js'
import { authorizeSend, publishSend } from './targets.js'

interface Transaction {
  frames: Frame[]
  bytes: number
}

export class Sending {
  readonly #c: ConnectionCore
  readonly #transactions = new Map<string, Transaction>()
  #transactionBytes = 0
  #inflight = 0
  /** ACK / NACK frames a COMMIT carries out. */
  readonly #settle: (frame: Frame) => void

  constructor(c: ConnectionCore, settle: (frame: Frame) => void) {
    this.#c = c
    this.#settle = settle
  }

  get inflight(): number {
    return this.#inflight
  }

  /** Whether the SEND or ACK/NACK belongs to a transaction (then it is held, not carried out). */
  held(frame: Frame): boolean {
    const id = frame.headers.get('transaction')
    if (id === undefined) return false
    const tx = this.#transactions.get(id)
    if (tx === undefined) throw new StompFrameError(`no transaction '${id}'`)
    const bytes = frame.body.length
    if (this.#transactionBytes + bytes > this.#c.host.limits.transactionBytesMax)
      throw new StompFrameError(`transactions too large (at most ${this.#c.host.limits.transactionBytesMax} bytes)`)
    tx.frames.push(frame)
    tx.bytes += bytes
    this.#transactionBytes += bytes
    return true
  }

  /** Checks the destination and rights; a transactional SEND is then held, another one published. */
  async send(frame: Frame): Promise<void> {
    await authorizeSend(this.#c, frame)
    if (this.held(frame)) {
      this.#receipt(frame, undefined)
      return
    }
    this.#receipt(frame, this.#publish(frame))
  }

  #publish(frame: Frame): Promise<unknown> {
    const c = this.#c
    const traffic = c.host.traffic
    traffic.messagesReceived++
    traffic.bytesReceived += frame.body.length
    let published: Promise<unknown>
    try {
      published = publishSend(c, frame)
    } catch (error) {
      published = Promise.reject(error)
    }
    this.#inflight++
    if (this.#inflight >= c.host.limits.publishesInflightMax) c.output.hold('inflight')
    const done = published.finally(() => {
      this.#inflight--
      if (this.#inflight < c.host.limits.publishesInflightMax) c.output.release('inflight')
    })
    // A SEND without a receipt that fails still ends the connection: the client must not believe it stored.
    done.catch((error: unknown) => c.fail(failureText(error), frame.headers.get('receipt')))
    return done
  }

  #receipt(frame: Frame, work: Promise<unknown> | undefined): void {
    const receipt = frame.headers.get('receipt')
    if (receipt !== undefined) this.#c.after(work, () => this.#c.send('RECEIPT', [['receipt-id', receipt]]))
  }

  begin(frame: Frame): void {
    const id = transactionOf(frame)
    if (this.#transactions.has(id)) throw new StompFrameError(`transaction '${id}' is already open`)
    if (this.#transactions.size >= this.#c.host.limits.transactionsMax)
      throw new StompFrameError(`too many open transactions (at most ${this.#c.host.limits.transactionsMax})`)
    this.#transactions.set(id, { frames: [], bytes: 0 })
    this.#receipt(frame, undefined)
  }

  commit(frame: Frame): void {
    const tx = this.#end(frame)
    const work: Array<Promise<unknown>> = []
    for (const held of tx.frames) {
      if (held.command === 'SEND') work.push(this.#publish(held))
      else this.#settle(held)
    }
    this.#receipt(frame, work.length === 0 ? undefined : Promise.all(work))
  }

  abort(frame: Frame): void {
    this.#end(frame)
    this.#receipt(frame, undefined)
  }

  #end(frame: Frame): Transaction {
    const id = transactionOf(frame)
    const tx = this.#transactions.get(id)
    if (tx === undefined) throw new StompFrameError(`no transaction '${id}'`)
    this.#transactions.delete(id)
    this.#transactionBytes -= tx.bytes
    return tx
  }
}

function transactionOf(frame: Frame): string {
  const id = frame.headers.get('transaction')
  if (id === undefined || id === '') throw new StompFrameError(`${frame.command} needs a transaction header`)
  return id
}

export function failureText(error: unknown): string {
  if (error instanceof StompFrameError) return error.message
  if (isWharfError(error, 'QUEUE_FULL')) return 'the queue is full'
  if (isWharfError(error)) return error.message
  return 'internal error'
}
