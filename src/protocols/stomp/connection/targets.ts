// Where a SEND goes: one destination or a composite one (`/queue/a,/topic/b`: published to each), the
// connection's own temporary destinations (`/temp-queue/X`, created on first use) and other connections'
// (`/remote-temp-queue/<name>`, refused once their owner is gone). A `reply-to:/temp-queue/X` is rewritten to
// the broker's name of that temporary queue, `/remote-temp-queue/<name>`, as ActiveMQ does, so the receiver
// can SEND the reply there. Topic messages carry their publishing connection (noLocal subscribers skip them).
// authorizeSend runs when the SEND arrives (rights, queues and temporaries created); publishSend when it is
// carried out (at once, or at COMMIT).
import { publisherHeader, temporaryName } from '../../../broker/jms/jms.js'
import type { PublishMessage, RecordHeader } from '../../../broker/message.js'
import type { Transaction } from '../../../broker/transactions/transaction.js'
import { type Destination, parseDestination, parseDestinations, TOPIC_EXCHANGE } from '../wire/destination.js'
import { type Frame, StompFrameError } from '../wire/frame.js'
import { toPublishMessage } from '../wire/message.js'
import { scheduleJob } from '../wire/schedule.js'
import { queueReady, refuse } from './access.js'
import type { ConnectionCore } from './context.js'
import { scheduleSend } from './scheduled.js'

/**
 * Checks every destination of a SEND (and its reply-to) and creates what it needs; a promise only while
 * something is being created (a SEND to existing destinations is then handled in the turn it arrived in).
 */
export function authorizeSend(c: ConnectionCore, frame: Frame): Promise<unknown> | undefined {
  const pending: Array<Promise<unknown>> = []
  const wait = (work: Promise<unknown> | undefined) => {
    if (work !== undefined) pending.push(work)
  }
  const temporary = (kind: 'queue' | 'topic', local: string) => {
    if (c.broker.jms.temporary.get(temporaryName(kind, c.id, local)) === undefined)
      wait(c.broker.jms.temporary.create(kind, c.id, local))
  }
  for (const d of parseDestinations(frame.headers.get('destination'))) {
    switch (d.kind) {
      case 'queue':
        if (!c.access?.allows('Write', 'Topic', d.name)) throw refuse(c, 'write to', `/queue/${d.name}`)
        wait(queueReady(c, d.name))
        break
      case 'topic':
        if (!c.access?.allows('Write', 'Exchange', TOPIC_EXCHANGE)) throw refuse(c, 'write to', `/topic/${d.key}`)
        break
      case 'temp-queue':
        temporary('queue', d.local)
        break
      case 'temp-topic':
        temporary('topic', d.local)
        break
      default:
        c.broker.jms.temporary.sendable(d.name)
    }
  }
  const replyTo = frame.headers.get('reply-to')
  if (replyTo?.startsWith('/temp-queue/') || replyTo?.startsWith('/temp-topic/')) {
    const d = parseDestination(replyTo)
    if (d.kind === 'temp-queue' || d.kind === 'temp-topic')
      temporary(d.kind === 'temp-queue' ? 'queue' : 'topic', d.local)
  }
  if (pending.length === 0) return undefined
  return pending.length === 1 ? pending[0] : Promise.all(pending)
}

/** Publishes a SEND (checked by authorizeSend) to each of its destinations. */
export function publishSend(c: ConnectionCore, frame: Frame): Promise<unknown> {
  const destinations = parseDestinations(frame.headers.get('destination'))
  const message = sendMessage(c, frame, destinations)
  // AMQ_SCHEDULED_PERIOD/REPEAT/CRON: a scheduler job per destination instead of a publish.
  const job = scheduleJob(frame.headers)
  const one = (d: Destination) => {
    const route = routeOf(c, d)
    if (job !== null) return scheduleSend(c, route.exchange, route.key, message, job)
    if (route.exchange !== '') return c.broker.publish(route.exchange, route.key, message)
    return c.broker.publish('', route.key, message).then((r) => {
      if (r.routed === 0) throw new StompFrameError(`queue '${route.key}' no longer exists`)
    })
  }
  if (destinations.length === 1) return one(destinations[0]!)
  return Promise.all(destinations.map(one))
}

/** A SEND inside a transaction: routed now (to each destination), stored at COMMIT. */
export function holdSend(c: ConnectionCore, frame: Frame, tx: Transaction): void {
  if (scheduleJob(frame.headers) !== null)
    throw new StompFrameError('a SEND with AMQ_SCHEDULED_PERIOD, REPEAT or CRON cannot be part of a transaction')
  const destinations = parseDestinations(frame.headers.get('destination'))
  const message = sendMessage(c, frame, destinations)
  for (const d of destinations) {
    const route = routeOf(c, d)
    tx.send(route.exchange === '' ? { queue: route.key } : { exchange: route.exchange, routingKey: route.key }, message)
  }
}

/** The message of a SEND: its reply-to rewritten, and the publisher stamp when a topic may receive it. */
function sendMessage(c: ConnectionCore, frame: Frame, destinations: readonly Destination[]): PublishMessage {
  const message = toPublishMessage(withReplyTo(c, frame.headers), frame.body, Date.now())
  // toPublishMessage built a fresh header list without any `wharf.*` header a client sent: no copy needed.
  if (destinations.some(isTopic)) message.headers!.push(publisherOf(c))
  return message
}

/** The exchange and routing key a destination publishes through (queues: the default exchange). */
function routeOf(c: ConnectionCore, d: Destination): { exchange: string; key: string } {
  switch (d.kind) {
    case 'topic':
      return { exchange: TOPIC_EXCHANGE, key: d.key }
    case 'temp-topic':
      return { exchange: TOPIC_EXCHANGE, key: temporaryName('topic', c.id, d.local) }
    case 'remote-temp-topic':
      c.broker.jms.temporary.sendable(d.name)
      return { exchange: TOPIC_EXCHANGE, key: d.name }
    case 'queue':
      return { exchange: '', key: d.name }
    case 'temp-queue':
      return { exchange: '', key: temporaryName('queue', c.id, d.local) }
    case 'remote-temp-queue':
      return { exchange: '', key: c.broker.jms.temporary.sendable(d.name).name }
  }
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
