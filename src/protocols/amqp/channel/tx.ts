// A channel in tx mode: one open broker transaction (src/broker/transactions) at a time. Publishes are routed
// into it as they come (their bodies stay reserved in the connection's content budget until commit or
// rollback); acks, nacks and rejects are held as methods and settled into it at tx.commit, which stores
// everything atomically and answers tx.commit-ok once durable, after the basic.returns of unroutable
// mandatory publishes. tx.rollback drops the publishes and the held acks: as in RabbitMQ, those deliveries
// stay unacknowledged with the client. The channel then goes on with a new transaction.
import type { PublishMessage } from '../../../broker/message.js'
import type { Transaction } from '../../../broker/transactions/transaction.js'
import { type AmqpMethod, type BasicProperties, ClassId, ReplyCode } from '../codec/index.js'
import { toAmqpError } from '../errors.js'
import { encodeDelivery } from '../message.js'
import { deliverReply, isReplyAddress } from '../reply-to.js'
import type { ChannelContext } from './context.js'

export type PublishOp = {
  kind: 'publish'
  exchange: string
  routingKey: string
  mandatory: boolean
  message: PublishMessage
  headers: BasicProperties['headers']
  /** CC and BCC routing keys (sender-selected distribution). */
  extraKeys: string[] | undefined
}

/** The basic.return of an unroutable mandatory publish. */
export function returnFrame(ctx: ChannelContext, op: PublishOp): Buffer | Buffer[] {
  return encodeDelivery(
    ctx.number,
    'basic.return',
    { replyCode: ReplyCode.NO_ROUTE, replyText: 'NO_ROUTE', exchange: op.exchange, routingKey: op.routingKey },
    {
      stream: '',
      partition: 0,
      offset: -1,
      timestamp: 0,
      key: null,
      value: op.message.value as Buffer,
      headers: op.message.headers ?? [],
    },
    ctx.host.frameMax,
  )
}

interface Open {
  held: Transaction
  settles: AmqpMethod[]
  /** basic.return frames of unroutable mandatory publishes, sent before tx.commit-ok. */
  returns: Array<Buffer | Buffer[]>
  /** Publishes to direct reply-to addresses (in memory, nothing to store): delivered at commit. */
  replies: PublishOp[]
  /** Body bytes reserved in the connection's content budget. */
  bytes: number
}

export class ChannelTxMode {
  readonly #ctx: ChannelContext
  readonly #settle: (method: AmqpMethod, into: Transaction) => void
  #open: Open

  constructor(ctx: ChannelContext, settle: (method: AmqpMethod, into: Transaction) => void) {
    this.#ctx = ctx
    this.#settle = settle
    this.#open = this.#begin()
  }

  #begin(): Open {
    const held = this.#ctx.broker.transactions.begin(this.#ctx.owner)
    return { held, settles: [], returns: [], replies: [], bytes: 0 }
  }

  /** Routes a publish into the transaction, as the publisher would route it outside one. */
  hold(op: PublishOp, bodyBytes: number): void {
    const tx = this.#open
    this.#ctx.host.contentBudget.reserve(bodyBytes, ClassId.BASIC, 40)
    tx.bytes += bodyBytes
    if (op.exchange === '' && isReplyAddress(op.routingKey)) {
      tx.replies.push(op)
      return
    }
    const broker = this.#ctx.broker
    let routed: number
    try {
      routed =
        op.exchange === '' &&
        op.extraKeys === undefined &&
        broker.getQueue(op.routingKey) === undefined &&
        broker.getStream(op.routingKey) !== undefined
          ? tx.held.send({ stream: op.routingKey }, op.message)
          : tx.held.send(
              {
                exchange: op.exchange,
                routingKey: op.routingKey,
                routingHeaders: op.headers as Record<string, unknown> | undefined,
                extraRoutingKeys: op.extraKeys,
              },
              op.message,
            )
    } catch (error) {
      throw toAmqpError(error, ClassId.BASIC, 40)
    }
    if (routed === 0 && op.mandatory) tx.returns.push(returnFrame(this.#ctx, op))
  }

  holdSettle(method: AmqpMethod): void {
    this.#open.settles.push(method)
  }

  async commit(): Promise<void> {
    const tx = this.#end()
    try {
      for (const method of tx.settles) this.#settle(method, tx.held)
    } catch (error) {
      tx.held.rollback({ returnAcked: false })
      throw error
    }
    try {
      await tx.held.commit()
    } catch (error) {
      throw toAmqpError(error, ClassId.TX, 20)
    }
    const now = Date.now()
    for (const op of tx.replies) deliverReply(this.#ctx.broker, op.routingKey, op.message, now)
    if (!this.#ctx.isOpen()) return
    for (const frame of tx.returns) this.#ctx.host.send(frame)
    this.#ctx.reply('tx.commit-ok', {})
  }

  rollback(): void {
    this.#end().held.rollback({ returnAcked: false })
    this.#ctx.reply('tx.rollback-ok', {})
  }

  /** The channel is released: the open transaction goes, changing nothing. */
  discard(): void {
    const tx = this.#open
    this.#ctx.host.contentBudget.release(tx.bytes)
    tx.bytes = 0
    if (tx.held.state === 'open') tx.held.rollback({ returnAcked: false })
  }

  /** Ends the open transaction (its bytes leave the budget) and opens the next. */
  #end(): Open {
    const tx = this.#open
    this.#ctx.host.contentBudget.release(tx.bytes)
    this.#open = this.#begin()
    return tx
  }
}
