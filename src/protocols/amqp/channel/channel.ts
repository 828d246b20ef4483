// One AMQP channel: methods in, broker calls out, in the order they arrived. A method whose handler is
// asynchronous (declare, bind, get, tx.commit) holds the channel's later frames in a backlog until it is done,
// so a publish right after an unawaited declare sees the queue, as RabbitMQ guarantees. Publishes are not
// awaited (that would serialize the disk): they are started in order and settled in order, so that
// basic.return precedes the confirm and confirms coalesce into multiple=true acks.
//
// This file holds frame intake, method dispatch and the channel's open/closing/closed state; the handlers are
// publisher.ts (publish, confirms, tx), consumers.ts (consume, deliveries, acks, qos, get) and
// declarations.ts (queues and exchanges), all over the ChannelContext of context.ts.
import type { Broker } from '../../../broker/broker.js'
import {
  type AmqpFrame,
  type AmqpMethod,
  decodeMethodFrame,
  FRAME_METHOD,
  type MethodArgs,
  type MethodInit,
  type MethodName,
  ReplyCode,
} from '../codec/index.js'
import {
  bindExchange,
  bindQueue,
  declareExchange,
  declareQueue,
  deleteExchange,
  deleteQueue,
  purgeQueue,
} from '../declarations.js'
import { type AmqpError, amqpError, toAmqpError } from '../errors.js'
import { REPLY_TO, ReplyConsumer } from '../reply-to.js'
import { ChannelConsumers } from './consumers.js'
import { type ChannelContext, type ChannelHost, serverTag } from './context.js'
import { ChannelPublisher } from './publisher.js'

export { NO_ACK_WINDOW } from './consumers.js'
export type { ChannelHost } from './context.js'
export { BODY_BYTES_MAX } from './publisher.js'

export class AmqpChannel {
  readonly number: number
  readonly owner: string
  #state: 'open' | 'closing' | 'closed' = 'open'
  readonly #host: ChannelHost
  readonly #broker: Broker
  #busy = false
  readonly #backlog: AmqpFrame[] = []
  readonly #ctx: ChannelContext
  readonly #publisher: ChannelPublisher
  readonly #consumers: ChannelConsumers
  readonly #replyConsumer: ReplyConsumer

