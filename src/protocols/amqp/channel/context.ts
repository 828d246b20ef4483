// What a channel's method handlers share: the connection (ChannelHost), the channel's identity and open state,
// the last declared queue ('' names), and the queue lookups that consuming and declaring both start with.
// AmqpChannel owns one ChannelContext and hands it to its publisher, its consumers and the declaration
// handlers, so none of them needs the channel's private state.
import type { Broker } from '../../../broker/broker.js'
import type { QueueConfig } from '../../../broker/config.js'
import type { CreditGroup } from '../../../broker/credit.js'
import type { Queue } from '../../../broker/queue/queue.js'
import type { Operation } from '../../../broker/security/acls.js'
import type { Access } from '../../../broker/security/authorizer.js'
import type { Logger } from '../../../util/logger.js'
import type { ProtocolTraffic } from '../../common/metrics.js'
import type { MethodInit, MethodName } from '../codec/index.js'
import type { ContentBudget } from '../connection/content-budget.js'
import { type AmqpError, amqpError } from '../errors.js'

/** What a channel needs from its connection. */
export interface ChannelHost {
  readonly id: string
  readonly broker: Broker
  readonly logger: Logger
  readonly frameMax: number
  readonly consumerCancelNotify: boolean
  /** The authenticated user's name and what it may do (decisions cached per resource). */
  readonly user: string | undefined
  readonly access: Access
  sendMethod<N extends MethodName>(channel: number, name: N, args: MethodInit[N]): void
  send(frames: Buffer | Buffer[]): void
  /** Runs `done` once everything queued so far has been handed to a socket that is not backed up. */
  whenWritten(done: () => void): void
  /** The connection's delivery credit, the parent of every consumer's: held while the peer does not read. */
  readonly deliveryCredit: CreditGroup
  /** Body bytes of messages still being received, over all channels. */
  readonly contentBudget: ContentBudget
  /** A hard error: connection.close. */
  fail(error: AmqpError): void
  /** A soft error closed a channel (channel.close with this reply): logged, the connection stays. */
  channelError(channel: number, error: AmqpError): void
  /** Publishes (and their body bytes) started / settled, for TCP back-pressure. */
  publishStarted(bytes: number): void
  publishSettled(bytes: number): void
  /** Consumer counts of stream queues (shared by all connections). */
  streamConsumers: Map<string, number>
  /** The listener's counters: deliveries, acks, requeues, confirm latency. */
  readonly traffic: ProtocolTraffic
}

export interface ChannelContext {
  readonly number: number
  /** `<connection>/<channel>`: the owner of this channel's leases. */
  readonly owner: string
  readonly host: ChannelHost
  readonly broker: Broker
  /** The queue a '' queue name stands for: the last one declared on this channel. */
  lastQueue: string | null
  /** Neither closing nor closed: deliveries and replies may still be sent. */
  isOpen(): boolean
  /** Sends a reply method, unless the channel is closing. */
  reply<N extends MethodName>(name: N, args: MethodInit[N]): void
  /** An error outside the method in progress (a stream consumer's read): channel.close or connection.close. */
  error(error: unknown, classId: number, methodId: number): void
  closeWithError(error: AmqpError): void
  /**
   * Resolves once every publish started on this channel has settled: a basic.get, purge, delete or
   * declare-ok count after a publish on the same channel must see it, as in RabbitMQ.
   */
  publishesSettled(): Promise<void> | undefined
}

/**
 * 403 ACCESS_REFUSED (channel) unless the user may do `operation` on the queue (resource type Topic: the
 * stream of that name) or the exchange, with RabbitMQ's text.
 */
export function authorize(ctx: ChannelContext, operation: Operation, type: 'Topic' | 'Exchange', name: string): void {
  if (!ctx.host.access.allows(operation, type, name)) throw accessRefused(ctx, type, name)
}

export function accessRefused(ctx: ChannelContext, type: 'Topic' | 'Exchange', name: string): AmqpError {
  const resource = type === 'Topic' ? 'queue' : 'exchange'
  return amqpError.accessRefused(
    `access to ${resource} '${name === '' && type === 'Exchange' ? 'amq.default' : name}' in vhost '/' refused for user '${ctx.host.user ?? ''}'`,
  )
}

let tagSeq = 0
export function serverTag(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${(++tagSeq).toString(36)}${Math.random().toString(36).slice(2, 8)}`
}

export function queueNameOf(ctx: ChannelContext, name: string): string {
  if (name !== '') return name
  if (ctx.lastQueue === null) throw amqpError.notFound('no previously declared queue')
  return ctx.lastQueue
}

/** The queue, 404 when missing, 405 when another connection's exclusive queue. */
export function queueOf(ctx: ChannelContext, name: string): Queue {
  const queue = ctx.broker.getQueue(name)
  if (queue === undefined) throw amqpError.notFound(`no queue '${name}' in vhost '/'`)
  checkExclusive(ctx, queue.name, queue.config)
  return queue
}

export function checkExclusive(ctx: ChannelContext, name: string, config: QueueConfig): void {
  if (config.exclusiveOwner !== null && config.exclusiveOwner !== ctx.host.id) {
    throw amqpError.locked(
      `cannot obtain exclusive access to locked queue '${name}' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
    )
  }
}

export function isStreamQueue(ctx: ChannelContext, name: string): boolean {
  return ctx.broker.getQueue(name) === undefined && ctx.broker.getStream(name) !== undefined
}
