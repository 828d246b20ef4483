// A channel's publishing side: basic.publish content assembly (method, content header, body frames), routing,
// mandatory → basic.return, publisher confirms and tx. Publishes are not awaited (that would serialize the
// disk): they are started in order and settled in order, so that basic.return precedes the confirm and
// confirms coalesce into multiple=true acks. In tx mode a channel has one open broker transaction
// (src/broker/transactions): publishes are routed into it as they come; acks, nacks and rejects are held as
// methods and settled into it at tx.commit, which stores everything atomically and answers once durable.
// tx.rollback drops the publishes and the held acks: as in RabbitMQ, those deliveries stay unacknowledged.
import type { PublishMessage } from '../../../broker/message.js'
import type { Transaction } from '../../../broker/transactions/transaction.js'
import { isWharfError } from '../../../util/errors.js'
import { burstClock } from '../../common/metrics.js'
import {
  type AmqpFrame,
  type AmqpMethod,
  type BasicProperties,
  ClassId,
  type ContentHeader,
  decodeContentHeader,
  FRAME_BODY,
  FRAME_HEADER,
  type MethodArgs,
  ReplyCode,
} from '../codec/index.js'
import { AmqpError, amqpError, toAmqpError } from '../errors.js'
import { propsBytesOf, routingKeysOf, toPublishMessage } from '../message.js'
import { deliverReply, encodeProps, isReplyAddress, REPLY_TO } from '../reply-to.js'
import { accessRefused, authorize, type ChannelContext } from './context.js'
import { ChannelTxMode, type PublishOp, returnFrame } from './tx.js'

/** Largest message body accepted (the broker's stream limit applies on top). */
export const BODY_BYTES_MAX = 64 * 1024 * 1024

const ROUTED = Object.freeze({ routed: 1 })
const UNROUTED = Object.freeze({ routed: 0 })
const NO_OPTIONS = Object.freeze({})

interface PendingPublish {
  seq: number
  /** burstClock() at receipt, in confirm mode (publish-to-confirm latency). */
  at: number
  /** Body bytes, counted in the connection's publish bytes in flight. */
  bytes: number
  done: boolean
  ok: boolean
  returned: Buffer | Buffer[] | null
}

interface Assembly {
  method: MethodArgs['basic.publish']
  header: ContentHeader | null
  propsRaw: Buffer | null
  bodies: Buffer[]
  received: number
}

/** Bytes an assembly holds in the connection's content budget: the declared body size, once its header came. */
function reservedBy(a: Assembly): number {
  return a.header === null ? 0 : a.header.bodySize
}

export class ChannelPublisher {
  readonly #ctx: ChannelContext
  /** Settles an ack/nack/reject (the consuming side); tx.commit settles the held ones into the transaction. */
  readonly #settle: (method: AmqpMethod, into?: Transaction) => void
  /** This channel's direct reply-to address (406 without a reply consumer). */
  readonly #replyAddress: () => string
  #assembly: Assembly | null = null
  #confirm = false
  #publishSeq = 0
  /** Publishes in flight, oldest first; entries before #pendingHead are settled (no Array#shift: O(n)). */
  #pending: PendingPublish[] = []
  #pendingHead = 0
  /** tx mode (tx.select seen): the channel's open broker transaction. */
  #tx: ChannelTxMode | null = null
  #lastPublish: Promise<void> = Promise.resolve()

  constructor(
    ctx: ChannelContext,
    settle: (method: AmqpMethod, into?: Transaction) => void,
    replyAddress: () => string,
  ) {
    this.#ctx = ctx
    this.#settle = settle
    this.#replyAddress = replyAddress
  }

  get confirm(): boolean {
    return this.#confirm
  }

  // ---- content frames ----

  /** A basic.publish awaits its content header and body frames. */
  get assembling(): boolean {
    return this.#assembly !== null
  }

  /** basic.publish: checks the exchange and starts collecting the content that follows. */
  begin(args: MethodArgs['basic.publish']): void {
    if (args.immediate) throw amqpError.notImplemented('immediate=true')
    this.#checkExchange(args.exchange, args.routingKey)
    this.#assembly = { method: args, header: null, propsRaw: null, bodies: [], received: 0 }
  }

