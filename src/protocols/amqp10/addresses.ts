// What an attach's source or target names: a queue by its name (or `queue://X`, `/queue/X`), or a topic
// (`topic://X`, `/topic/X`, or a bare name with the `topic` capability Qpid JMS sends: the amq.topic exchange
// with routing key X, the same JMS topics STOMP and MQTT use). A client's sender needs Write on the queue (or
// amq.topic); a receiver needs Read, and a topic receiver gets a transient queue of its own bound to the topic,
// or a durable or shared subscription's queue. Queues that do not exist are created when the listener allows
// it (ActiveMQ's and Artemis's default) and the user may create them.
import { compileSelector, SelectorError } from '../../broker/selector/index.js'
import { isWharfError } from '../../util/errors.js'
import type { AnyInit, Composite } from './codec/generated/types.js'
import { keyText, type Value } from './codec/values.js'
import type { SessionHost } from './context.js'
import { appliedFilters, sourceFilters } from './filters.js'
import { type SubscriptionRef, storedSource, storedSubscription, subscriptionOf } from './subscriptions.js'

/** The topic exchange `topic://X` addresses publish to (routing key X), as STOMP's /topic/ does. */
export const TOPIC_EXCHANGE = 'amq.topic'

/** The names of temporary queues (`temporaryName` in src/broker/jms): `temp-queue.<owner>.<local>`. */
const TEMPORARY_QUEUE_PREFIX = 'temp-queue.'

export interface Address {
  kind: 'queue' | 'topic'
  name: string
}

/** An address's text; `topic` says a bare name is a topic (a terminus capability, or Qpid JMS's x-opt-jms-dest). */
export function parseAddress(address: string | undefined, topic = false): Address | undefined {
  if (address === undefined || address === '') return undefined
  for (const prefix of ['topic://', '/topic/'])
    if (address.startsWith(prefix)) return { kind: 'topic', name: address.slice(prefix.length) }
  for (const prefix of ['queue://', '/queue/'])
    if (address.startsWith(prefix)) return { kind: 'queue', name: address.slice(prefix.length) }
  return { kind: topic ? 'topic' : 'queue', name: address }
}

/** The address of a source or target terminus (a string, or a symbol as some clients send). */
export function terminusAddress(terminus: unknown): Address | undefined {
  if (terminus === null || typeof terminus !== 'object' || !('kind' in terminus)) return undefined
  const t = terminus as Composite
  if (t.kind !== 'source' && t.kind !== 'target') return undefined
  const address = t.address
  const topic = t.capabilities?.includes('topic') === true
  return parseAddress(typeof address === 'string' ? address : keyText(address as never), topic)
}

/** Why a client may not send to the address ([condition, description]; undefined: it may; a missing queue is created then). */
export async function checkTarget(c: SessionHost, address: Address): Promise<[string, string] | undefined> {
  if (address.kind === 'topic')
    return c.access?.allows('Write', 'Exchange', TOPIC_EXCHANGE)
      ? undefined
      : ['amqp:unauthorized-access', `not allowed to publish to ${address.name}`]
  if (!c.access?.allows('Write', 'Topic', address.name))
    return ['amqp:unauthorized-access', `not allowed to write to ${address.name}`]
  if (c.broker.getQueue(address.name) === undefined) {
    // A temporary queue whose connection is gone is never created again as an ordinary queue.
    if (
      address.name.startsWith(TEMPORARY_QUEUE_PREFIX) ||
      !c.host.autoCreateQueues ||
      !c.access?.allows('Create', 'Topic', address.name)
    )
      return ['amqp:not-found', `no queue ${address.name}`]
    await c.broker.createQueue(address.name, {}, { ifNotExists: true })
  }
  return undefined
}

/** Where a client's receiver reads from, and what the reply attach's source says. */
export type Source =
  | {
      queue: string
      /** A transient queue of this link (a plain topic subscriber): deleted when the link goes. */
      ownQueue: boolean
      /** A durable or shared subscription's queue: detach keeps it (unless volatile), close removes it. */
      durable: SubscriptionRef | undefined
      /** The consumer's selector (queues; topic selectors are on the binding). */
      selector: string | undefined
      /** A topic receiver that does not get what its own connection published. */
      noLocal: boolean
      /** distribution-mode copy on a queue: the messages are browsed, not consumed. */
      browse: boolean
      /** The source for the reply attach: the client's, with the dynamic address and only the filters applied. */
      reply: Composite & { kind: 'source' }
    }
  | { refused: [condition: string, description: string] }

let topicQueueSeq = 0
let dynamicSeq = 0

/**
 * The queue a client's receiver reads: the named queue (browsed with distribution-mode copy); a dynamic
 * source's temporary queue (deleted with the connection); a durable or shared subscription (subscriptions.ts);
 * or for a plain topic a queue of its own bound to it.
 */
