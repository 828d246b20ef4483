// SEND and transactions. `/queue/X` publishes through the default exchange to the queue X (created on first
// use, as ActiveMQ does); `/topic/X` publishes to amq.topic with routing key X (no subscriber: dropped, as a
// topic does). A SEND is routed at once and only its receipt waits, in order, for the broker to have stored
// it durably, so SENDs pipeline. BEGIN / COMMIT / ABORT map onto what AMQP 0-9-1 tx does here: a
// transaction's SENDs, ACKs and NACKs are checked when they arrive, held by the connection (bounded in
// bytes), and carried out in order at COMMIT; ABORT drops them (an aborted ACK leaves its message
// unacknowledged with the client).
import { isWharfError } from '../../../util/errors.js'
import { type Destination, parseDestination, TOPIC_EXCHANGE } from '../wire/destination.js'
import { type Frame, StompFrameError } from '../wire/frame.js'
import { toPublishMessage } from '../wire/message.js'
import type { ConnectionCore } from './context.js'

/** A refused action, in the words ActiveMQ uses for an authorization failure. */
export function refuse(c: ConnectionCore, action: string, destination: string): StompFrameError {
  return new StompFrameError(`User ${c.principal?.name ?? ''} is not authorized to ${action} ${destination}`)
}

/** The queue, declared with the defaults when missing (Create on it is needed then). */
export async function ensureQueue(c: ConnectionCore, name: string): Promise<void> {
  await queueReady(c, name)
}

/** ensureQueue without a promise when the queue exists: a SEND to it is then handled in the same turn. */
function queueReady(c: ConnectionCore, name: string): Promise<unknown> | undefined {
  if (c.broker.getQueue(name) !== undefined) return undefined
  if (!c.access?.allows('Create', 'Topic', name)) throw refuse(c, 'create', `/queue/${name}`)
  return c.broker.createQueue(name, {}, { ifNotExists: true })
}

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

  /**
   * Checks the destination and rights; a transactional SEND is then held, another one published. Returns a
   * promise only while its queue is being created: SENDs to existing destinations are handled in the turn
   * their bytes arrived in, so a read burst of them shares one storage append (and one fsync).
   */
  send(frame: Frame): Promise<void> | undefined {
    const destination = parseDestination(frame.headers.get('destination'))
    const creating = this.#authorize(destination)
    if (creating === undefined) {
      this.#route(destination, frame)
      return undefined
    }
    return creating.then(() => this.#route(destination, frame))
  }

  #route(destination: Destination, frame: Frame): void {
    if (this.held(frame)) {
      this.#receipt(frame, undefined)
      return
    }
    this.#receipt(frame, this.#publish(destination, frame))
  }

  #authorize(d: Destination): Promise<unknown> | undefined {
    const c = this.#c
    if (d.kind === 'queue') {
      if (!c.access?.allows('Write', 'Topic', d.name)) throw refuse(c, 'write to', `/queue/${d.name}`)
      return queueReady(c, d.name)
    }
    if (!c.access?.allows('Write', 'Exchange', TOPIC_EXCHANGE)) throw refuse(c, 'write to', `/topic/${d.key}`)
    return undefined
  }

  #publish(d: Destination, frame: Frame): Promise<unknown> {
    const c = this.#c
    const message = toPublishMessage(frame.headers, frame.body, Date.now())
    const traffic = c.host.traffic
    traffic.messagesReceived++
    traffic.bytesReceived += frame.body.length
    const published =
      d.kind === 'queue'
        ? c.broker.publish('', d.name, message).then((r) => {
            if (r.routed === 0) throw new StompFrameError(`queue '${d.name}' no longer exists`)
          })
        : c.broker.publish(TOPIC_EXCHANGE, d.key, message)
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
      if (held.command === 'SEND') work.push(this.#publish(parseDestination(held.headers.get('destination')), held))
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
