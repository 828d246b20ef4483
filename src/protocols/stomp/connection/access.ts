// The authorization words and the queue-on-first-use rule SEND and SUBSCRIBE share.

import { StompFrameError } from '../wire/frame.js'
import type { ConnectionCore } from './context.js'
import { stompQueueConfig } from './redelivery.js'

/** A refused action, in the words ActiveMQ uses for an authorization failure. */
export function refuse(c: ConnectionCore, action: string, destination: string): StompFrameError {
  return new StompFrameError(`User ${c.principal?.name ?? ''} is not authorized to ${action} ${destination}`)
}

/** The queue, declared with the defaults when missing (Create on it is needed then). */
export async function ensureQueue(c: ConnectionCore, name: string): Promise<void> {
  await queueReady(c, name)
}

/** ensureQueue without a promise when the queue exists: a SEND to it is then handled in the same turn. */
export function queueReady(c: ConnectionCore, name: string): Promise<unknown> | undefined {
  if (c.broker.getQueue(name) !== undefined) return undefined
  if (!c.access?.allows('Create', 'Topic', name)) throw refuse(c, 'create', `/queue/${name}`)
  return c.broker.createQueue(name, stompQueueConfig(name, c.host.limits), { ifNotExists: true })
}
