// One AMQP channel: methods in, broker calls out, in the order they arrived. A method whose handler is
// asynchronous (declare, bind, get, tx.commit) holds the channel's later frames in a backlog until it is done,
// so a publish right after an unawaited declare sees the queue, as RabbitMQ guarantees. Publishes are not
// awaited (that would serialize the disk): they are started in order and settled in order, so that
// basic.return precedes the confirm and confirms coalesce into multiple=true acks.
import type { Broker } from '../../broker/broker.js'
import type { QueueConfig } from '../../broker/config.js'
import type { QueueConsumer, QueueSubscription } from '../../broker/queue.js'
import { CreditGroup, type Delivery } from '../../broker/queue-types.js'
import type { PublishMessage, StoredMessage } from '../../broker/types.js'
import { isWharfError } from '../../util/errors.js'
import type { Logger } from '../../util/logger.js'
import { assertEquivalent, queueArguments } from './arguments.js'
import {
  type AmqpFrame,
  type AmqpMethod,
  type BasicProperties,
  ClassId,
  type ContentHeader,
  decodeContentHeader,
  decodeMethodFrame,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_METHOD,
  type MethodArgs,
  type MethodInit,
  type MethodName,
  ReplyCode,
} from './codec/index.js'
import { AmqpError, amqpError, toAmqpError } from './errors.js'
import { encodeDelivery, exchangeOf, propsBytesOf, routingKeyOf, toPublishMessage } from './message.js'
import { StreamConsumer } from './stream-consumer.js'

/** Unacknowledged window of a no-ack consumer between the queue and the socket. */
export const NO_ACK_WINDOW = 2000
/** Largest message body accepted (the broker's stream limit applies on top). */
export const BODY_BYTES_MAX = 64 * 1024 * 1024

/** What a channel needs from its connection. */
export interface ChannelHost {
  readonly id: string
  readonly broker: Broker
  readonly logger: Logger
  readonly frameMax: number
  readonly consumerCancelNotify: boolean
  sendMethod<N extends MethodName>(channel: number, name: N, args: MethodInit[N]): void
  send(frames: Buffer | Buffer[]): void
  /** Runs `done` once everything queued so far has been handed to a socket that is not backed up. */
  whenWritten(done: () => void): void
  /** A hard error: connection.close. */
  fail(error: AmqpError): void
  /** Publishes started / settled, for TCP back-pressure. */
  publishStarted(): void
  publishSettled(): void
  /** Consumer counts of stream queues (shared by all connections). */
  streamConsumers: Map<string, number>
}

type Unacked =
  | {
      kind: 'queue'
      queue: QueueSubscription
      partition: number
      offset: number
      leaseId: number
      consumerTag: string | null
    }
  | { kind: 'stream'; consumer: StreamConsumer; consumerTag: string }

type Consumer =
  | { kind: 'queue'; queue: QueueSubscription; consumer: QueueConsumer; noAck: boolean }
  | { kind: 'stream'; consumer: StreamConsumer }

