// Queue and exchange methods of a channel: declare (with the redeclare equivalence checks of arguments.ts),
// bind/unbind, purge, delete. Plain functions over the channel's ChannelContext; each returns the promise
// the channel waits on before it processes its next frame. Each checks the user's permission (see README's
// authorization table) before it looks the queue or exchange up, so a refusal does not tell what exists.
import { assertEquivalent, queueArguments } from './arguments.js'
import {
  authorize,
  type ChannelContext,
  checkExclusive,
  isStreamQueue,
  queueNameOf,
  queueOf,
  serverTag,
} from './channel/context.js'
import type { MethodArgs } from './codec/index.js'
import { amqpError } from './errors.js'
import { isReplyAddress, REPLY_TO, replyAddressExists } from './reply-to.js'

// ---- queues ----

export async function declareQueue(ctx: ChannelContext, args: MethodArgs['queue.declare']): Promise<void> {
  await ctx.publishesSettled()
  let name = args.queue
  if (name === REPLY_TO || isReplyAddress(name)) {
    // Direct reply-to pseudo-queues cannot be created; declaring one tells whether it exists (RabbitMQ
    // answers 0 messages, 1 consumer, passive or not).
    if (name !== REPLY_TO && !replyAddressExists(ctx.broker, name))
      throw amqpError.notFound(`no queue '${name}' in vhost '/'`)
    if (!args.nowait) ctx.reply('queue.declare-ok', { queue: name, messageCount: 0, consumerCount: 1 })
    return
  }
  if (args.passive) {
    name = queueNameOf(ctx, name)
    authorize(ctx, 'Describe', 'Topic', name)
    await declareOk(ctx, name, args.nowait)
    return
  }
  if (name === '') name = serverTag('amq.gen')
  else if (name.startsWith('amq.'))
    throw amqpError.accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`)
  authorize(ctx, 'Create', 'Topic', name)
  const declared = queueArguments(name, args, args.arguments)
  if (declared.type === 'stream') {
    const existing = ctx.broker.getQueue(name)
    if (existing !== undefined)
      throw amqpError.precondition(
        `inequivalent arg 'x-queue-type' for queue '${name}' in vhost '/': received 'stream' but current is 'classic'`,
      )
    const stream: Record<string, number> = { partitions: 1 }
    if (declared.retentionMs !== undefined) stream.retentionMs = declared.retentionMs
    if (declared.retentionBytes !== undefined) stream.retentionBytes = declared.retentionBytes
    await ctx.broker.createStream(name, stream, { ifNotExists: true })
  } else {
    if (isStreamQueue(ctx, name))
      throw amqpError.precondition(
        `inequivalent arg 'x-queue-type' for queue '${name}' in vhost '/': received '${declared.type}' but current is 'stream'`,
      )
    const config = declared.config
    if (args.exclusive) config.exclusiveOwner = ctx.host.id
    const existing = ctx.broker.getQueue(name)
    if (existing !== undefined) {
      checkExclusive(ctx, name, existing.config)
      assertEquivalent(name, existing.config, config)
    } else {
      const queue = await ctx.broker.createQueue(name, config, { ifNotExists: true })
      if (queue.config !== undefined && queue.config.exclusiveOwner !== (config.exclusiveOwner ?? null))
        checkExclusive(ctx, name, queue.config)
    }
  }
  ctx.lastQueue = name
  await declareOk(ctx, name, args.nowait)
}

async function declareOk(ctx: ChannelContext, name: string, nowait: boolean): Promise<void> {
  const queue = ctx.broker.getQueue(name)
  if (queue !== undefined) {
    checkExclusive(ctx, name, queue.config)
    ctx.lastQueue = name
    if (nowait) return
    // Counted by the broker serving the queue; this broker's own numbers while that one cannot answer.
    const stats = await queue.currentStats().catch(() => queue.queueStats())
    ctx.reply('queue.declare-ok', { queue: name, messageCount: stats.ready, consumerCount: stats.consumers })
    return
  }
  const stream = ctx.broker.getStream(name)
  if (stream === undefined) throw amqpError.notFound(`no queue '${name}' in vhost '/'`)
  ctx.lastQueue = name
  if (nowait) return
  const log = stream.partitionLog(0)
  ctx.reply('queue.declare-ok', {
    queue: name,
    messageCount: log.highWatermark - log.logStartOffset,
    consumerCount: ctx.host.streamConsumers.get(name) ?? 0,
  })
}

export async function bindQueue(
  ctx: ChannelContext,
  name: 'queue.bind' | 'queue.unbind',
  args: MethodArgs['queue.bind'] | MethodArgs['queue.unbind'],
): Promise<void> {
  const queue = queueNameOf(ctx, args.queue)
  authorize(ctx, 'Write', 'Topic', queue)
  if (args.exchange !== '') authorize(ctx, 'Read', 'Exchange', args.exchange)
  const kind = isStreamQueue(ctx, queue) ? 'stream' : 'queue'
  if (kind === 'queue') queueOf(ctx, queue)
  const binding = {
    source: args.exchange,
    destination: { kind, name: queue } as const,
    key: args.routingKey,
    arguments: args.arguments as Record<string, unknown>,
  }
  if (name === 'queue.bind') {
    if (args.exchange !== '' && ctx.broker.router.getExchange(args.exchange) === undefined)
      throw amqpError.notFound(`no exchange '${args.exchange}' in vhost '/'`)
    await ctx.broker.bind(binding)
    if (!(args as MethodArgs['queue.bind']).nowait) ctx.reply('queue.bind-ok', {})
  } else {
    await ctx.broker.unbind(binding)
    ctx.reply('queue.unbind-ok', {})
  }
}

export async function purgeQueue(ctx: ChannelContext, args: MethodArgs['queue.purge']): Promise<void> {
  await ctx.publishesSettled()
  const name = queueNameOf(ctx, args.queue)
  authorize(ctx, 'Delete', 'Topic', name)
  if (isStreamQueue(ctx, name)) throw amqpError.notImplemented('purge not supported by stream queues')
  const count = await queueOf(ctx, name).purge()
  if (!args.nowait) ctx.reply('queue.purge-ok', { messageCount: count })
}

export async function deleteQueue(ctx: ChannelContext, args: MethodArgs['queue.delete']): Promise<void> {
  await ctx.publishesSettled()
  const name = queueNameOf(ctx, args.queue)
  authorize(ctx, 'Delete', 'Topic', name)
  let count = 0
  if (isStreamQueue(ctx, name)) {
    const log = ctx.broker.stream(name).partitionLog(0)
    count = log.highWatermark - log.logStartOffset
    await ctx.broker.deleteStream(name, { force: true })
  } else {
    const queue = ctx.broker.getQueue(name)
    if (queue !== undefined) {
      checkExclusive(ctx, name, queue.config)
      count = await ctx.broker.deleteQueue(name, { ifUnused: args.ifUnused, ifEmpty: args.ifEmpty })
    }
  }
  if (!args.nowait) ctx.reply('queue.delete-ok', { messageCount: count })
}

// ---- exchanges ----

export async function declareExchange(ctx: ChannelContext, args: MethodArgs['exchange.declare']): Promise<void> {
  if (!args.passive && args.exchange.startsWith('amq.') && ctx.broker.router.getExchange(args.exchange) === undefined) {
    throw amqpError.accessRefused(`exchange name '${args.exchange}' contains reserved prefix 'amq.*'`)
  }
  if (args.passive && args.exchange === '') {
    if (!args.nowait) ctx.reply('exchange.declare-ok', {})
    return
  }
  authorize(ctx, args.passive ? 'Describe' : 'Create', 'Exchange', args.exchange)
  await ctx.broker.declareExchange(
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
  if (!args.nowait) ctx.reply('exchange.declare-ok', {})
}

export function deleteExchange(ctx: ChannelContext, args: MethodArgs['exchange.delete']): Promise<void> {
  authorize(ctx, 'Delete', 'Exchange', args.exchange)
  return ctx.broker.deleteExchange(args.exchange, { ifUnused: args.ifUnused }).then(() => {
    if (!args.nowait) ctx.reply('exchange.delete-ok', {})
  })
}

export async function bindExchange(
  ctx: ChannelContext,
  name: 'exchange.bind' | 'exchange.unbind',
  args: MethodArgs['exchange.bind'],
): Promise<void> {
  authorize(ctx, 'Write', 'Exchange', args.destination)
  authorize(ctx, 'Read', 'Exchange', args.source)
  for (const x of [args.source, args.destination]) {
    if (x !== '' && ctx.broker.router.getExchange(x) === undefined)
      throw amqpError.notFound(`no exchange '${x}' in vhost '/'`)
  }
  const binding = {
    source: args.source,
    destination: { kind: 'exchange', name: args.destination } as const,
    key: args.routingKey,
    arguments: args.arguments as Record<string, unknown>,
  }
  if (name === 'exchange.bind') {
    await ctx.broker.bind(binding)
    if (!args.nowait) ctx.reply('exchange.bind-ok', {})
  } else {
    await ctx.broker.unbind(binding)
    if (!args.nowait) ctx.reply('exchange.unbind-ok', {})
  }
}
