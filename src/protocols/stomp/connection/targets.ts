// Where a SEND goes: one destination or a composite one (`/queue/a,/topic/b`: published to each), the
// connection's own temporary destinations (`/temp-queue/X`, created on first use) and other connections'
// (`/remote-temp-queue/<name>`, refused once their owner is gone). A `reply-to:/temp-queue/X` is rewritten to
// the broker's name of that temporary queue, `/remote-temp-queue/<name>`, as ActiveMQ does, so the receiver
// can SEND the reply there. Topic messages carry their publishing connection (noLocal subscribers skip them).
// authorizeSend runs when the SEND arrives (rights, queues and temporaries created); publishSend when it is
// carried out (at once, or at COMMIT).
import { publisherHeader, temporaryName } from '../../../broker/jms/jms.js'
import type { PublishMessage, RecordHeader } from '../../../broker/message.js'
import { type Destination, parseDestination, parseDestinations, TOPIC_EXCHANGE } from '../wire/destination.js'
import { type Frame, StompFrameError } from '../wire/frame.js'
import { toPublishMessage } from '../wire/message.js'
import { ensureQueue, refuse } from './access.js'
import type { ConnectionCore } from './context.js'

/** Checks every destination of a SEND (and its reply-to) and creates what it needs. */
export async function authorizeSend(c: ConnectionCore, frame: Frame): Promise<void> {
  for (const d of parseDestinations(frame.headers.get('destination'))) {
    switch (d.kind) {
      case 'queue':
        if (!c.access?.allows('Write', 'Topic', d.name)) throw refuse(c, 'write to', `/queue/${d.name}`)
        await ensureQueue(c, d.name)
        break
      case 'topic':
        if (!c.access?.allows('Write', 'Exchange', TOPIC_EXCHANGE)) throw refuse(c, 'write to', `/topic/${d.key}`)
        break
      case 'temp-queue':
        await c.broker.jms.temporary.create('queue', c.id, d.local)
        break
      case 'temp-topic':
        await c.broker.jms.temporary.create('topic', c.id, d.local)
        break
      default:
        c.broker.jms.temporary.sendable(d.name)
    }
  }
  const replyTo = frame.headers.get('reply-to')
  if (replyTo?.startsWith('/temp-queue/') || replyTo?.startsWith('/temp-topic/')) {
    const d = parseDestination(replyTo)
    if (d.kind === 'temp-queue' || d.kind === 'temp-topic')
      await c.broker.jms.temporary.create(d.kind === 'temp-queue' ? 'queue' : 'topic', c.id, d.local)
  }
}

/** Publishes a SEND (checked by authorizeSend) to each of its destinations. */
export function publishSend(c: ConnectionCore, frame: Frame): Promise<unknown> {
  const destinations = parseDestinations(frame.headers.get('destination'))
  const message = toPublishMessage(withReplyTo(c, frame.headers), frame.body, Date.now())
  // toPublishMessage built a fresh header list without any `wharf.*` header a client sent: no copy needed.
  if (destinations.some(isTopic)) message.headers!.push(publisherOf(c))
  if (destinations.length === 1) return publishOne(c, destinations[0]!, message)
  return Promise.all(destinations.map((d) => publishOne(c, d, message)))
}

function publishOne(c: ConnectionCore, d: Destination, message: PublishMessage): Promise<unknown> {
  switch (d.kind) {
    case 'topic':
      return c.broker.publish(TOPIC_EXCHANGE, d.key, message)
    case 'temp-topic':
      return c.broker.publish(TOPIC_EXCHANGE, temporaryName('topic', c.id, d.local), message)
    case 'remote-temp-topic':
      c.broker.jms.temporary.sendable(d.name)
      return c.broker.publish(TOPIC_EXCHANGE, d.name, message)
    case 'queue':
      return publishToQueue(c, d.name, message)
    case 'temp-queue':
      return publishToQueue(c, temporaryName('queue', c.id, d.local), message)
    case 'remote-temp-queue':
      return publishToQueue(c, c.broker.jms.temporary.sendable(d.name).name, message)
  }
}

function publishToQueue(c: ConnectionCore, queue: string, message: PublishMessage): Promise<unknown> {
  return c.broker.publish('', queue, message).then((r) => {
    if (r.routed === 0) throw new StompFrameError(`queue '${queue}' no longer exists`)
  })
}

function isTopic(d: Destination): boolean {
  return d.kind === 'topic' || d.kind === 'temp-topic' || d.kind === 'remote-temp-topic'
}

/** The SEND's headers with a `reply-to` naming one of the connection's temporaries given its broker name. */
function withReplyTo(c: ConnectionCore, headers: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
  const replyTo = headers.get('reply-to')
  if (replyTo === undefined) return headers
  let rewritten: string | undefined
  if (replyTo.startsWith('/temp-queue/'))
    rewritten = `/remote-temp-queue/${temporaryName('queue', c.id, replyTo.slice('/temp-queue/'.length))}`
  else if (replyTo.startsWith('/temp-topic/'))
    rewritten = `/remote-temp-topic/${temporaryName('topic', c.id, replyTo.slice('/temp-topic/'.length))}`
  if (rewritten === undefined) return headers
  const out = new Map(headers)
  out.set('reply-to', rewritten)
  return out
}

const publishers = new WeakMap<ConnectionCore, RecordHeader>()

/** The connection's publisher stamp, built once. */
export function publisherOf(c: ConnectionCore): RecordHeader {
  let header = publishers.get(c)
  if (header === undefined) {
    header = publisherHeader(c.id)
    publishers.set(c, header)
  }
  return header
}
