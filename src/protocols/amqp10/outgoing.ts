// A link on which the client receives (the broker is the sender): a queue consumer whose broker credit follows
// the link credit. Each delivery is one transfer, split into frames that fit the client's max-frame-size; its
// outcome settles the lease: accepted acks, released and modified return the message (modified with
// undeliverable-here drops it from this queue: dead-lettered or gone), rejected dead-letters it.
import type { Broker } from '../../broker/broker.js'
import { CreditGroup } from '../../broker/credit.js'
import type { RecordHeader } from '../../broker/message.js'
import type { QueueConsumer } from '../../broker/queue/queue.js'
import type { Delivery } from '../../broker/queue/types.js'
import type { ProtocolTraffic } from '../common/metrics.js'
import type { QueueBrowser } from './browse.js'
import type { AnyInit, Composite } from './codec/generated/types.js'
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

let tagSeq = 0

/** The frames of one delivery: performatives and payload slices of at most frameRoom bytes. */
export function transferFrames(
  link: OutgoingLink,
  deliveryId: number,
  bytes: Buffer,
  frameRoom: number,
): Array<[AnyInit, Buffer]> {
  const tag = Buffer.alloc(8)
  tag.writeBigUInt64BE(BigInt(++tagSeq))
  const frames: Array<[AnyInit, Buffer]> = []
  for (let at = 0; at < bytes.length || at === 0; at += frameRoom) {
    const more = at + frameRoom < bytes.length
    const first = at === 0
    const transfer = { kind: 'transfer', handle: link.handle, settled: link.settled, more } as AnyInit & {
      deliveryId?: number
      deliveryTag?: Buffer
      messageFormat?: number
    }
    if (first) {
      transfer.deliveryId = deliveryId
      transfer.deliveryTag = tag
      transfer.messageFormat = 0
    }
    frames.push([transfer, bytes.subarray(at, at + frameRoom)])
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
      broker.deliveries.nack(delivery, !(state.kind === 'modified' && state.undeliverableHere === true))
      traffic.messagesRequeued++
      return
    default:
      void broker.deliveries.ack(delivery)
      traffic.messagesAcknowledged++
  }
}
