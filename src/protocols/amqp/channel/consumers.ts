// A channel's consuming side: basic.consume on queues and stream queues, deliveries and their delivery tags,
// basic.get, ack/nack/reject/recover, basic.qos credit and consumer cancel (by the client or by the broker
// when the queue goes away).

import { CreditGroup } from '../../../broker/credit.js'
import type { StoredMessage } from '../../../broker/message.js'
import type { Queue, QueueConsumer } from '../../../broker/queue/queue.js'
import type { Delivery } from '../../../broker/queue/types.js'
import type { Transaction } from '../../../broker/transactions/transaction.js'
import { isWharfError } from '../../../util/errors.js'
import { consumerPriority } from '../arguments.js'
import { type AmqpMethod, ClassId, type MethodArgs, ReplyCode } from '../codec/index.js'
import { AmqpError, amqpError } from '../errors.js'
import { encodeDelivery, exchangeOf, routingKeyOf } from '../message.js'
import { StreamConsumer } from '../stream-consumer.js'
import { authorize, type ChannelContext, isStreamQueue, queueNameOf, queueOf, serverTag } from './context.js'

/** Unacknowledged window of a no-ack consumer between the queue and the socket. */
export const NO_ACK_WINDOW = 2000

/** What a delivery tag settles: a queue delivery (its own handle) or one credit of a stream consumer. */
type Unacked = Delivery | StreamConsumer

type Consumer =
  | { kind: 'queue'; queue: Queue; consumer: QueueConsumer; noAck: boolean }
  | { kind: 'stream'; consumer: StreamConsumer }

type SettleMethod = Extract<AmqpMethod, { name: 'basic.ack' | 'basic.nack' | 'basic.reject' }>

export class ChannelConsumers {
  readonly #ctx: ChannelContext
  readonly #consumers = new Map<string, Consumer>()
  readonly #unacked = new Map<number, Unacked>()
  #deliveryTag = 0
  #prefetch = 0
  /** basic.qos global; under the connection's delivery credit, so a backed-up socket stops it too. */
  readonly #creditGroup: CreditGroup
  /** No-ack consumers: no qos limit, but stopped with the connection's credit all the same. */
  readonly #noAckCredit: CreditGroup

  constructor(ctx: ChannelContext) {
    this.#ctx = ctx
    this.#creditGroup = new CreditGroup(0, ctx.host.deliveryCredit)
    this.#noAckCredit = new CreditGroup(0, ctx.host.deliveryCredit)
  }

  /** For the admin API: basic.qos prefetch, open deliveries, consumers. */
  get prefetch(): number {
    return this.#prefetch
  }

  get unackedCount(): number {
    return this.#unacked.size
  }

  get consumerCount(): number {
    return this.#consumers.size
  }

  hasConsumer(tag: string): boolean {
    return this.#consumers.has(tag)
  }

  /** The channel's next delivery tag (direct reply-to deliveries share the sequence). */
  nextDeliveryTag(): number {
    return ++this.#deliveryTag
  }

  /** Returns every lease and cancels every consumer (channel or connection closed). */
  release(): void {
    for (const c of this.#consumers.values()) this.#stopConsumer(c)
    this.#consumers.clear()
    this.#unacked.clear()
  }

  #stopConsumer(c: Consumer): void {
    const streamConsumers = this.#ctx.host.streamConsumers
    if (c.kind === 'queue') c.queue.cancel(c.consumer)
    else {
      c.consumer.cancel()
      const n = (streamConsumers.get(c.consumer.stream) ?? 1) - 1
      if (n <= 0) streamConsumers.delete(c.consumer.stream)
      else streamConsumers.set(c.consumer.stream, n)
    }
  }

  qos(args: MethodArgs['basic.qos']): void {
    if (args.prefetchSize !== 0) throw amqpError.notImplemented(`prefetch_size!=0 (${args.prefetchSize})`)
    if (args.global) this.#creditGroup.resize(args.prefetchCount)
    else this.#prefetch = args.prefetchCount
    this.#ctx.reply('basic.qos-ok', {})
  }

