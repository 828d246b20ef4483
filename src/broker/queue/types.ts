// Shapes shared by queues, their consumers and the broker facade.
import type { CreditGroup } from '../credit.js'
import type { StoredMessage } from '../message.js'
import type { Selector } from '../selector/index.js'
import type { ConsumerSelector } from './consumer-selector.js'

/** A message of a queue, whichever lease it is under. */
export interface MessageRef {
  readonly queue: string
  readonly partition: number
  readonly offset: number
}

/** What settles a delivery (Broker.deliveries): a Delivery is one; SQS decodes one from a receipt handle. */
export interface DeliveryRef extends MessageRef {
  /** The lease it was handed out under; settling with an older one does nothing. */
  readonly leaseId: number
}

export interface Delivery extends DeliveryRef {
  /** 1 on the first delivery. */
  deliveryCount: number
  /** True when the message may have been delivered before (requeue, lease expiry, broker restart). */
  redelivered: boolean
  message: StoredMessage
  /** Lease deadline (ms since epoch) or null when held until acked or released. */
  deadline: number | null
  /** Set on the delivery that pinned a JMS message group to this consumer (JMSXGroupFirstForConsumer). */
  groupFirst?: true
}

/**
 * Who takes deliveries and on what terms; built once per push consumer (QueueConsumer.taker) or per pull,
 * never per message.
 */
export interface Taker {
  /** Connection/channel id the leases are held by. */
  readonly owner: string
  /** Lease per delivery; undefined = the queue's leaseMs, null = until released. */
  readonly leaseMs: number | null | undefined
  /** Deliveries count as acked at once (no lease). */
  readonly noAck: boolean
  /** The push consumer whose credit a lease counts against; null for a pull. */
  readonly consumer: { unacked: number; readonly creditGroup: CreditGroup | undefined } | null
  /** Takes only the messages this selects (ConsumeOptions.selector). */
  readonly selector?: ConsumerSelector
}

export interface ConsumeOptions {
  /** Connection/channel id: leases are returned when the owner is released. */
  owner: string
  /** Consumer tag; generated when absent. */
  tag?: string
  /** Maximum unacked deliveries for this consumer; 0 = unlimited. */
  prefetch?: number
  /** Unacked budget shared with other consumers (AMQP basic.qos global, the MQTT inflight window). */
  creditGroup?: CreditGroup
  /** Deliveries count as acked at once (at-most-once). */
  noAck?: boolean
  /** The queue refuses other consumers while this one lives, and this one if it has others (AMQP exclusive). */
  exclusive?: boolean
  /**
   * Exclusive in JMS's sense (ActiveMQ `activemq.exclusive`): while this consumer lives it gets every message and
   * the other consumers stand by; of several such consumers the first of the highest priority is the active one.
   */
  singleActive?: boolean
  /** Lease per delivery; defaults to the queue's leaseMs. */
  leaseMs?: number | null
  /**
   * Consumer priority (AMQP x-priority), default 0, may be negative. Messages go to the highest priority
   * consumers with credit; lower ones only get messages while every higher one is out of credit. Equal
   * priorities share round robin. Ignored by single-active-consumer queues (the first consumer is active).
   */
  priority?: number
  /**
   * JMS message selector: the consumer only gets the messages it selects; the others stay for other
   * consumers (a message no consumer selects stays in the queue). A text is compiled with the default options
   * (no string conversion); pass a compiled Selector (compileSelector) for others. Looks only as far as the
   * queue's read-ahead: messages behind a read-ahead full of messages nobody selects wait until those go.
   * An invalid text throws INVALID_ARGUMENT (SelectorError, with the position).
   */
  selector?: string | Selector
  /**
   * Attached by another broker of the cluster for its client (the cluster link): when this queue is served
   * elsewhere, such a consumer is cancelled (QUEUE_MOVED) rather than forwarded again.
   */
  forwarded?: boolean
  /** Called with every batch of deliveries (push). */
  onDeliver(deliveries: Delivery[]): void
  /** Called when the broker cancels the consumer (queue deleted). */
  onCancel?(reason: string): void
}

export interface GetOptions {
  owner: string
  /** Messages to take (1 to 10_000). */
  max?: number
  /** Long-poll: wait up to this long for a first message. */
  waitMs?: number
  leaseMs?: number | null
  noAck?: boolean
  signal?: AbortSignal
  /** Takes only messages this JMS selector selects (see ConsumeOptions.selector). */
  selector?: string | Selector
}

export interface QueueStats {
  name: string
  stream: string
  /** Messages not yet acked (ready + in flight + delayed). */
  depth: number
  ready: number
  inflight: number
  delayed: number
  consumers: number
  publishedTotal: number
  deliveredTotal: number
  ackedTotal: number
  deadLetteredTotal: number
  /** Messages a full drop-new queue did not take, since start. */
  droppedTotal: number
  /** Body bytes of the messages counted in depth; present while the queue has maxLengthBytes. */
  bytes?: number
}

export interface BrowseOptions {
  /** Position per partition, as a previous page's `next`; defaults to each partition's ack floor. */
  from?: readonly number[]
  /** Most messages in the page (1 to BROWSE_MAX; default 100). */
  max?: number
  /** About the most body bytes in the page (one message always fits; default 1 MiB). */
  maxBytes?: number
  now?: number
}

export interface BrowsePage {
  messages: StoredMessage[]
  /** Where the next page starts; null when this page reached the end of every partition. */
  next: number[] | null
}
