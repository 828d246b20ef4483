// What an attach's source or target names: a queue by its name (or `queue://X`, `/queue/X`), or a topic
// (`topic://X`, `/topic/X`: the amq.topic exchange with routing key X, the same JMS topics STOMP and MQTT use).
// A client's sender needs Write on the queue (or amq.topic); a receiver needs Read, and a topic receiver gets a
// transient queue of its own bound to the topic. Queues that do not exist are created when the listener allows
// it (ActiveMQ's and Artemis's default) and the user may create them.
import { isWharfError } from '../../util/errors.js'
import type { AnyInit, Composite } from './codec/generated/types.js'
import { keyText } from './codec/values.js'
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

export type Source = { queue: string; ownQueue: boolean } | { refused: [condition: string, description: string] }

let topicQueueSeq = 0

/** The queue a client's receiver reads: the named queue, or for a topic one of its own bound to it. */
export async function openSource(c: SessionHost, address: Address): Promise<Source> {
  try {
    if (address.kind === 'queue') {
      if (!c.access?.allows('Read', 'Topic', address.name))
        return { refused: ['amqp:unauthorized-access', `not allowed to read from ${address.name}`] }
      if (c.broker.getQueue(address.name) === undefined) {
        if (!c.host.autoCreateQueues || !c.access?.allows('Create', 'Topic', address.name))
          return { refused: ['amqp:not-found', `no queue ${address.name}`] }
        await c.broker.createQueue(address.name, {}, { ifNotExists: true })
      }
      return { queue: address.name, ownQueue: false }
    }
    if (!c.access?.allows('Read', 'Exchange', TOPIC_EXCHANGE))
      return { refused: ['amqp:unauthorized-access', `not allowed to subscribe to ${address.name}`] }
    const queue = `amqp10.subscription.${c.id}.${++topicQueueSeq}`
    await c.broker.createQueue(queue, { durable: false, exclusiveOwner: c.id })
    await c.broker.bind({
      source: TOPIC_EXCHANGE,
      destination: { kind: 'queue', name: queue },
      key: address.name.replace(/>/g, '#'),
      arguments: {},
      durable: false,
    })
    return { queue, ownQueue: true }
  } catch (error) {
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