  async consume(args: MethodArgs['basic.consume']): Promise<void> {
    const ctx = this.#ctx
    const name = queueNameOf(ctx, args.queue)
    authorize(ctx, 'Read', 'Topic', name)
    const tag = args.consumerTag === '' ? serverTag('amq.ctag') : args.consumerTag
    if (this.#consumers.has(tag)) throw amqpError.notAllowed(`attempt to reuse consumer tag '${tag}'`)
    if (isStreamQueue(ctx, name)) {
      consumerPriority(name, args.arguments) // validated as by RabbitMQ; one cursor per consumer, no effect
      await this.#consumeStream(name, tag, args)
      return
    }
    const queue = queueOf(ctx, name)
    const priority = consumerPriority(name, args.arguments)
    let consumer: QueueConsumer
    try {
      consumer = ctx.broker.consume(name, {
        owner: ctx.owner,
        tag,
        // no-ack consumers are leased too, in a bounded window acked once the frames left the socket
        // buffer: a slow no-ack consumer then holds back the queue instead of filling our memory.
        prefetch: args.noAck ? NO_ACK_WINDOW : this.#prefetch,
        creditGroup: args.noAck ? this.#noAckCredit : this.#creditGroup,
        noAck: false,
        exclusive: args.exclusive,
        priority,
        onDeliver: (deliveries) => this.#deliver(tag, args.noAck, deliveries),
        onCancel: () => this.#serverCancel(tag),
      })
    } catch (error) {
      if (isWharfError(error, 'RESOURCE_LOCKED'))
        throw amqpError.accessRefused(`queue '${name}' in vhost '/' in exclusive use`)
      throw error
    }
    this.#consumers.set(tag, { kind: 'queue', queue, consumer, noAck: args.noAck })
    if (!args.nowait) ctx.reply('basic.consume-ok', { consumerTag: tag })
  }

  async #consumeStream(name: string, tag: string, args: MethodArgs['basic.consume']): Promise<void> {
    const ctx = this.#ctx
    if (args.noAck) throw amqpError.notImplemented('no_ack=true is not supported by stream queues')
    if (this.#prefetch === 0) throw amqpError.precondition('consumer prefetch count is not set for stream queues')
    const consumer = new StreamConsumer({
      broker: ctx.broker,
      stream: name,
      tag,
      prefetch: this.#prefetch,
      parentCredit: ctx.host.deliveryCredit,
      deliver: (messages) => this.#deliverStream(consumer, messages),
      onError: (error) => ctx.error(error, ClassId.BASIC, 20),
    })
    await consumer.seek(args.arguments['x-stream-offset'])
    if (!ctx.isOpen()) return
    this.#consumers.set(tag, { kind: 'stream', consumer })
    ctx.host.streamConsumers.set(name, (ctx.host.streamConsumers.get(name) ?? 0) + 1)
    if (!args.nowait) ctx.reply('basic.consume-ok', { consumerTag: tag })
    consumer.start()
  }

  #deliver(tag: string, noAck: boolean, deliveries: Delivery[]): void {
    const { host, broker } = this.#ctx
    const settled = broker.deliveries
    if (!this.#ctx.isOpen()) {
      for (const d of deliveries) settled.nack(d, true)
      return
    }
    const frameMax = host.frameMax
    if (noAck) {
      host.whenWritten(() => {
        for (const d of deliveries) settled.settle(d)
      })
    }
    const traffic = host.traffic
    for (const d of deliveries) {
      const deliveryTag = ++this.#deliveryTag
      if (!noAck) this.#unacked.set(deliveryTag, d)
      const m = d.message
      traffic.delivered(1, m.value?.length ?? 0)
      if (d.redelivered) traffic.messagesRedelivered++
      host.send(
        encodeDelivery(
          this.#ctx.number,
          'basic.deliver',
          {
            consumerTag: tag,
            deliveryTag,
            redelivered: d.redelivered,
            exchange: exchangeOf(m),
            routingKey: routingKeyOf(m, d.queue),
          },
          m,
          frameMax,
        ),
      )
    }
  }

