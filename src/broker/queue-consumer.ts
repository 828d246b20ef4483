// A push consumer of a queue subscription: its credit (prefetch, shared credit group, no-ack) and the
// deliveries collected for it during one drain.
import type { ConsumeOptions, CreditGroup, Delivery } from './queue-types.js'

export class QueueConsumer {
  readonly tag: string
  readonly owner: string
  readonly prefetch: number
  readonly noAck: boolean
  readonly exclusive: boolean
  readonly leaseMs: number | null | undefined
  readonly creditGroup: CreditGroup | undefined
  readonly onDeliver: (deliveries: Delivery[]) => void
  readonly onCancel: ((reason: string) => void) | undefined
  unacked = 0
  cancelled = false
  /** Deliveries collected during one drain. */
  batch: Delivery[] = []

  constructor(tag: string, options: ConsumeOptions) {
    this.tag = tag
    this.owner = options.owner
    this.prefetch = options.prefetch ?? 0
    this.noAck = options.noAck ?? false
    this.exclusive = options.exclusive ?? false
    this.leaseMs = options.leaseMs
    this.creditGroup = options.creditGroup
    this.onDeliver = options.onDeliver
    this.onCancel = options.onCancel
  }

  get hasCredit(): boolean {
    if (this.noAck) return true
    return (this.prefetch === 0 || this.unacked < this.prefetch) && (this.creditGroup?.available ?? true)
  }
}
