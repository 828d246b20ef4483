// SEND and transactions. Where a SEND goes (queues created on first use as ActiveMQ does, topics, temporary
// and composite destinations, scheduled jobs) is targets.ts's business. A SEND is routed at once and only its
// receipt waits, in order, for the broker to have stored it durably, so SENDs pipeline. BEGIN / COMMIT / ABORT
// are broker transactions (src/broker/transactions), several per connection: a transaction's SENDs are routed
// when they arrive and held by the broker, its ACKs and NACKs take their messages from the subscription but
// keep them leased; COMMIT stores all of it atomically (its receipt once durable); ABORT drops the SENDs and
// gives the ACKed and NACKed messages back to their queues, redelivered (ActiveMQ Classic semantics: acks are
// part of the transaction).
import type { Delivery } from '../../../broker/queue/types.js'
import type { Transaction } from '../../../broker/transactions/transaction.js'
import { isWharfError } from '../../../util/errors.js'
import { type Frame, StompFrameError } from '../wire/frame.js'
import type { ConnectionCore } from './context.js'
import { authorizeSend, holdSend, publishSend } from './targets.js'

interface Open {
  tx: Transaction
  /** Body bytes of its SENDs, counted in the connection's transactionBytesMax. */
  bytes: number
}

export class Sending {
  readonly #c: ConnectionCore
  readonly #transactions = new Map<string, Open>()
  #transactionBytes = 0
  #inflight = 0

  constructor(c: ConnectionCore) {
    this.#c = c
  }

  get inflight(): number {
    return this.#inflight
  }

  /** The open transaction a frame names (its `transaction` header), or undefined without the header. */
  transaction(frame: Frame): Open | undefined {
    const id = frame.headers.get('transaction')
    if (id === undefined) return undefined
    const open = this.#transactions.get(id)
    if (open === undefined) throw new StompFrameError(`no transaction '${id}'`)
    return open
  }

  /**
   * Checks the destinations and rights; a transactional SEND is then held by its transaction, another published.
   * Returns a promise only while a queue or temporary destination is being created: SENDs to existing
   * destinations are handled in the turn their bytes arrived in, so a read burst of them shares one storage
   * append (and one fsync).
   */
  send(frame: Frame): Promise<void> | undefined {
    const open = this.transaction(frame)
    const creating = authorizeSend(this.#c, frame)
    if (creating === undefined) {
      this.#route(open, frame)
      return undefined
    }
    return creating.then(() => this.#route(open, frame))
  }

  #route(open: Open | undefined, frame: Frame): void {
    if (open === undefined) {
      this.#receipt(frame, this.#publish(frame))
      return
    }
    const bytes = frame.body.length
    const max = this.#c.host.limits.transactionBytesMax
    if (this.#transactionBytes + bytes > max) throw new StompFrameError(`transactions too large (at most ${max} bytes)`)
    try {
      holdSend(this.#c, frame, open.tx)
    } catch (error) {
      throw new StompFrameError(failureText(error))
    }
    open.bytes += bytes
    this.#transactionBytes += bytes
    const traffic = this.#c.host.traffic
    traffic.messagesReceived++
    traffic.bytesReceived += bytes
    this.#receipt(frame, undefined)
  }

  /** ACK / NACK inside a transaction: the deliveries leave the subscription but stay leased until COMMIT. */
  settleIn(open: Open, deliveries: Delivery[], ack: boolean): void {
    try {
      for (const d of deliveries) {
        if (ack) open.tx.ack(d)
        else open.tx.nack(d, true)
      }
    } catch (error) {
      throw new StompFrameError(failureText(error))
    }
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
    const max = this.#c.host.limits.transactionsMax
    if (this.#transactions.has(id)) throw new StompFrameError(`transaction '${id}' is already open`)
    if (this.#transactions.size >= max) throw new StompFrameError(`too many open transactions (at most ${max})`)
    let tx: Transaction
    try {
      tx = this.#c.broker.transactions.begin(this.#c.id)
    } catch (error) {
      throw new StompFrameError(failureText(error))
    }
    this.#transactions.set(id, { tx, bytes: 0 })
    this.#receipt(frame, undefined)
  }

  /** Stores the transaction atomically; its receipt once durable. A failed commit ends the connection. */
  commit(frame: Frame): void {
    const { tx } = this.#end(frame)
    const committed = tx.commit()
    committed.catch((error: unknown) => this.#c.fail(failureText(error), frame.headers.get('receipt')))
    this.#receipt(frame, committed)
  }

  abort(frame: Frame): void {
    this.#end(frame).tx.rollback()
    this.#receipt(frame, undefined)
  }

  #end(frame: Frame): Open {
    const id = transactionOf(frame)
    const open = this.#transactions.get(id)
    if (open === undefined) throw new StompFrameError(`no transaction '${id}'`)
    this.#transactions.delete(id)
    this.#transactionBytes -= open.bytes
    return open
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
