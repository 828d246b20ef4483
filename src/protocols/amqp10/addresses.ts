// What an attach's source or target names: a queue by its name (or `queue://X`, `/queue/X`), or a topic
// (`topic://X`, `/topic/X`: the amq.topic exchange with routing key X, the same JMS topics STOMP and MQTT use).
// A client's sender needs Write on the queue (or amq.topic); a receiver needs Read, and a topic receiver gets a
// transient queue of its own bound to the topic. Queues that do not exist are created when the listener allows
// it (ActiveMQ's and Artemis's default) and the user may create them.
import { compileSelector, SelectorError } from '../../broker/selector/index.js'
import { isWharfError } from '../../util/errors.js'
import type { AnyInit, Composite } from './codec/generated/types.js'
import { AmqpMap, Described, keyText, Typed, type Value } from './codec/values.js'
import type { SessionHost } from './context.js'

/** The topic exchange `topic://X` addresses publish to (routing key X), as STOMP's /topic/ does. */
export const TOPIC_EXCHANGE = 'amq.topic'

export interface Address {
  kind: 'queue' | 'topic'
  name: string
}

export function parseAddress(address: string | undefined): Address | undefined {
  if (address === undefined || address === '') return undefined
  for (const prefix of ['topic://', '/topic/'])
    if (address.startsWith(prefix)) return { kind: 'topic', name: address.slice(prefix.length) }
  for (const prefix of ['queue://', '/queue/'])
    if (address.startsWith(prefix)) return { kind: 'queue', name: address.slice(prefix.length) }
  return { kind: 'queue', name: address }
}

/** The address of a source or target terminus (a string, or a symbol as some clients send). */
export function terminusAddress(terminus: unknown): Address | undefined {
  if (terminus === null || typeof terminus !== 'object' || !('kind' in terminus)) return undefined
  const t = terminus as Composite
  if (t.kind !== 'source' && t.kind !== 'target') return undefined
  const address = t.address
  return parseAddress(typeof address === 'string' ? address : keyText(address as never))
}

/** Why a client may not send to the address (undefined: it may; a missing queue is created then). */
export async function checkTarget(c: SessionHost, address: Address): Promise<string | undefined> {
  if (address.kind === 'topic')
    return c.access?.allows('Write', 'Exchange', TOPIC_EXCHANGE)
      ? undefined
      : `not allowed to publish to ${address.name}`
  if (!c.access?.allows('Write', 'Topic', address.name)) return `not allowed to write to ${address.name}`
  if (c.broker.getQueue(address.name) === undefined) {
    if (!c.host.autoCreateQueues || !c.access?.allows('Create', 'Topic', address.name))
      return `no queue ${address.name}`
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
      /** A durable subscription's queue: detach keeps it, close removes the subscription. */
      durable: { clientId: string; name: string } | undefined
      /** The consumer's selector (queues; topic selectors are on the binding). */
      selector: string | undefined
      /** The source for the reply attach: the client's, with the dynamic address and only the filters applied. */
      reply: Composite & { kind: 'source' }
    }
  | { refused: [condition: string, description: string] }

let topicQueueSeq = 0
let dynamicSeq = 0

/** JMS selector filters are matched by descriptor (rhea sends the numeric one, Qpid Proton the symbolic one). */
const SELECTOR_CODE = 0x0000468c00000004n
const SELECTOR_NAME = 'apache.org:selector-filter:string'

/** The selector of a filter set, with its entry (echoed in the reply so the client knows it applies). */
function selectorOf(filter: AmqpMap | undefined): { text: string; entry: [Value, Value] } | undefined {
  for (const entry of filter?.entries ?? []) {
    const v = entry[1]
    if (!(v instanceof Described) || typeof v.value !== 'string') continue
    const d = v.descriptor
    if (d instanceof Typed && (d.value === SELECTOR_CODE || d.value === SELECTOR_NAME)) return { text: v.value, entry }
  }
  return undefined
}

/**
 * The queue a client's receiver reads: the named queue; a dynamic source's temporary queue (deleted with the
 * connection); a durable subscription (a topic with durability, named by the container id and link name, as
 * Qpid JMS and Artemis do); or for a plain topic a queue of its own bound to it.
 */
export async function openSource(c: SessionHost, terminus: unknown, linkName: string): Promise<Source> {
  if (terminus === null || typeof terminus !== 'object' || (terminus as Composite).kind !== 'source')
    return { refused: ['amqp:invalid-field', 'a receiver needs a source'] }
  const source = terminus as Composite & { kind: 'source' }
  const filter = selectorOf(source.filter)
  const reply: Composite & { kind: 'source' } = { ...source }
  if (filter === undefined) delete reply.filter
  else reply.filter = new AmqpMap([filter.entry])
  const selector = filter?.text
  try {
    if (selector !== undefined) compileSelector(selector)
    if (source.dynamic) {
      const temporary = await c.broker.jms.temporary.create('queue', c.id, `dynamic-${++dynamicSeq}`)
      reply.address = temporary.name
      return { queue: temporary.name, ownQueue: false, durable: undefined, selector, reply }
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
      return { queue: address.name, ownQueue: false, durable: undefined, selector, reply }
    }
    if (!c.access?.allows('Read', 'Exchange', TOPIC_EXCHANGE))
      return { refused: ['amqp:unauthorized-access', `not allowed to subscribe to ${address.name}`] }
    const key = address.name.replace(/>/g, '#')
    if (source.durable > 0 || source.expiryPolicy === 'never') {
      const clientId = c.containerId ?? c.id
      const queue = await c.broker.jms.durable.subscribe({
        clientId,
        name: linkName,
        shared: false,
        exchange: TOPIC_EXCHANGE,
        key,
        selector: selector ?? null,
        noLocal: false,
        owner: c.id,
      })
      return { queue, ownQueue: false, durable: { clientId, name: linkName }, selector: undefined, reply }
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
    return { queue, ownQueue: true, durable: undefined, selector: undefined, reply }
  } catch (error) {
    if (error instanceof SelectorError) return { refused: ['amqp:invalid-field', error.message] }
    if (isWharfError(error, 'RESOURCE_LOCKED')) return { refused: ['amqp:resource-locked', error.message] }
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
