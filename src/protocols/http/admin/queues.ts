// REST admin routes for queues: list/create/describe/delete, send, non-destructive peek, destructive get
// (RabbitMQ's "get messages" with an ack mode), purge, DLQ redrive (which reuses the SQS move-task code, so
// both APIs move dead letters the same way) and its sources.
// ACL (Topic of the queue's name): Create, Describe, Delete (delete, purge), Write (send), Read (peek, get);
// redrive needs Read on the dead-letter queue and Write on every queue it moves messages to.
import { randomUUID } from 'node:crypto'
import type { Broker } from '../../../broker/broker.js'
import type { QueueConfig } from '../../../broker/config.js'
import type { StoredMessage } from '../../../broker/message.js'
import type { SqsService } from '../sqs/service.js'
import { type AdminContext, bad, body, collectionRoutes, intQuery, params, query } from './context.js'
import { describeMessage, type Encoding, encodingOf, PEEK_MAX, publishMessages } from './messages.js'

async function describeQueue({ broker, internalName }: AdminContext, name: string): Promise<Record<string, unknown>> {
  const queue = broker.queue(name)
  const internal = internalName(name)
  const stats = await queue.currentStats()
  return { ...stats, config: queue.config, ...(internal === undefined ? {} : { internal }) }
}

/**
 * Non-destructive peek of a queue: its browse (unacked messages from the ack floor, no lease taken, expired and
 * not yet due ones left out), from the broker serving it. Bounded in bytes below the cluster link's frame.
 */
async function peekQueue(broker: Broker, name: string, limit: number): Promise<StoredMessage[]> {
  return (await broker.browse(name, { max: limit, maxBytes: 16 * 1024 * 1024 })).messages
}

const GET_MODES = ['ack', 'requeue', 'reject'] as const
type GetMode = (typeof GET_MODES)[number]

/**
 * Takes up to `count` ready messages under a lease of its own and settles them at once: `ack` removes them,
 * `requeue` returns them (marked redelivered, delivery count kept), `reject` dead-letters them (or drops them
 * when the queue has no dead-letter target), as a consumer's ack/nack would.
 */
async function getFromQueue(context: AdminContext, name: string, count: number, mode: GetMode, encoding: Encoding) {
  const { broker } = context
  const queue = broker.queue(name)
  const owner = `admin-get-${randomUUID()}`
  const deliveries = await broker.get(name, { owner, max: count })
  try {
    const out = deliveries.map((d) => ({
      ...describeMessage(context, d.message, encoding),
      redelivered: d.redelivered,
      deliveryCount: d.deliveryCount,
    }))
    if (mode === 'ack') await Promise.all(deliveries.map((d) => queue.ack(d.partition, d.offset, d.leaseId)))
    else for (const d of deliveries) queue.nack(d.partition, d.offset, mode === 'requeue', d.leaseId)
    return out
  } finally {
    // Whatever was not settled (a failed decode or ack) goes back to the queue instead of staying leased.
    queue.releaseOwner(owner)
  }
}

/** The queues that dead-letter into `name`. */
function deadLetterSources(broker: Broker, name: string): string[] {
  return broker
    .listQueues()
    .filter((q) => {
      const target = q.config.deadLetter
      return target !== null && 'queue' in target && target.queue === name
    })
    .map((q) => q.name)
}

export function registerQueueRoutes(context: AdminContext, sqs: Pick<SqsService, 'moveMessages'>): void {
  const { broker, route, authorize } = context
  collectionRoutes(context, '/queues', {
    names: (internal) =>
      broker
        .listQueues()
        .map((q) => q.name)
        .filter((name) => internal || context.internalName(name) === undefined),
    describe: (name) => describeQueue(context, name),
    create: (name, config) => broker.createQueue(name, config as Partial<QueueConfig>),
  })
  route('DELETE', '/queues/:name', async (r) => {
    const name = params(r).name!
    authorize(r, 'Delete', 'Topic', name)
    broker.queue(name)
    const removed = await broker.deleteQueue(name, {
      ifEmpty: query(r).ifEmpty === 'true',
      ifUnused: query(r).ifUnused === 'true',
    })
    await broker.topics.unsubscribeDestination({ kind: 'queue', name })
    await broker.catalog('sqs-queue').delete(name)
    return { deleted: name, messages: removed }
  })
  route('POST', '/queues/:name/messages', async (r) => {
    authorize(r, 'Write', 'Topic', params(r).name!)
    const messages = publishMessages(body(r))
    return { positions: await broker.sendToQueue(params(r).name!, messages) }
  })
  route('GET', '/queues/:name/messages', async (r) => {
    authorize(r, 'Read', 'Topic', params(r).name!)
    const q = query(r)
    const encoding = encodingOf(q.encoding)
    const messages = await peekQueue(broker, params(r).name!, intQuery(q, 'limit', 20, 1, PEEK_MAX))
    return { messages: messages.map((m) => describeMessage(context, m, encoding)) }
  })
  route('POST', '/queues/:name/get', async (r) => {
    const name = params(r).name!
    authorize(r, 'Read', 'Topic', name)
    const input = body(r)
    const count = input.count ?? 1
    if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > PEEK_MAX)
      throw bad(`count must be an integer in [1, ${PEEK_MAX}]`)
    const mode = input.ackMode ?? 'ack'
    if (!GET_MODES.includes(mode as GetMode)) throw bad(`ackMode must be one of ${GET_MODES.join(', ')}`)
    const messages = await getFromQueue(context, name, count as number, mode as GetMode, encodingOf(input.encoding))
    return { messages, ackMode: mode }
  })
  route('POST', '/queues/:name/purge', async (r) => {
    authorize(r, 'Delete', 'Topic', params(r).name!)
    return { purged: await broker.queue(params(r).name!).purge() }
  })
  route('POST', '/queues/:name/redrive', async (r) => {
    const input = body(r)
    const name = params(r).name!
    broker.queue(name)
    if (input.destination !== undefined && typeof input.destination !== 'string')
      throw bad('destination must be a queue name')
    if (typeof input.destination === 'string') broker.queue(input.destination)
    authorize(r, 'Read', 'Topic', name)
    for (const target of typeof input.destination === 'string' ? [input.destination] : deadLetterSources(broker, name))
      authorize(r, 'Write', 'Topic', target)
    return { moved: await sqs.moveMessages(name, input.destination as string | undefined) }
  })
  // The queues that dead-letter into this one (redrive targets).
  route('GET', '/queues/:name/dead-letter-sources', (r) => {
    const name = params(r).name!
    authorize(r, 'Describe', 'Topic', name)
    broker.queue(name)
    return { queue: name, sources: deadLetterSources(broker, name) }
  })
}