  constructor(host: ChannelHost, number: number) {
    this.#host = host
    this.#broker = host.broker
    this.number = number
    this.owner = `${host.id}/${number}`
    this.#ctx = {
      number,
      owner: this.owner,
      host,
      broker: host.broker,
      lastQueue: null,
      isOpen: () => this.#state === 'open',
      reply: (name, args) => this.#reply(name, args),
      error: (error, classId, methodId) => this.#error(error, classId, methodId),
      closeWithError: (error) => this.closeWithError(error),
      publishesSettled: () => this.#publisher.publishesSettled(),
    }
    this.#consumers = new ChannelConsumers(this.#ctx)
    this.#replyConsumer = new ReplyConsumer(this.#ctx, () => this.#consumers.nextDeliveryTag())
    this.#publisher = new ChannelPublisher(
      this.#ctx,
      (method, into) => this.#consumers.settle(method, into),
      () => this.#replyConsumer.address,
    )
  }

  get closing(): boolean {
    return this.#state !== 'open'
  }

  // ---- frame intake and ordering ----

  handleFrame(frame: AmqpFrame): void {
    if (this.#state === 'closed') return
    if (this.#busy) {
      this.#backlog.push(frame)
      return
    }
    this.#process(frame)
  }

  get backlogLength(): number {
    return this.#backlog.length
  }

  /** For the admin API's connection list: basic.qos prefetch, open deliveries, consumers, confirm mode. */
  describe(): { number: number; prefetch: number; unacked: number; consumers: number; confirm: boolean } {
    return {
      number: this.number,
      prefetch: this.#consumers.prefetch,
      unacked: this.#consumers.unackedCount,
      consumers: this.#consumers.consumerCount,
      confirm: this.#publisher.confirm,
    }
  }

  #process(frame: AmqpFrame): void {
    let classId = 0
    let methodId = 0
    try {
      if (this.#state === 'closing') {
        this.#whileClosing(frame)
        return
      }
      if (this.#publisher.assembling) {
        this.#publisher.content(frame)
        return
      }
      if (frame.type !== FRAME_METHOD)
        throw amqpError.unexpectedFrame(`expected method frame, got non method frame instead`)
      const method = decodeMethodFrame(frame.payload)
      classId = method.classId
      methodId = method.methodId
      const work = this.#dispatch(method)
      if (work !== undefined) {
        this.#busy = true
        work.then(
          () => this.#resume(),
          (error) => {
            this.#error(error, classId, methodId)
            this.#resume()
          },
        )
      }
    } catch (error) {
      this.#error(error, classId, methodId)
    }
  }

  #resume(): void {
    this.#busy = false
    while (!this.#busy && this.#backlog.length > 0 && this.#state !== 'closed') this.#process(this.#backlog.shift()!)
  }

  #error(error: unknown, classId: number, methodId: number): void {
    const mapped = toAmqpError(error, classId, methodId)
    if (mapped.replyCode === ReplyCode.INTERNAL_ERROR)
      this.#host.logger.warn({ err: error, channel: this.number }, 'amqp channel internal error')
    if (mapped.hard) this.#host.fail(mapped)
    else this.closeWithError(mapped)
  }

  /** Soft error: channel.close to the peer, then only channel.close(-ok) is accepted. */
  closeWithError(error: AmqpError): void {
    if (this.#state !== 'open') return
    this.#state = 'closing'
    this.#host.channelError(this.number, error)
    this.#host.sendMethod(this.number, 'channel.close', {
      replyCode: error.replyCode,
      replyText: error.message.slice(0, 255),
      classId: error.classId,
      methodId: error.methodId,
    })
    this.release()
  }

  #whileClosing(frame: AmqpFrame): void {
    if (frame.type !== FRAME_METHOD) return
    const method = decodeMethodFrame(frame.payload)
    if (method.name === 'channel.close-ok') this.#state = 'closed'
    else if (method.name === 'channel.close') {
      this.#host.sendMethod(this.number, 'channel.close-ok', {})
      this.#state = 'closed'
    }
  }

  get closed(): boolean {
    return this.#state === 'closed'
  }

  /** Returns every lease and cancels every consumer (channel or connection closed). */
  release(): void {
    this.#consumers.release()
    this.#replyConsumer.release()
    this.#backlog.length = 0
    this.#publisher.discard()
    void this.#broker
      .releaseOwner(this.owner)
      .catch((error) => this.#host.logger.warn({ err: error }, 'amqp release failed'))
  }

  // ---- dispatch ----

  #dispatch(method: AmqpMethod): Promise<void> | undefined {
    const ctx = this.#ctx
    switch (method.name) {
      case 'basic.publish':
        this.#publisher.begin(method.args)
        return
      case 'basic.ack':
      case 'basic.nack':
      case 'basic.reject':
        if (this.#publisher.transactional) {
          this.#consumers.validateTags(method)
          this.#publisher.holdSettle(method)
        } else this.#consumers.settle(method)
        return
      case 'basic.consume':
        return this.#consume(method.args)
      case 'basic.cancel':
        if (method.args.consumerTag === this.#replyConsumer.tag) this.#replyConsumer.release()
        this.#consumers.cancel(method.args)
        return
      case 'basic.qos':
        this.#consumers.qos(method.args)
        return
      case 'basic.get':
        return this.#consumers.get(method.args)
      case 'basic.recover':
      case 'basic.recover-async':
        if (!method.args.requeue) throw amqpError.notImplemented('requeue=false')
        this.#consumers.recover()
        if (method.name === 'basic.recover') this.#reply('basic.recover-ok', {})
        return
      case 'queue.declare':
        return declareQueue(ctx, method.args)
      case 'queue.bind':
      case 'queue.unbind':
        return bindQueue(ctx, method.name, method.args)
      case 'queue.purge':
        return purgeQueue(ctx, method.args)
      case 'queue.delete':
        return deleteQueue(ctx, method.args)
      case 'exchange.declare':
        return declareExchange(ctx, method.args)
      case 'exchange.delete':
        return deleteExchange(ctx, method.args)
      case 'exchange.bind':
      case 'exchange.unbind':
        return bindExchange(ctx, method.name, method.args)
      case 'confirm.select':
        this.#publisher.selectConfirm(method.args)
        return
      case 'tx.select':
        this.#publisher.selectTx()
        return
      case 'tx.commit':
        return this.#publisher.commit()
      case 'tx.rollback':
        this.#publisher.rollback()
        return
      case 'access.request':
        this.#reply('access.request-ok', { ticket: 1 })
        return
      case 'channel.flow':
        if (!method.args.active) throw amqpError.notImplemented('active=false')
        this.#reply('channel.flow-ok', { active: true })
        return
      case 'channel.flow-ok':
        return
      case 'channel.close':
        this.release()
        this.#state = 'closed'
        this.#host.sendMethod(this.number, 'channel.close-ok', {})
        return
      case 'channel.close-ok':
        // We never close a channel without entering 'closing'; a stray close-ok is harmless.
        return
      case 'channel.open':
        throw amqpError.channelError("second 'channel.open' seen")
      default:
        throw amqpError.commandInvalid(`unexpected method ${method.name} on channel ${this.number}`)
    }
  }

  /** basic.consume; the direct reply-to pseudo-queue has no queue behind it (see reply-to.ts). */
  #consume(args: MethodArgs['basic.consume']): Promise<void> | undefined {
    const tag = args.consumerTag
    if (
      tag !== '' &&
      (tag === this.#replyConsumer.tag || (args.queue === REPLY_TO && this.#consumers.hasConsumer(tag)))
    )
      throw amqpError.notAllowed(`attempt to reuse consumer tag '${tag}'`)
    if (args.queue !== REPLY_TO) return this.#consumers.consume(args)
    this.#replyConsumer.consume(args, tag === '' ? serverTag('amq.ctag') : tag)
  }

  #reply<N extends MethodName>(name: N, args: MethodInit[N]): void {
    if (this.#state === 'open') this.#host.sendMethod(this.number, name, args)
  }
}
