// REST admin routes for streams: list/create/describe/alter/delete, produce, and peek by partition and
// offset (or `latest`, or a timestamp). Each stream says its role (a plain stream, the stream under a queue, a
// protocol's internal state); `?internal=false` lists plain streams only. `/streams/:name/consumers` lists the
// groups (with their members) and queues that read a stream. ACL (Topic of the stream's name): Create,
// Describe (describe, consumers), Alter, Delete, Write (produce), Read (peek).
import type { StreamConfig } from '../../../broker/config.js'
import type { StoredMessage } from '../../../broker/message.js'
import { type AdminContext, body, collectionRoutes, intQuery, params, query } from './context.js'
import { streamConsumers } from './groups.js'
import { describeMessage, encodingOf, PEEK_MAX, publishMessages } from './messages.js'

/**
 * A stream's role: `queue` when it is the stream a queue of the same name keeps its messages in, `internal`
 * when a protocol keeps its own state there (`internal` then says what), else `stream`.
 */
function roleOf({ broker, internalName }: AdminContext, name: string): { role: string; internal?: string } {
  const internal = internalName(name)
  if (internal !== undefined) return { role: 'internal', internal }
  const stream = broker.stream(name)
  return [...stream.queues].some((q) => q.name === name) ? { role: 'queue' } : { role: 'stream' }
}

function describeStream(context: AdminContext, name: string): Record<string, unknown> {
  const stream = context.broker.stream(name)
  return {
    name,
    ...roleOf(context, name),
    config: stream.config,
    createdAt: stream.createdAt,
    messagesIn: stream.stats.messagesIn,
    queues: [...stream.queues].map((q) => q.name),
    partitions: stream.partitions.map((log, partition) => ({
      partition,
      logStartOffset: log.logStartOffset,
      highWatermark: log.highWatermark,
      sizeBytes: log.sizeBytes,
    })),
  }
}

export function registerStreamRoutes(context: AdminContext): void {
  const { broker, route, authorize } = context
  collectionRoutes(context, '/streams', {
    names: (internal) =>
      broker
        .listStreams()
        .map((s) => s.name)
        .filter((name) => internal || roleOf(context, name).role === 'stream'),
    describe: (name) => describeStream(context, name),
    create: (name, config) => broker.createStream(name, config as Partial<StreamConfig>),
  })
  route('GET', '/streams/:name/consumers', (r) => {
    authorize(r, 'Describe', 'Topic', params(r).name!)
    return streamConsumers(broker, params(r).name!)
  })
  route('PUT', '/streams/:name', async (r) => {
    authorize(r, 'Alter', 'Topic', params(r).name!)
    await broker.alterStream(params(r).name!, body(r) as Partial<StreamConfig>)
    return describeStream(context, params(r).name!)
  })
  route('DELETE', '/streams/:name', async (r) => {
    authorize(r, 'Delete', 'Topic', params(r).name!)
    await broker.deleteStream(params(r).name!, { force: query(r).force === 'true' })
    return { deleted: params(r).name }
  })
  route('POST', '/streams/:name/messages', async (r) => {
    authorize(r, 'Write', 'Topic', params(r).name!)
    const messages = publishMessages(body(r))
    const partition = messages[0]?.partition
    const positions = await broker.produce(params(r).name!, messages, partition === undefined ? {} : { partition })
    return { positions }
  })
  route('GET', '/streams/:name/messages', async (r) => {
    authorize(r, 'Read', 'Topic', params(r).name!)
    const q = query(r)
    const stream = broker.stream(params(r).name!)
    const partition = intQuery(q, 'partition', 0, 0, stream.partitions.length - 1)
    const log = stream.partitionLog(partition)
    const limit = intQuery(q, 'limit', 20, 1, PEEK_MAX)
    const encoding = encodingOf(q.encoding)
    let offset =
      q.offset === 'latest'
        ? Math.max(log.logStartOffset, log.highWatermark - limit)
        : intQuery(q, 'offset', log.logStartOffset, 0, Number.MAX_SAFE_INTEGER)
    if (q.timestamp !== undefined) offset = (await log.offsetForTimestamp(Number(q.timestamp))) ?? log.highWatermark
    const out: StoredMessage[] = []
    while (out.length < limit && offset < log.highWatermark) {
      const { messages, nextOffset } = await broker.readMessages(stream.name, partition, offset, 256 * 1024)
      out.push(...messages.slice(0, limit - out.length))
      if (nextOffset <= offset) break
      offset = nextOffset
    }
    const nextOffset = out.length > 0 ? out[out.length - 1]!.offset + 1 : offset
    return {
      partition,
      messages: out.map((m) => describeMessage(context, m, encoding)),
      nextOffset,
      highWatermark: log.highWatermark,
    }
  })
}
