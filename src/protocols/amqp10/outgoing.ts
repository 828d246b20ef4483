// A link on which the client receives (the broker is the sender): a queue consumer whose broker credit follows
// the link credit. Each delivery is one transfer, split into frames that fit the client's max-frame-size; its
// outcome settles the lease: accepted acks, released and modified return the message (uncounted, unless
// modified says delivery-failed; modified with undeliverable-here drops it from this queue: dead-lettered or
// gone), rejected dead-letters it.
import type { Broker } from '../../broker/broker.js'
import { CreditGroup } from '../../broker/credit.js'
import type { RecordHeader } from '../../broker/message.js'
import type { QueueConsumer } from '../../broker/queue/queue.js'
import type { Delivery } from '../../broker/queue/types.js'
import type { ProtocolTraffic } from '../common/metrics.js'
import type { QueueBrowser } from './browse.js'
import type { AnyInit, Composite } from './codec/generated/types.js'
import { transferFrameHead } from './codec/per-message.js'
import type { SubscriptionRef } from './subscriptions.js'

export interface OutgoingLink {
  role: 'sender'
  handle: number
  name: string
  queue: string
  ownQueue: boolean
  /** The durable or shared subscription the link reads, if it is one. */
  durable: SubscriptionRef | undefined
  /** no-local: this connection's publisher stamp, whose messages are settled unseen; null otherwise. */
  noLocal: RecordHeader | null
  /** distribution-mode copy: the queue is browsed (no consumer). */
  browser: QueueBrowser | undefined
  /** Pre-settled (snd-settle-mode settled): acked once written. */
  settled: boolean
  deliveryCount: number
  credit: number
  drain: boolean
  /** The consumer's broker credit: room = link credit (held at 0). */
  creditGroup: CreditGroup
  consumer: QueueConsumer | undefined
}

/** A client's receiver link as attached: no credit until its first flow. */
export function newOutgoingLink(
  a: Composite & { kind: 'attach' },
  from: Pick<OutgoingLink, 'queue' | 'ownQueue' | 'durable' | 'noLocal' | 'browser'>,
): OutgoingLink {
  const creditGroup = new CreditGroup(0)
  creditGroup.hold()
  return {
    role: 'sender',
    handle: a.handle,
    name: a.name,
    ...from,
    // Browsed messages are not leased: they go pre-settled whatever the link's mode.
    settled: a.sndSettleMode === 1 || from.browser !== undefined,
    deliveryCount: 0,
    credit: 0,
    drain: false,
    creditGroup,
    consumer: undefined,
  }
}

/**
 * The link's credit group counts leases, released as they end (at a commit, long after a disposition): each
 * release re-applies the link credit, so the room stays the credit.
 */
export function recreditOnRelease(link: OutgoingLink, applyCredit: () => void): void {
  let recrediting = false
  link.creditGroup.onRelease(() => {
    if (recrediting) return
    recrediting = true
    applyCredit()
    recrediting = false
  })
}

/** What a draining link could still be sent: a browser's unread pages, or the queue's ready messages. */
export function readyFor(broker: Broker, link: OutgoingLink): number {
  if (link.browser !== undefined) return link.browser.finished ? 0 : 1
  return broker.getQueue(link.queue) === undefined ? 0 : broker.queueStats(link.queue).ready
}

let tagSeq = 0

/** A detach that closes a link with an error (by the broker: a deleted queue, a limit the client broke). */
export function closingDetach(handle: number, condition: string, description: string): AnyInit {
  return { kind: 'detach', handle, closed: true, error: { kind: 'error', condition, description } } as AnyInit
}

/** A drain ends after this many 5 ms polls without a delivery while the queue still has messages ready. */
const DRAIN_IDLE_POLLS = 4

/**
 * Runs `done` once a draining link has nothing more on its way: its queue has nothing ready, or nothing was
 * delivered for a few polls (a selector may match none of what is ready). A browser knows when it is done, so
 * it is waited for however slowly its pages are read. Stops if `live` turns false.
 */
export function whenDrained(
  link: OutgoingLink,
  live: () => boolean,
  ready: () => number,
  done: () => void,
  idle = 0,
  seen = link.deliveryCount,
): void {
  if (!live()) return
  const quiet = link.deliveryCount === seen ? idle + 1 : 0
  if (link.credit > 0 && ready() > 0 && (link.browser !== undefined || quiet < DRAIN_IDLE_POLLS)) {
    const at = link.deliveryCount
    setTimeout(() => whenDrained(link, live, ready, done, quiet, at), 5).unref()
    return
  }
  done()
}

/** The frames of one delivery: each frame's head (header and transfer) and its payload slice of at most frameRoom bytes. */
export function transferFrames(
  link: OutgoingLink,
  channel: number,
  deliveryId: number,
  bytes: Buffer,
  frameRoom: number,
): Array<[Buffer, Buffer]> {
  const tag = Buffer.allocUnsafe(8)
  tag.writeBigUInt64BE(BigInt(++tagSeq))
  const frames: Array<[Buffer, Buffer]> = []
  for (let at = 0; at < bytes.length || at === 0; at += frameRoom) {
    const more = at + frameRoom < bytes.length
    const payload = bytes.subarray(at, at + frameRoom)
    const first = at === 0 ? { deliveryId, tag } : undefined
    frames.push([transferFrameHead(channel, link.handle, first, link.settled, more, payload.length), payload])
    if (!more) break
  }
  return frames
}

/** Settles a delivery by the client's outcome (no outcome: accepted, the default outcome here). */
export function settleByOutcome(
  broker: Broker,
  traffic: ProtocolTraffic,
  delivery: Delivery,
  state: Composite | undefined,
): void {
  switch (state?.kind) {
    case 'rejected':
      broker.deliveries.nack(delivery, false)
      return
    case 'released':
    case 'modified':
      if (state.kind === 'modified' && state.undeliverableHere === true) broker.deliveries.nack(delivery, false)
      else if (state.kind === 'modified' && state.deliveryFailed === true) broker.deliveries.nack(delivery, true)
      // Part 3.4.4/3.4.5: released, and modified without delivery-failed, leave the delivery-count as it was.
      else broker.deliveries.release(delivery)
      traffic.messagesRequeued++
      return
    default:
      void broker.deliveries.ack(delivery)
      traffic.messagesAcknowledged++
  }
}
