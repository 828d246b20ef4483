// RabbitMQ direct reply-to (https://www.rabbitmq.com/docs/direct-reply-to), entirely inside the AMQP adapter:
// a requester consumes the pseudo-queue `amq.rabbitmq.reply-to` (no-ack), a request it publishes with that
// reply_to gets `amq.rabbitmq.reply-to.<token>` instead, and a publish to the default exchange with that
// routing key is handed straight to the requester's channel — no queue, nothing stored, at most once.
//
// Tokens are 144 random bits looked up in a per-broker map (two brokers in one process never see each
// other's), so a guessed or stale token finds nothing and the reply is unroutable (basic.return with
// mandatory, else dropped), never delivered to another channel.
import { randomBytes } from 'node:crypto'
import type { Broker } from '../../broker/broker.js'
import type { PublishMessage, StoredMessage } from '../../broker/message.js'
import type { ChannelContext } from './channel/context.js'
import { type BasicProperties, encodeContentHeaderFrame, FRAME_OVERHEAD_BYTES, type MethodArgs } from './codec/index.js'
import { amqpError } from './errors.js'
import { encodeDelivery, propsBytesOf } from './message.js'

export const REPLY_TO = 'amq.rabbitmq.reply-to'
const PREFIX = `${REPLY_TO}.`

/** Delivers a reply; false when the requester's channel is no longer open. */
type ReplyTarget = (message: StoredMessage) => boolean

const registries = new WeakMap<Broker, Map<string, ReplyTarget>>()

function registryOf(broker: Broker): Map<string, ReplyTarget> {
  let registry = registries.get(broker)
  if (registry === undefined) {
    registry = new Map()
    registries.set(broker, registry)
  }
  return registry
}

/** A routing key (or queue name) of the form `amq.rabbitmq.reply-to.<token>`. */
export function isReplyAddress(name: string): boolean {
  return name.length > PREFIX.length && name.startsWith(PREFIX)
}

/** Whether a reply address still leads to an open requester (queue.declare of the address, as RabbitMQ). */
export function replyAddressExists(broker: Broker, address: string): boolean {
  return registries.get(broker)?.has(address) ?? false
}

/**
 * A reply published to the default exchange with routing key `address`: delivered to the requester's
 * channel (true) or, when the token is unknown or its channel gone, dropped (false: unroutable).
 */
export function deliverReply(broker: Broker, address: string, message: PublishMessage, now: number): boolean {
  const target = registries.get(broker)?.get(address)
  if (target === undefined) return false
  const value = message.value
  return target({
    stream: '',
    partition: 0,
    offset: -1,
    timestamp: message.timestamp ?? now,
    key: null,
    value: value === null || value === undefined ? null : Buffer.isBuffer(value) ? value : Buffer.from(value),
    headers: message.headers ?? [],
  })
}

/** The raw property bytes (flags word + properties) of `props`, as a content header carries them. */
export function encodeProps(props: BasicProperties): Buffer {
  const frame = encodeContentHeaderFrame(1, 0, props)
  // frame = type(1) channel(2) size(4) payload frame-end(1); the payload starts with class, weight, body size
  return Buffer.from(propsBytesOf(frame.subarray(FRAME_OVERHEAD_BYTES - 1, frame.length - 1)))
}

/** One channel's reply consumer (at most one, as in RabbitMQ). */
export class ReplyConsumer {
  readonly #ctx: ChannelContext
  readonly #nextDeliveryTag: () => number
  #tag: string | null = null
  #address: string | null = null

  constructor(ctx: ChannelContext, nextDeliveryTag: () => number) {
    this.#ctx = ctx
    this.#nextDeliveryTag = nextDeliveryTag
  }

  /** The reply_to a request published on this channel carries; 406 without a reply consumer. */
  get address(): string {
    if (this.#address === null) throw amqpError.precondition('fast reply consumer does not exist')
    return this.#address
  }

  /** basic.consume of `amq.rabbitmq.reply-to` (the tag already checked against the channel's consumers). */
  consume(args: MethodArgs['basic.consume'], tag: string): void {
    if (!args.noAck) throw amqpError.precondition('reply consumer cannot acknowledge')
    if (this.#tag !== null) throw amqpError.precondition('reply consumer already set')
    const ctx = this.#ctx
    const address = PREFIX + randomBytes(18).toString('base64url')
    registryOf(ctx.broker).set(address, (message) => {
      if (!ctx.isOpen()) return false
      ctx.host.send(
        encodeDelivery(
          ctx.number,
          'basic.deliver',
          {
            consumerTag: tag,
            deliveryTag: this.#nextDeliveryTag(),
            redelivered: false,
            exchange: '',
            routingKey: address,
          },
          message,
          ctx.host.frameMax,
        ),
      )
      return true
    })
    this.#tag = tag
    this.#address = address
    if (!args.nowait) ctx.reply('basic.consume-ok', { consumerTag: tag })
  }

  get tag(): string | null {
    return this.#tag
  }

  /** Cancels the reply consumer (basic.cancel of its tag, or the channel closing): its token stops working. */
  release(): void {
    if (this.#address !== null) registries.get(this.#ctx.broker)?.delete(this.#address)
    this.#tag = null
    this.#address = null
  }
}
