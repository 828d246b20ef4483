// The authorization words and the queue-on-first-use rule SEND and SUBSCRIBE share.

import { StompFrameError } from '../wire/frame.js'
import type { ConnectionCore } from './context.js'

/** A refused action, in the words ActiveMQ uses for an authorization failure. */
export function refuse(c: ConnectionCore, action: string, destination: string): StompFrameError {
  return new StompFrameError(`User ${c.principal?.name ?? ''} is not authorized to ${action} ${destination}`)
}

/** The queue, declared with the defaults when missing (Create on it is needed then). */
export async function ensureQueue(c: ConnectionCore, name: string): Promise<void> {
  if (c.broker.getQueue(name) !== undefined) return
  if (!c.access?.allows('Create', 'Topic', name)) throw refuse(c, 'create', `/queue/${name}`)
  await c.broker.createQueue(name, {}, { ifNotExists: true })
}