  /** Drops a half-received message (channel released). */
  discard(): void {
    if (this.#assembly !== null) this.#ctx.host.contentBudget.release(reservedBy(this.#assembly))
    this.#assembly = null
    this.#tx?.discard()
  }

  content(frame: AmqpFrame): void {
    const a = this.#assembly!
    if (a.header === null) {
      if (frame.type !== FRAME_HEADER)
        throw amqpError.unexpectedFrame('expected content header for class 60, got non content header frame instead')
      const header = decodeContentHeader(frame.payload)
      if (header.bodySize > BODY_BYTES_MAX) {
        this.#assembly = null
        throw new AmqpError(
          ReplyCode.PRECONDITION_FAILED,
          `message size ${header.bodySize} is larger than configured max size ${BODY_BYTES_MAX}`,
          ClassId.BASIC,
          40,
        )
      }
      // Reserved before the header is kept: an assembly with a header holds its body size in the budget.
      this.#ctx.host.contentBudget.reserve(header.bodySize, ClassId.BASIC, 40)
      a.header = header
      a.propsRaw = propsBytesOf(frame.payload)
    } else {
      if (frame.type !== FRAME_BODY)
        throw amqpError.unexpectedFrame('expected content body, got non content body frame instead')
      a.bodies.push(frame.payload)
      a.received += frame.payload.length
      if (a.received > a.header.bodySize)
        throw amqpError.frameError(`content body of ${a.received} bytes exceeds the declared ${a.header.bodySize}`)
    }
    if (a.received === a.header.bodySize) {
      this.#assembly = null
      this.#ctx.host.contentBudget.release(a.header.bodySize)
      const body = a.bodies.length === 1 ? a.bodies[0]! : Buffer.concat(a.bodies, a.received)
      this.#published(a.method, a.header, a.propsRaw!, body)
    }
  }

  // ---- publishing ----

  /**
   * Write on the exchange; on the default exchange, Write on the queue the routing key names (a direct
   * reply-to address is not a resource: only the requester that asked for replies receives there). One
   * cached Access decision per publish.
   */
  #checkExchange(name: string, routingKey: string): void {
    if (name === '') {
      if (!this.#ctx.host.access.allows('Write', 'Topic', routingKey) && !isReplyAddress(routingKey))
        throw accessRefused(this.#ctx, 'Topic', routingKey)
      return
    }
    authorize(this.#ctx, 'Write', 'Exchange', name)
    const def = this.#ctx.broker.router.getExchange(name)
    if (def === undefined) throw amqpError.notFound(`no exchange '${name}' in vhost '/'`)
    if (def.internal) throw amqpError.accessRefused(`cannot publish to internal exchange '${name}' in vhost '/'`)
  }

  #published(method: MethodArgs['basic.publish'], header: ContentHeader, propsRaw: Buffer, body: Buffer): void {
    let message: PublishMessage
    let props = header.properties
    let extraKeys: string[] | undefined
    try {
      const headers = props.headers
      if (
        props.replyTo === REPLY_TO ||
        (headers !== undefined && (headers.CC !== undefined || headers.BCC !== undefined))
      ) {
        ;({ props, extraKeys } = this.#senderProperties(props))
        // On the default exchange each CC/BCC key names a queue written to, as the routing key does.
        if (method.exchange === '' && extraKeys !== undefined)
          for (const key of extraKeys) authorize(this.#ctx, 'Write', 'Topic', key)
        propsRaw = encodeProps(props)
      }
      message = toPublishMessage(propsRaw, props, body)
    } catch (error) {
      throw error instanceof AmqpError ? Object.assign(error, { classId: ClassId.BASIC, methodId: 40 }) : error
    }
    const op = {
      kind: 'publish' as const,
      exchange: method.exchange,
      routingKey: method.routingKey,
      mandatory: method.mandatory,
      message,
      headers: props.headers,
      extraKeys,
    }
    if (this.#tx !== null) {
      this.#tx.hold(op, body.length)
      return
    }
    this.#startPublish(op)
  }

  /**
   * The properties the broker changes before routing, as RabbitMQ does: reply_to `amq.rabbitmq.reply-to`
   * becomes this channel's reply address; CC and BCC (arrays of longstr) add routing keys and BCC is removed.
   */
  #senderProperties(props: BasicProperties): { props: BasicProperties; extraKeys: string[] | undefined } {
    const out = { ...props }
    if (props.replyTo === REPLY_TO) out.replyTo = this.#replyAddress()
    const headers = props.headers
    if (headers === undefined) return { props: out, extraKeys: undefined }
    const extraKeys = [...routingKeysOf(headers, 'CC'), ...routingKeysOf(headers, 'BCC')]
    if (headers.BCC !== undefined) {
      const { BCC: _bcc, ...rest } = headers
      out.headers = rest
    }
    return { props: out, extraKeys: extraKeys.length > 0 ? extraKeys : undefined }
  }

  /** See ChannelContext.publishesSettled. */
  publishesSettled(): Promise<void> | undefined {
    return this.#pending.length === this.#pendingHead ? undefined : this.#lastPublish
  }

  #startPublish(op: PublishOp): Promise<void> {
    const entry: PendingPublish = {
      seq: this.#confirm ? ++this.#publishSeq : 0,
      at: this.#confirm ? burstClock() : 0,
      bytes: (op.message.value as Buffer).length,
      done: false,
      ok: false,
      returned: null,
    }
    this.#pending.push(entry)
    this.#ctx.host.publishStarted(entry.bytes)
    this.#lastPublish = this.#route(op).then(
      ({ routed }) => {
        entry.ok = true
        if (routed === 0 && op.mandatory) entry.returned = returnFrame(this.#ctx, op)
        this.#settled(entry)
      },
      (error) => {
        if (!isWharfError(error, 'QUEUE_FULL')) {
          if (isWharfError(error, 'MESSAGE_TOO_LARGE')) this.#ctx.closeWithError(toAmqpError(error, ClassId.BASIC, 40))
          else this.#ctx.host.logger.warn({ err: error, exchange: op.exchange }, 'amqp publish failed')
        }
        this.#settled(entry)
      },
    )
    return this.#lastPublish
  }

  /**
   * Routes through the broker; a stream queue on the default exchange is appended to directly. Not async:
   * the common case hands back broker.publish's own promise (errors still come back as rejections).
   */
  #route(op: PublishOp): Promise<{ routed: number }> {
    try {
      const broker = this.#ctx.broker
      if (op.exchange === '' && isReplyAddress(op.routingKey))
        return Promise.resolve(deliverReply(broker, op.routingKey, op.message, Date.now()) ? ROUTED : UNROUTED)
      if (
        op.exchange === '' &&
        op.extraKeys === undefined &&
        broker.getQueue(op.routingKey) === undefined &&
        broker.getStream(op.routingKey) !== undefined
      ) {
        const stamped = {
          ...op.message,
          headers: [
            ...(op.message.headers ?? []),
            { key: 'wharf.exchange', value: Buffer.alloc(0) },
            { key: 'wharf.routing-key', value: Buffer.from(op.routingKey) },
          ],
        }
        return broker.produce(op.routingKey, [stamped]).then(() => ROUTED)
      }
      const options =
        op.headers === undefined && op.extraKeys === undefined
          ? NO_OPTIONS
          : { routingHeaders: op.headers as Record<string, unknown> | undefined, extraRoutingKeys: op.extraKeys }
      return broker.publish(op.exchange, op.routingKey, op.message, options)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #settled(entry: PendingPublish): void {
    const { host, number } = this.#ctx
    entry.done = true
    host.publishSettled(entry.bytes)
    let ackUpTo = 0
    while (this.#pendingHead < this.#pending.length && this.#pending[this.#pendingHead]!.done) {
      const head = this.#pending[this.#pendingHead++]!
      if (this.#pendingHead === this.#pending.length) {
        this.#pending = []
        this.#pendingHead = 0
      } else if (this.#pendingHead >= 1024 && this.#pendingHead * 2 >= this.#pending.length) {
        this.#pending = this.#pending.slice(this.#pendingHead)
        this.#pendingHead = 0
      }
      if (!this.#ctx.isOpen()) continue
      if (head.returned !== null) {
        if (ackUpTo > 0) host.sendMethod(number, 'basic.ack', { deliveryTag: ackUpTo, multiple: true })
        ackUpTo = 0
        host.send(head.returned)
      }
      if (head.seq === 0) continue
      if (head.ok) {
        ackUpTo = head.seq
        host.traffic.publishToConfirm.since(head.at)
      } else {
        if (ackUpTo > 0) host.sendMethod(number, 'basic.ack', { deliveryTag: ackUpTo, multiple: true })
        ackUpTo = 0
        host.sendMethod(number, 'basic.nack', { deliveryTag: head.seq, multiple: false, requeue: false })
      }
    }
    if (ackUpTo > 0 && this.#ctx.isOpen())
      host.sendMethod(number, 'basic.ack', { deliveryTag: ackUpTo, multiple: true })
  }

  // ---- confirm and tx modes ----

  selectConfirm(args: MethodArgs['confirm.select']): void {
    if (this.#tx !== null) throw amqpError.precondition('cannot switch from tx to confirm mode')
    this.#confirm = true
    if (!args.nowait) this.#ctx.reply('confirm.select-ok', {})
  }

  selectTx(): void {
    if (this.#confirm) throw amqpError.precondition('cannot switch from confirm to tx mode')
    this.#tx ??= new ChannelTxMode(this.#ctx, this.#settle)
    this.#ctx.reply('tx.select-ok', {})
  }

  /** tx.select was seen: acks, nacks and rejects wait for tx.commit too (see holdSettle). */
  get transactional(): boolean {
    return this.#tx !== null
  }

  /** basic.ack/nack/reject inside a transaction (its tags already checked): settled into it at tx.commit. */
  holdSettle(method: AmqpMethod): void {
    this.#tx!.holdSettle(method)
  }

  commit(): Promise<void> {
    if (this.#tx === null) throw amqpError.precondition('channel is not transactional')
    return this.#tx.commit()
  }

  rollback(): void {
    if (this.#tx === null) throw amqpError.precondition('channel is not transactional')
    this.#tx.rollback()
  }
}
