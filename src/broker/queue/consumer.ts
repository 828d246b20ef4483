// A push consumer of a queue: its credit (prefetch, shared credit group, no-ack) and the
// deliveries collected for it during one drain, and its place in the queue's consumer list (by priority).
import { WharfError } from '../../util/errors.js'
import type { CreditGroup } from '../credit.js'
import { consumerSelector } from './consumer-selector.js'
import type { ConsumeOptions, Delivery, Taker } from './types.js'

export class QueueConsumer {
  readonly tag: string
  readonly owner: string
  readonly prefetch: number
  readonly noAck: boolean
  readonly exclusive: boolean
  readonly singleActive: boolean
  readonly leaseMs: number | null | undefined
  /** Higher first; see ConsumeOptions.priority. */
  readonly priority: number
  readonly creditGroup: CreditGroup | undefined
  readonly onDeliver: (deliveries: Delivery[]) => void
  readonly onCancel: ((reason: string) => void) | undefined
  /** The terms it was made with (a RemoteQueue attaches it on them at the serving broker). */
  readonly options: ConsumeOptions
  readonly forwarded: boolean
  unacked = 0
  cancelled = false
  /** Deliveries collected during one drain. */
  batch: Delivery[] = []
  /** This consumer's terms, as the drain loop leases by them. */
  readonly taker: Taker

  constructor(tag: string, options: ConsumeOptions) {
    this.tag = tag
    this.owner = options.owner
    this.prefetch = options.prefetch ?? 0
    this.noAck = options.noAck ?? false
    this.exclusive = options.exclusive ?? false
    this.singleActive = options.singleActive ?? false
    this.leaseMs = options.leaseMs
    const priority = options.priority ?? 0
    if (typeof priority !== 'number' || Number.isNaN(priority))
      throw new WharfError('INVALID_ARGUMENT', `consumer priority must be a number, got ${String(priority)}`)
    this.priority = priority
    this.creditGroup = options.creditGroup
    this.onDeliver = options.onDeliver
    this.onCancel = options.onCancel
    this.options = options
    this.forwarded = options.forwarded ?? false
    this.taker = {
      owner: this.owner,
      leaseMs: this.leaseMs,
      noAck: this.noAck,
      consumer: this,
      selector: consumerSelector(options.selector),
    }
  }

  get hasCredit(): boolean {
    if (this.noAck) return true
    return (this.prefetch === 0 || this.unacked < this.prefetch) && (this.creditGroup?.available ?? true)
  }
}

/**
 * Adds a consumer to a queue's list, which stays sorted by priority (highest first) and by arrival within
 * one priority, so the drain loop serves priority groups front to back. With `byArrival` (single active
 * consumer) priority is ignored: the first consumer stays the active one.
 */
export function addConsumer(consumers: QueueConsumer[], consumer: QueueConsumer, byArrival: boolean): void {
  let at = consumers.length
  if (!byArrival) while (at > 0 && consumers[at - 1]!.priority < consumer.priority) at--
  if (at === consumers.length) consumers.push(consumer)
  else consumers.splice(at, 0, consumer)
}
