// A link on which the client sends (the broker is the receiver): the frames of a delivery are gathered
// (`more`, `aborted`, bounded by maxMessageSize), and the whole message is published to the link's queue or
// topic. The outcome (accepted once stored, rejected with the reason) goes back as a disposition.

import { type Address, TOPIC_EXCHANGE } from './addresses.js'
import type { Composite } from './codec/generated/types.js'
import type { SessionHost } from './context.js'
import { toPublishMessage } from './message.js'

type Transfer = Composite & { kind: 'transfer' }

export interface IncomingLink {
  role: 'receiver'
  handle: number
  name: string
  target: Address | undefined
  deliveryCount: number
  credit: number
  /** Transfer frames of a delivery still arriving (`more`). */
  partial: { deliveryId: number; settled: boolean; chunks: Buffer[]; bytes: number } | undefined
  /** Messages handed to the broker and not yet stored. */
  inflight: number
}

export interface Assembled {
  deliveryId: number
  settled: boolean
  bytes: Buffer
}

/**
 * Adds a transfer frame to the link's delivery: the whole message once its last frame came, null while more are
 * to come (or it was aborted), 'too-large' past maxMessageSize (the link is then closed by the caller).
 */
export function assemble(
  link: IncomingLink,
  t: Transfer,
  payload: Buffer,
  maxMessageSize: number,
): Assembled | null | 'too-large' {
  if (t.aborted) {
    link.partial = undefined
    return null
  }
  let partial = link.partial
  if (partial === undefined) {
    if (t.deliveryId === undefined) return null
    partial = { deliveryId: t.deliveryId, settled: t.settled === true, chunks: [], bytes: 0 }
    link.partial = partial
    link.deliveryCount++
    link.credit--
  }
  partial.bytes += payload.length
  if (partial.bytes > maxMessageSize) {
    link.partial = undefined
    return 'too-large'
  }
  // The payload is a view into the parser's input buffer: copied, since the message may outlive it.
  partial.chunks.push(Buffer.from(payload))
  if (t.more) return null
  link.partial = undefined
  const bytes = partial.chunks.length === 1 ? partial.chunks[0]! : Buffer.concat(partial.chunks)
  return { deliveryId: partial.deliveryId, settled: partial.settled, bytes }
}

/** Publishes a whole message; resolves once stored, rejects with the reason it was refused. */
export function publishIncoming(c: SessionHost, link: IncomingLink, bytes: Buffer): Promise<unknown> {
  const traffic = c.host.traffic
  traffic.messagesReceived++
  traffic.bytesReceived += bytes.length
  try {
    const message = toPublishMessage(bytes, Date.now())
    const address = link.target
    if (address === undefined) throw new Error('no target address (anonymous relay needs properties.to)')
    return address.kind === 'topic'
      ? c.broker.publish(TOPIC_EXCHANGE, address.name, message)
      : c.broker.sendToQueue(address.name, [message])
  } catch (error) {
    return Promise.reject(error)
  }
}