export async function openSource(c: SessionHost, terminus: unknown, linkName: string): Promise<Source> {
  if (terminus === null || terminus === undefined) {
    // No source: the subscription the link name names, as stored (Qpid JMS attaches so to unsubscribe).
    const jms = c.broker.jms.durable
    const stored = storedSubscription((id, name) => jms.get(id, name), linkName, c.containerId ?? c.id)
    if (stored === undefined) return { refused: ['amqp:not-found', `no subscription for link ${linkName}`] }
    terminus = storedSource(stored)
  }
  if (typeof terminus !== 'object' || (terminus as Composite).kind !== 'source')
    return { refused: ['amqp:invalid-field', 'a receiver needs a source'] }
  const source = terminus as Composite & { kind: 'source' }
  const filters = sourceFilters(source.filter)
  const reply: Composite & { kind: 'source' } = { ...source }
  const selector = filters.selector?.text
  const echo = (...entries: Array<[Value, Value] | undefined>) => {
    const applied = appliedFilters(entries)
    if (applied === undefined) delete reply.filter
    else reply.filter = applied
  }
  echo(filters.selector?.entry)
  const opened = { ownQueue: false, durable: undefined, selector, noLocal: false, browse: false, reply }
  try {
    if (selector !== undefined) compileSelector(selector)
    if (source.dynamic) {
      const temporary = await c.broker.jms.temporary.create('queue', c.id, `dynamic-${++dynamicSeq}`)
      reply.address = temporary.name
      return { ...opened, queue: temporary.name }
    }
    const address = terminusAddress(source)
    if (address === undefined) return { refused: ['amqp:invalid-field', 'a receiver needs a source address'] }
    if (address.kind === 'queue') {
      if (!c.access?.allows('Read', 'Topic', address.name))
        return { refused: ['amqp:unauthorized-access', `not allowed to read from ${address.name}`] }
      if (c.broker.getQueue(address.name) === undefined) {
        if (!c.host.autoCreateQueues || !c.access?.allows('Create', 'Topic', address.name))
          return { refused: ['amqp:not-found', `no queue ${address.name}`] }
        await c.broker.createQueue(address.name, {}, { ifNotExists: true })
      }
      return { ...opened, queue: address.name, browse: source.distributionMode === 'copy' }
    }
    if (!c.access?.allows('Read', 'Exchange', TOPIC_EXCHANGE))
      return { refused: ['amqp:unauthorized-access', `not allowed to subscribe to ${address.name}`] }
    const key = address.name.replace(/>/g, '#')
    const noLocal = filters.noLocal !== undefined
    echo(filters.selector?.entry, filters.noLocal)
    const subscription = subscriptionOf(source, linkName, c.containerId ?? c.id)
    if (subscription !== undefined) {
      const queue = await c.broker.jms.durable.subscribe({
        clientId: subscription.clientId,
        name: subscription.name,
        shared: subscription.shared,
        exchange: TOPIC_EXCHANGE,
        key,
        selector: selector ?? null,
        noLocal,
        owner: c.id,
      })
      const { clientId, name, volatile } = subscription
      return { ...opened, queue, durable: { clientId, name, volatile }, selector: undefined, noLocal }
    }
    const queue = `amqp10.subscription.${c.id}.${++topicQueueSeq}`
    await c.broker.createQueue(queue, { durable: false, exclusiveOwner: c.id })
    await c.broker.bind({
      source: TOPIC_EXCHANGE,
      destination: { kind: 'queue', name: queue },
      key,
      arguments: selector === undefined ? {} : { 'x-selector': selector },
      durable: false,
    })
    return { ...opened, queue, ownQueue: true, selector: undefined, noLocal }
  } catch (error) {
    if (error instanceof SelectorError) return { refused: ['amqp:invalid-field', error.message] }
    if (isWharfError(error, 'RESOURCE_LOCKED')) return { refused: ['amqp:resource-locked', error.message] }
    if (isWharfError(error, 'INVALID_ARGUMENT')) return { refused: ['amqp:invalid-field', error.message] }
    return { refused: ['amqp:internal-error', isWharfError(error) ? error.message : String(error)] }
  }
}

/** The frames that refuse an attach: an attach with no terminus (our role), then detach closed with the error. */
export function refusal(
  name: string,
  handle: number,
  role: boolean,
  condition: string,
  description: string,
): AnyInit[] {
  return [
    { kind: 'attach', name, handle, role, source: null, target: null } as AnyInit,
    { kind: 'detach', handle, closed: true, error: { kind: 'error', condition, description } } as AnyInit,
  ]
}

/** The broker's attach in reply to a client's: the same link, the client's termini unless `fields` say otherwise. */
export function attachReply(a: Composite & { kind: 'attach' }, fields: Record<string, unknown>): AnyInit {
  const reply = { kind: 'attach', name: a.name, handle: a.handle, sndSettleMode: a.sndSettleMode, rcvSettleMode: 0 }
  return { ...reply, source: a.source ?? null, target: a.target ?? null, ...fields } as AnyInit
}