  #deliverStream(consumer: StreamConsumer, messages: StoredMessage[]): void {
    if (!this.#ctx.isOpen()) return
    for (const m of messages) {
      const deliveryTag = ++this.#deliveryTag
      this.#unacked.set(deliveryTag, consumer)
      this.#ctx.host.traffic.delivered(1, m.value?.length ?? 0)
      this.#ctx.host.send(
        encodeDelivery(
          this.#ctx.number,
          'basic.deliver',
          {
            consumerTag: consumer.tag,
            deliveryTag,
            redelivered: false,
            exchange: exchangeOf(m),
            routingKey: routingKeyOf(m, consumer.stream),
          },
          m,
          this.#ctx.host.frameMax,
          { streamOffset: m.offset },
        ),
      )
    }
  }

  /** The broker cancelled the consumer (queue deleted): basic.cancel to clients that understand it. */
  #serverCancel(tag: string): void {
    if (!this.#consumers.delete(tag) || !this.#ctx.isOpen()) return
    if (this.#ctx.host.consumerCancelNotify)
      this.#ctx.host.sendMethod(this.#ctx.number, 'basic.cancel', { consumerTag: tag, nowait: true })
  }

  cancel(args: MethodArgs['basic.cancel']): void {
    const tag = args.consumerTag
    const c = this.#consumers.get(tag)
    if (c !== undefined) {
      this.#consumers.delete(tag)
      this.#stopConsumer(c)
    }
    if (!args.nowait) this.#ctx.reply('basic.cancel-ok', { consumerTag: tag })
  }

  async get(args: MethodArgs['basic.get']): Promise<void> {
    const ctx = this.#ctx
    await ctx.publishesSettled()
    const name = queueNameOf(ctx, args.queue)
    authorize(ctx, 'Read', 'Topic', name)
    if (isStreamQueue(ctx, name)) throw amqpError.notImplemented('basic.get not supported by stream queues')
    const queue = queueOf(ctx, name)
    const [d] = await ctx.broker.get(name, { owner: ctx.owner, max: 1, noAck: args.noAck })
    if (d === undefined) {
      ctx.reply('basic.get-empty', {})
      return
    }
    if (!ctx.isOpen()) {
      if (!args.noAck) ctx.broker.deliveries.nack(d, true)
      return
    }
    const deliveryTag = ++this.#deliveryTag
    if (!args.noAck) this.#unacked.set(deliveryTag, d)
    const m = d.message
    const messageCount = queue.queueStats().ready
    ctx.host.traffic.delivered(1, m.value?.length ?? 0)
    if (d.redelivered) ctx.host.traffic.messagesRedelivered++
    ctx.host.send(
      encodeDelivery(
        ctx.number,
        'basic.get-ok',
        {
          deliveryTag,
          redelivered: d.redelivered,
          exchange: exchangeOf(m),
          routingKey: routingKeyOf(m, name),
          messageCount,
        },
        m,
        ctx.host.frameMax,
      ),
    )
  }

  // ---- ack, nack, reject, recover ----

  /** Tags an ack/nack/reject settles; 406 for an unknown tag (RabbitMQ closes the channel). */
  #tagsOf(method: SettleMethod): number[] {
    const tag = method.args.deliveryTag
    const multiple = method.name !== 'basic.reject' && method.args.multiple
    if (multiple) {
      const tags: number[] = []
      for (const key of this.#unacked.keys()) {
        if (tag !== 0 && key > tag) break
        tags.push(key)
      }
      if (tag !== 0 && tags.length === 0 && !this.#unacked.has(tag)) throw this.#unknownTag(method, tag)
      return tags
    }
    if (!this.#unacked.has(tag)) throw this.#unknownTag(method, tag)
    return [tag]
  }

  #unknownTag(method: AmqpMethod, tag: number): AmqpError {
    return new AmqpError(ReplyCode.PRECONDITION_FAILED, `unknown delivery tag ${tag}`, method.classId, method.methodId)
  }

  /** Checks an ack/nack/reject's tags without settling (one held back by a transaction). */
  validateTags(method: AmqpMethod): void {
    if (method.name === 'basic.ack' || method.name === 'basic.nack' || method.name === 'basic.reject')
      this.#tagsOf(method)
  }

  /** Settles now, or into a broker transaction (tx.commit): its queue deliveries are then settled atomically. */
  settle(method: AmqpMethod, into?: Transaction): void {
    if (method.name !== 'basic.ack' && method.name !== 'basic.nack' && method.name !== 'basic.reject') return
    const requeue = method.name === 'basic.ack' ? false : method.args.requeue
    const tag = method.args.deliveryTag
    if (method.name === 'basic.reject' || !method.args.multiple) {
      // One tag, the common case: no tag list.
      const u = this.#unacked.get(tag)
      if (u === undefined) throw this.#unknownTag(method, tag)
      this.#unacked.delete(tag)
      this.#settleOne(u, method.name === 'basic.ack', requeue, into)
      return
    }
    for (const t of this.#tagsOf(method)) {
      const u = this.#unacked.get(t)!
      this.#unacked.delete(t)
      this.#settleOne(u, method.name === 'basic.ack', requeue, into)
    }
  }

  /** The client was answered already, so an ack does not wait for the store (a failed one redelivers). */
  #settleOne(u: Unacked, ack: boolean, requeue: boolean, into?: Transaction): void {
    const traffic = this.#ctx.host.traffic
    if (ack) traffic.messagesAcknowledged++
    else if (requeue) traffic.messagesRequeued++
    if (u instanceof StreamConsumer) u.credit()
    else if (into !== undefined && ack) into.ack(u)
    else if (into !== undefined) into.nack(u, requeue)
    else if (ack) this.#ctx.broker.deliveries.settle(u)
    else this.#ctx.broker.deliveries.nack(u, requeue)
  }

  /** basic.recover requeue=true: every unacked delivery goes back to its queue, redelivered. */
  recover(): void {
    const all = [...this.#unacked.values()]
    this.#unacked.clear()
    this.#ctx.host.traffic.messagesRequeued += all.length
    for (const u of all) {
      if (u instanceof StreamConsumer) u.credit()
      else this.#ctx.broker.deliveries.nack(u, true)
    }
  }
}
