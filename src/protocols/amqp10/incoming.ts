// A link on which the client sends (the broker is the receiver): the frames of a delivery are gathered
// (`more`, `aborted`, bounded by maxMessageSize), and the whole message is published to the link's queue or
// topic, or on an anonymous relay link (null target, as Qpid JMS's anonymous producer attaches) to the message's
// own `properties.to`. The outcome (accepted once stored, rejected with the reason) goes back as a disposition.

import type { PublishMessage } from '../../broker/message.js'
import { type Address, checkTarget, parseAddress, TOPIC_EXCHANGE } from './addresses.js'
import type { AnyInit, Composite } from './codec/generated/types.js'
import type { SessionHost } from './context.js'
import { toPublish } from './message.js'
import { publisherOf } from './no-local.js'

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

/** A client's sender link as attached (to a target address; none for the anonymous relay or a coordinator). */
export function newIncomingLink(a: Composite & { kind: 'attach' }, target: Address | undefined): IncomingLink {
  const deliveryCount = a.initialDeliveryCount ?? 0
  return {
    role: 'receiver',
    handle: a.handle,
    name: a.name,
    target,
    deliveryCount,
    credit: 0,
    partial: undefined,
    inflight: 0,
  }
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

/** A delivery refused with an AMQP error condition (the disposition's `rejected` error). */
export class DeliveryRefused extends Error {
  constructor(
    readonly condition: string,
    message: string,
  ) {
    super(message)
  }
}

/** The settled disposition rejecting a delivery whose publish failed. */
export function rejectedDisposition(deliveryId: number, error: unknown): AnyInit {
  return {
    kind: 'disposition',
    role: true,
    first: deliveryId,
    settled: true,
    state: { kind: 'rejected', error: rejectionOf(error) },
  } as AnyInit
}

/** The error of a `rejected` outcome for a publish that failed. */
export function rejectionOf(error: unknown): { kind: 'error'; condition: string; description: string } {
  const condition = error instanceof DeliveryRefused ? error.condition : 'amqp:precondition-failed'
  return { kind: 'error', condition, description: error instanceof Error ? error.message : String(error) }
}

/**
 * Publishes a whole message to the link's target or, on an anonymous relay link (no target address), to its
 * `properties.to`, checked per message as an attach would be; resolves once stored, rejects with the reason it
 * was refused (a DeliveryRefused for an unknown or forbidden destination: only that delivery is rejected).
 */
export function publishIncoming(c: SessionHost, link: IncomingLink, bytes: Buffer): Promise<unknown> {
  const traffic = c.host.traffic
  traffic.messagesReceived++
  traffic.bytesReceived += bytes.length
  try {
    const { message, to, toTopic } = toPublish(bytes, Date.now())
    const address = link.target
    if (address !== undefined) return publishTo(c, address, message)
    const relayed = parseAddress(to, toTopic)
    if (relayed === undefined)
      throw new DeliveryRefused('amqp:not-found', 'no target address: an anonymous relay message needs properties.to')
    return checkTarget(c, relayed).then((refused) => {
      if (refused !== undefined) throw new DeliveryRefused(...refused)
      return publishTo(c, relayed, message)
    })
  } catch (error) {
    return Promise.reject(error)
  }
}

function publishTo(c: SessionHost, address: Address, message: PublishMessage): Promise<unknown> {
  if (address.kind === 'queue') return c.broker.sendToQueue(address.name, [message])
  // toPublish built a fresh header list (without any `wharf.*` header a client sent): no copy needed.
  message.headers!.push(publisherOf(c))
  return c.broker.publish(TOPIC_EXCHANGE, address.name, message)
}