interface PendingPublish {
  seq: number
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

type TxOp =
  | {
      kind: 'publish'
      exchange: string
      routingKey: string
      mandatory: boolean
      message: PublishMessage
      headers: BasicProperties['headers']
    }
  | { kind: 'settle'; method: AmqpMethod }

let tagSeq = 0
function serverTag(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${(++tagSeq).toString(36)}${Math.random().toString(36).slice(2, 8)}`
}

export class AmqpChannel {
  readonly number: number
  readonly owner: string
  #state: 'open' | 'closing' | 'closed' = 'open'
  readonly #host: ChannelHost
  readonly #broker: Broker
  #busy = false
  readonly #backlog: AmqpFrame[] = []
  #assembly: Assembly | null = null
  // consuming
  readonly #consumers = new Map<string, Consumer>()
  readonly #unacked = new Map<number, Unacked>()
  #deliveryTag = 0
  #prefetch = 0
  readonly #creditGroup = new CreditGroup(0)
  // publishing
  #confirm = false
  #publishSeq = 0
  /** Publishes in flight, oldest first; entries before #pendingHead are settled (no Array#shift: O(n)). */
  #pending: PendingPublish[] = []
  #pendingHead = 0
  #tx: TxOp[] | null = null
  #lastQueue: string | null = null
  #lastPublish: Promise<void> = Promise.resolve()

  constructor(host: ChannelHost, number: number) {
    this.#host = host
    this.#broker = host.broker
    this.number = number
    this.owner = `${host.id}/${number}`
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
      prefetch: this.#prefetch,
      unacked: this.#unacked.size,
      consumers: this.#consumers.size,
      confirm: this.#confirm,
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
      if (this.#assembly !== null) {
        this.#content(frame)
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
    for (const [tag, c] of this.#consumers) this.#stopConsumer(tag, c)
    this.#consumers.clear()
    this.#unacked.clear()
    this.#backlog.length = 0
    this.#assembly = null
    void this.#broker
      .releaseOwner(this.owner)
      .catch((error) => this.#host.logger.warn({ err: error }, 'amqp release failed'))
  }

  #stopConsumer(tag: string, c: Consumer): void {
    if (c.kind === 'queue') c.queue.cancel(c.consumer)
    else {
      c.consumer.cancel()
      const n = (this.#host.streamConsumers.get(c.consumer.stream) ?? 1) - 1
      if (n <= 0) this.#host.streamConsumers.delete(c.consumer.stream)
      else this.#host.streamConsumers.set(c.consumer.stream, n)
    }
    void tag
  }

  // ---- content frames ----

  #content(frame: AmqpFrame): void {
    const a = this.#assembly!
    if (a.header === null) {
      if (frame.type !== FRAME_HEADER)
        throw amqpError.unexpectedFrame('expected content header for class 60, got non content header frame instead')
      a.header = decodeContentHeader(frame.payload)
      a.propsRaw = propsBytesOf(frame.payload)
      if (a.header.bodySize > BODY_BYTES_MAX) {
        this.#assembly = null
        throw new AmqpError(
          ReplyCode.PRECONDITION_FAILED,
          `message size ${a.header.bodySize} is larger than configured max size ${BODY_BYTES_MAX}`,
          ClassId.BASIC,
          40,
        )
      }
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
      const body = a.bodies.length === 1 ? a.bodies[0]! : Buffer.concat(a.bodies, a.received)
      this.#published(a.method, a.header, a.propsRaw!, body)
    }
  }

  // ---- dispatch ----

  #dispatch(method: AmqpMethod): Promise<void> | undefined {
    switch (method.name) {
      case 'basic.publish':
        if (method.args.immediate) throw amqpError.notImplemented('immediate=true')
        this.#checkExchange(method.args.exchange)
        this.#assembly = { method: method.args, header: null, propsRaw: null, bodies: [], received: 0 }
        return
      case 'basic.ack':
      case 'basic.nack':
      case 'basic.reject':
        if (this.#tx !== null) {
          this.#validateTags(method)
          this.#tx.push({ kind: 'settle', method })
        } else this.#settle(method)
        return
      case 'basic.consume':
        return this.#consume(method.args)
      case 'basic.cancel':
        this.#cancel(method.args.consumerTag)
        if (!method.args.nowait) this.#reply('basic.cancel-ok', { consumerTag: method.args.consumerTag })
        return
      case 'basic.qos':
        if (method.args.prefetchSize !== 0)
          throw amqpError.notImplemented(`prefetch_size!=0 (${method.args.prefetchSize})`)
        if (method.args.global) {
          this.#creditGroup.limit = method.args.prefetchCount
          this.#creditGroup.release(0)
        } else this.#prefetch = method.args.prefetchCount
        this.#reply('basic.qos-ok', {})
        return
      case 'basic.get':
        return this.#get(method.args)
      case 'basic.recover':
      case 'basic.recover-async':
        if (!method.args.requeue) throw amqpError.notImplemented('requeue=false')
        this.#recover()
        if (method.name === 'basic.recover') this.#reply('basic.recover-ok', {})
        return
      case 'queue.declare':
        return this.#declareQueue(method.args)
      case 'queue.bind':
      case 'queue.unbind':
        return this.#bindQueue(method.name, method.args)
      case 'queue.purge':
        return this.#purge(method.args)
      case 'queue.delete':
        return this.#deleteQueue(method.args)
      case 'exchange.declare':
        return this.#declareExchange(method.args)
      case 'exchange.delete':
        return this.#broker.deleteExchange(method.args.exchange, { ifUnused: method.args.ifUnused }).then(() => {
          if (!method.args.nowait) this.#reply('exchange.delete-ok', {})
        })
      case 'exchange.bind':
      case 'exchange.unbind':
        return this.#bindExchange(method.name, method.args)
      case 'confirm.select':
        if (this.#tx !== null) throw amqpError.precondition('cannot switch from tx to confirm mode')
        this.#confirm = true
        if (!method.args.nowait) this.#reply('confirm.select-ok', {})
        return
      case 'tx.select':
        if (this.#confirm) throw amqpError.precondition('cannot switch from confirm to tx mode')
        this.#tx ??= []
        this.#reply('tx.select-ok', {})
        return
      case 'tx.commit':
        if (this.#tx === null) throw amqpError.precondition('channel is not transactional')
        return this.#commit()
      case 'tx.rollback':
        if (this.#tx === null) throw amqpError.precondition('channel is not transactional')
        this.#tx = []
        this.#reply('tx.rollback-ok', {})
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

  #reply<N extends MethodName>(name: N, args: MethodInit[N]): void {
    if (this.#state === 'open') this.#host.sendMethod(this.number, name, args)
  }

  // ---- publishing ----

  #checkExchange(name: string): void {
    if (name === '') return
    const def = this.#broker.router.getExchange(name)
    if (def === undefined) throw amqpError.notFound(`no exchange '${name}' in vhost '/'`)
    if (def.internal) throw amqpError.accessRefused(`cannot publish to internal exchange '${name}' in vhost '/'`)
  }

  #published(method: MethodArgs['basic.publish'], header: ContentHeader, propsRaw: Buffer, body: Buffer): void {
    let message: PublishMessage
    try {
      message = toPublishMessage(propsRaw, header.properties, body)
    } catch (error) {
      throw error instanceof AmqpError ? Object.assign(error, { classId: ClassId.BASIC, methodId: 40 }) : error
    }
    const op = {
      kind: 'publish' as const,
      exchange: method.exchange,
      routingKey: method.routingKey,
      mandatory: method.mandatory,
      message,
      headers: header.properties.headers,
    }
    if (this.#tx !== null) {
      this.#tx.push(op)
      return
    }
    this.#startPublish(op)
  }

  /**
   * Resolves once every publish started on this channel has settled: a basic.get, purge, delete or
   * declare-ok count after a publish on the same channel must see it, as in RabbitMQ.
   */
  #publishesSettled(): Promise<void> | undefined {
    return this.#pending.length === this.#pendingHead ? undefined : this.#lastPublish
  }

  #startPublish(op: Extract<TxOp, { kind: 'publish' }>): Promise<void> {
    const entry: PendingPublish = {
      seq: this.#confirm ? ++this.#publishSeq : 0,
      done: false,
      ok: false,
      returned: null,
    }
    this.#pending.push(entry)
    this.#host.publishStarted()
    this.#lastPublish = this.#route(op).then(
      (routed) => {
        entry.ok = true
        if (routed === 0 && op.mandatory) {
          entry.returned = encodeDelivery(
            this.number,
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
            this.#host.frameMax,
          )
        }
        this.#settled(entry)
      },
      (error) => {
        if (!isWharfError(error, 'QUEUE_FULL')) {
          if (isWharfError(error, 'MESSAGE_TOO_LARGE')) this.closeWithError(toAmqpError(error, ClassId.BASIC, 40))
          else this.#host.logger.warn({ err: error, exchange: op.exchange }, 'amqp publish failed')
        }
        this.#settled(entry)
      },
    )
    return this.#lastPublish
  }

  /** Routes through the broker; a stream queue on the default exchange is appended to directly. */
  async #route(op: Extract<TxOp, { kind: 'publish' }>): Promise<number> {
    const routingHeaders = op.headers as Record<string, unknown> | undefined
    if (
      op.exchange === '' &&
      this.#broker.getQueue(op.routingKey) === undefined &&
      this.#broker.getStream(op.routingKey) !== undefined
    ) {
      const stamped = {
        ...op.message,
        headers: [
          ...(op.message.headers ?? []),
          { key: 'wharf.exchange', value: Buffer.alloc(0) },
          { key: 'wharf.routing-key', value: Buffer.from(op.routingKey) },
        ],
      }
      await this.#broker.produce(op.routingKey, [stamped])
      return 1
    }
    const result = await this.#broker.publish(op.exchange, op.routingKey, op.message, { routingHeaders })
    return result.routed
  }

  #settled(entry: PendingPublish): void {
    entry.done = true
    this.#host.publishSettled()
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
      if (this.#state !== 'open') continue
      if (head.returned !== null) {
        if (ackUpTo > 0) this.#host.sendMethod(this.number, 'basic.ack', { deliveryTag: ackUpTo, multiple: true })
        ackUpTo = 0
        this.#host.send(head.returned)
      }
      if (head.seq === 0) continue
      if (head.ok) ackUpTo = head.seq
      else {
        if (ackUpTo > 0) this.#host.sendMethod(this.number, 'basic.ack', { deliveryTag: ackUpTo, multiple: true })
        ackUpTo = 0
        this.#host.sendMethod(this.number, 'basic.nack', { deliveryTag: head.seq, multiple: false, requeue: false })
      }
    }
    if (ackUpTo > 0 && this.#state === 'open')
      this.#host.sendMethod(this.number, 'basic.ack', { deliveryTag: ackUpTo, multiple: true })
  }

  async #commit(): Promise<void> {
    const ops = this.#tx!
    this.#tx = []
    const publishes: Promise<void>[] = []
    for (const op of ops) {
      if (op.kind === 'publish') publishes.push(this.#startPublish(op))
      else this.#settle(op.method)
    }
    await Promise.all(publishes)
    this.#reply('tx.commit-ok', {})
  }

  // ---- consuming ----

  #queueName(name: string): string {
    if (name !== '') return name
    if (this.#lastQueue === null) throw amqpError.notFound('no previously declared queue')
    return this.#lastQueue
  }

  /** The queue, 404 when missing, 405 when another connection's exclusive queue. */
  #queue(name: string): QueueSubscription {
    const queue = this.#broker.getQueue(name)
    if (queue === undefined) throw amqpError.notFound(`no queue '${name}' in vhost '/'`)
    this.#checkExclusive(queue.name, queue.config)
    return queue
  }

  #checkExclusive(name: string, config: QueueConfig): void {
    if (config.exclusiveOwner !== null && config.exclusiveOwner !== this.#host.id) {
      throw amqpError.locked(
        `cannot obtain exclusive access to locked queue '${name}' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
      )
    }
  }

  #isStreamQueue(name: string): boolean {
    return this.#broker.getQueue(name) === undefined && this.#broker.getStream(name) !== undefined
  }

  async #consume(args: MethodArgs['basic.consume']): Promise<void> {
    const name = this.#queueName(args.queue)
    const tag = args.consumerTag === '' ? serverTag('amq.ctag') : args.consumerTag
    if (this.#consumers.has(tag)) throw amqpError.notAllowed(`attempt to reuse consumer tag '${tag}'`)
    if (this.#isStreamQueue(name)) {
      await this.#consumeStream(name, tag, args)
      return
    }
    const queue = this.#queue(name)
    let consumer: QueueConsumer
    try {
      consumer = this.#broker.consume(name, {
        owner: this.owner,
        tag,
        // no-ack consumers are leased too, in a bounded window acked once the frames left the socket
        // buffer: a slow no-ack consumer then holds back the queue instead of filling our memory.
        prefetch: args.noAck ? NO_ACK_WINDOW : this.#prefetch,
        creditGroup: args.noAck ? undefined : this.#creditGroup,
        noAck: false,
        exclusive: args.exclusive,
        onDeliver: (deliveries) => this.#deliver(tag, args.noAck, deliveries),
        onCancel: () => this.#serverCancel(tag),
      })
    } catch (error) {
      if (isWharfError(error, 'RESOURCE_LOCKED'))
        throw amqpError.accessRefused(`queue '${name}' in vhost '/' in exclusive use`)
      throw error
    }
    this.#consumers.set(tag, { kind: 'queue', queue, consumer, noAck: args.noAck })
    if (!args.nowait) this.#reply('basic.consume-ok', { consumerTag: tag })
  }

  async #consumeStream(name: string, tag: string, args: MethodArgs['basic.consume']): Promise<void> {
    if (args.noAck) throw amqpError.notImplemented('no_ack=true is not supported by stream queues')
    if (this.#prefetch === 0) throw amqpError.precondition('consumer prefetch count is not set for stream queues')
    const consumer = new StreamConsumer({
      broker: this.#broker,
      stream: name,
      tag,
      prefetch: this.#prefetch,
      deliver: (messages) => this.#deliverStream(consumer, messages),
      onError: (error) => this.#error(error, ClassId.BASIC, 20),
    })
    await consumer.seek(args.arguments['x-stream-offset'])
    if (this.#state !== 'open') return
    this.#consumers.set(tag, { kind: 'stream', consumer })
    this.#host.streamConsumers.set(name, (this.#host.streamConsumers.get(name) ?? 0) + 1)
    if (!args.nowait) this.#reply('basic.consume-ok', { consumerTag: tag })
    consumer.start()
  }

  #deliver(tag: string, noAck: boolean, deliveries: Delivery[]): void {
    if (this.#state !== 'open') {
      for (const d of deliveries) this.#broker.getQueue(d.queue)?.nack(d.partition, d.offset, true, d.leaseId)
      return
    }
    const frameMax = this.#host.frameMax
    const queue = this.#broker.getQueue(deliveries[0]?.queue ?? '')
    if (noAck && queue) {
      const leases = deliveries.map((d) => [d.partition, d.offset, d.leaseId] as const)
      this.#host.whenWritten(() => {
        for (const [partition, offset, leaseId] of leases) {
          void queue
            .ack(partition, offset, leaseId)
            .catch((error) => this.#host.logger.warn({ err: error }, 'amqp ack failed'))
        }
      })
    }
    for (const d of deliveries) {
      const deliveryTag = ++this.#deliveryTag
      if (!noAck && queue)
        this.#unacked.set(deliveryTag, {
          kind: 'queue',
          queue,
          partition: d.partition,
          offset: d.offset,
          leaseId: d.leaseId,
          consumerTag: tag,
        })
      const m = d.message
      this.#host.send(
        encodeDelivery(
          this.number,
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
    if (this.#state !== 'open') return
    for (const m of messages) {
      const deliveryTag = ++this.#deliveryTag
      this.#unacked.set(deliveryTag, { kind: 'stream', consumer, consumerTag: consumer.tag })
      this.#host.send(
        encodeDelivery(
          this.number,
          'basic.deliver',
          {
            consumerTag: consumer.tag,
            deliveryTag,
            redelivered: false,
            exchange: exchangeOf(m),
            routingKey: routingKeyOf(m, consumer.stream),
          },
          m,
          this.#host.frameMax,
          { streamOffset: m.offset },
        ),
      )
    }
  }

  /** The broker cancelled the consumer (queue deleted): basic.cancel to clients that understand it. */
  #serverCancel(tag: string): void {
    if (!this.#consumers.delete(tag) || this.#state !== 'open') return
    if (this.#host.consumerCancelNotify)
      this.#host.sendMethod(this.number, 'basic.cancel', { consumerTag: tag, nowait: true })
  }

  #cancel(tag: string): void {
    const c = this.#consumers.get(tag)
    if (c === undefined) return
    this.#consumers.delete(tag)
    this.#stopConsumer(tag, c)
  }

  async #get(args: MethodArgs['basic.get']): Promise<void> {
    await this.#publishesSettled()
    const name = this.#queueName(args.queue)
    if (this.#isStreamQueue(name)) throw amqpError.notImplemented('basic.get not supported by stream queues')
    const queue = this.#queue(name)
    const [d] = await this.#broker.get(name, { owner: this.owner, max: 1, noAck: args.noAck })
    if (d === undefined) {
      this.#reply('basic.get-empty', {})
      return
    }
    if (this.#state !== 'open') {
      if (!args.noAck) queue.nack(d.partition, d.offset, true, d.leaseId)
      return
    }
    const deliveryTag = ++this.#deliveryTag
    if (!args.noAck)
      this.#unacked.set(deliveryTag, {
        kind: 'queue',
        queue,
        partition: d.partition,
        offset: d.offset,
        leaseId: d.leaseId,
        consumerTag: null,
      })
    const m = d.message
    const messageCount = queue.queueStats().ready
    this.#host.send(
      encodeDelivery(
        this.number,
        'basic.get-ok',
        {
          deliveryTag,
          redelivered: d.redelivered,
          exchange: exchangeOf(m),
          routingKey: routingKeyOf(m, name),
          messageCount,
        },
        m,
        this.#host.frameMax,
      ),
    )
  }

  /** Tags an ack/nack/reject settles; 406 for an unknown tag (RabbitMQ closes the channel). */
  #tagsOf(method: Extract<AmqpMethod, { name: 'basic.ack' | 'basic.nack' | 'basic.reject' }>): number[] {
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

  #validateTags(method: AmqpMethod): void {
    if (method.name === 'basic.ack' || method.name === 'basic.nack' || method.name === 'basic.reject')
      this.#tagsOf(method)
  }

  #settle(method: AmqpMethod): void {
    if (method.name !== 'basic.ack' && method.name !== 'basic.nack' && method.name !== 'basic.reject') return
    const tags = this.#tagsOf(method)
    const requeue = method.name === 'basic.ack' ? false : method.args.requeue
    for (const tag of tags) {
      const u = this.#unacked.get(tag)!
      this.#unacked.delete(tag)
      if (u.kind === 'stream') u.consumer.credit()
      else if (method.name === 'basic.ack')
        void u.queue
          .ack(u.partition, u.offset, u.leaseId)
          .catch((error) => this.#host.logger.warn({ err: error }, 'amqp ack failed'))
      else u.queue.nack(u.partition, u.offset, requeue, u.leaseId)
    }
  }

  /** basic.recover requeue=true: every unacked delivery goes back to its queue, redelivered. */
  #recover(): void {
    const all = [...this.#unacked.values()]
    this.#unacked.clear()
    for (const u of all) {
      if (u.kind === 'stream') u.consumer.credit()
      else u.queue.nack(u.partition, u.offset, true, u.leaseId)
    }
  }

  // ---- queues ----

  async #declareQueue(args: MethodArgs['queue.declare']): Promise<void> {
    await this.#publishesSettled()
    let name = args.queue
    if (args.passive) {
      name = this.#queueName(name)
      this.#declareOk(name, args.nowait)
      return
    }
    if (name === '') name = serverTag('amq.gen')
    else if (name.startsWith('amq.'))
      throw amqpError.accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`)
    const declared = queueArguments(name, args, args.arguments)
    if (declared.type === 'stream') {
      const existing = this.#broker.getQueue(name)
      if (existing !== undefined)
        throw amqpError.precondition(
          `inequivalent arg 'x-queue-type' for queue '${name}' in vhost '/': received 'stream' but current is 'classic'`,
        )
      const stream: Record<string, number> = { partitions: 1 }
      if (declared.retentionMs !== undefined) stream.retentionMs = declared.retentionMs
      if (declared.retentionBytes !== undefined) stream.retentionBytes = declared.retentionBytes
      await this.#broker.createStream(name, stream, { ifNotExists: true })
    } else {
      if (this.#isStreamQueue(name))
        throw amqpError.precondition(
          `inequivalent arg 'x-queue-type' for queue '${name}' in vhost '/': received '${declared.type}' but current is 'stream'`,
        )
      const config = declared.config
      if (args.exclusive) config.exclusiveOwner = this.#host.id
      const existing = this.#broker.getQueue(name)
      if (existing !== undefined) {
        this.#checkExclusive(name, existing.config)
        assertEquivalent(name, existing.config, config)
      } else {
        const queue = await this.#broker.createQueue(name, config, { ifNotExists: true })
        if (queue.config !== undefined && queue.config.exclusiveOwner !== (config.exclusiveOwner ?? null))
          this.#checkExclusive(name, queue.config)
      }
    }
    this.#lastQueue = name
    this.#declareOk(name, args.nowait)
  }

  #declareOk(name: string, nowait: boolean): void {
    const queue = this.#broker.getQueue(name)
    if (queue !== undefined) {
      this.#checkExclusive(name, queue.config)
      this.#lastQueue = name
      if (nowait) return
      const stats = queue.queueStats()
      this.#reply('queue.declare-ok', { queue: name, messageCount: stats.ready, consumerCount: stats.consumers })
      return
    }
    const stream = this.#broker.getStream(name)
    if (stream === undefined) throw amqpError.notFound(`no queue '${name}' in vhost '/'`)
    this.#lastQueue = name
    if (nowait) return
    const log = stream.partitionLog(0)
    this.#reply('queue.declare-ok', {
      queue: name,
      messageCount: log.highWatermark - log.logStartOffset,
      consumerCount: this.#host.streamConsumers.get(name) ?? 0,
    })
  }

  async #bindQueue(
    name: 'queue.bind' | 'queue.unbind',
    args: MethodArgs['queue.bind'] | MethodArgs['queue.unbind'],
  ): Promise<void> {
    const queue = this.#queueName(args.queue)
    const kind = this.#isStreamQueue(queue) ? 'stream' : 'queue'
    if (kind === 'queue') this.#queue(queue)
    const binding = {
      source: args.exchange,
      destination: { kind, name: queue } as const,
      key: args.routingKey,
      arguments: args.arguments as Record<string, unknown>,
    }
    if (name === 'queue.bind') {
      if (args.exchange !== '' && this.#broker.router.getExchange(args.exchange) === undefined)
        throw amqpError.notFound(`no exchange '${args.exchange}' in vhost '/'`)
      await this.#broker.bind(binding)
      if (!(args as MethodArgs['queue.bind']).nowait) this.#reply('queue.bind-ok', {})
    } else {
      await this.#broker.unbind(binding)
      this.#reply('queue.unbind-ok', {})
    }
  }

  async #purge(args: MethodArgs['queue.purge']): Promise<void> {
    await this.#publishesSettled()
    const name = this.#queueName(args.queue)
    if (this.#isStreamQueue(name)) throw amqpError.notImplemented('purge not supported by stream queues')
    const count = await this.#queue(name).purge()
    if (!args.nowait) this.#reply('queue.purge-ok', { messageCount: count })
  }

  async #deleteQueue(args: MethodArgs['queue.delete']): Promise<void> {
    await this.#publishesSettled()
    const name = this.#queueName(args.queue)
    let count = 0
    if (this.#isStreamQueue(name)) {
      const log = this.#broker.stream(name).partitionLog(0)
      count = log.highWatermark - log.logStartOffset
      await this.#broker.deleteStream(name, { force: true })
    } else {
      const queue = this.#broker.getQueue(name)
      if (queue !== undefined) {
        this.#checkExclusive(name, queue.config)
        count = await this.#broker.deleteQueue(name, { ifUnused: args.ifUnused, ifEmpty: args.ifEmpty })
      }
    }
    if (!args.nowait) this.#reply('queue.delete-ok', { messageCount: count })
  }

  // ---- exchanges ----

  async #declareExchange(args: MethodArgs['exchange.declare']): Promise<void> {
    if (
      !args.passive &&
      args.exchange.startsWith('amq.') &&
      this.#broker.router.getExchange(args.exchange) === undefined
    ) {
      throw amqpError.accessRefused(`exchange name '${args.exchange}' contains reserved prefix 'amq.*'`)
    }
    if (args.passive && args.exchange === '') {
      if (!args.nowait) this.#reply('exchange.declare-ok', {})
      return
    }
    await this.#broker.declareExchange(
      {
        name: args.exchange,
        type: args.type,
        durable: args.durable,
        autoDelete: args.autoDelete,
        internal: args.internal,
        arguments: args.arguments as Record<string, unknown>,
      },
      { passive: args.passive },
    )
    if (!args.nowait) this.#reply('exchange.declare-ok', {})
  }

  async #bindExchange(name: 'exchange.bind' | 'exchange.unbind', args: MethodArgs['exchange.bind']): Promise<void> {
    for (const x of [args.source, args.destination]) {
      if (x !== '' && this.#broker.router.getExchange(x) === undefined)
        throw amqpError.notFound(`no exchange '${x}' in vhost '/'`)
    }
    const binding = {
      source: args.source,
      destination: { kind: 'exchange', name: args.destination } as const,
      key: args.routingKey,
      arguments: args.arguments as Record<string, unknown>,
    }
    if (name === 'exchange.bind') {
      await this.#broker.bind(binding)
      if (!args.nowait) this.#reply('exchange.bind-ok', {})
    } else {
      await this.#broker.unbind(binding)
      if (!args.nowait) this.#reply('exchange.unbind-ok', {})
    }
  }
}
