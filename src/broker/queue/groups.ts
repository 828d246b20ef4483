// JMS message groups (JMSXGroupID): the first delivery of a group pins it to the consumer that took it; later
// messages of the group go only to that consumer (while it lacks credit they wait, other groups still flow)
// until it is cancelled or its owner released, or a message with JMSXGroupSeq -1 is delivered (the group
// closes; its next message starts it again, on whichever consumer takes it). Spread: the drain loop's round
// robin offers an unpinned group to the next consumer in turn, so new groups alternate between consumers.
// SQS FIFO groups (`fifo` queues, Reserved.groupId: one message of a group in flight, any consumer) are a
// different rule: JMS groups are off on fifo queues.
//
// The group → consumer map is bounded: past `messageGroupsMax` pins, the least recently used ones with
// nothing in flight are forgotten (their next message is pinned afresh), so hostile group ids cost bounded
// memory (at most the bound plus the groups that have messages in flight, which credit bounds).

import type { RecordHeader } from '../message.js'
import { JmsHeader } from '../properties/properties.js'

/** A consumer as the group map holds it (QueueConsumer, by identity). */
export type GroupConsumer = object

/** One pinned group; leases hold it so that their end is counted on the pin they were taken under. */
export interface GroupPin {
  readonly id: string
  readonly consumer: GroupConsumer
  /** Leases of this pin not settled yet. */
  inflight: number
}

/** The JMSXGroupID of a message, or undefined. No allocation unless the header is there. */
export function jmsGroupOf(headers: readonly RecordHeader[]): string | undefined {
  for (const h of headers) if (h.key === JmsHeader.groupId) return h.value === null ? undefined : h.value.toString()
  return undefined
}

/** Whether the message closes its group (JMSXGroupSeq -1). */
export function closesGroup(headers: readonly RecordHeader[]): boolean {
  for (const h of headers) if (h.key === JmsHeader.groupSeq) return h.value !== null && h.value.toString() === '-1'
  return false
}

export class MessageGroups {
  /** Pins in least-recently-used order (a touch re-inserts). */
  readonly #pins = new Map<string, GroupPin>()

  constructor(private max: number) {}

  get size(): number {
    return this.#pins.size
  }

  resize(max: number): void {
    this.max = max
    this.#evict()
  }

  /** The consumer a group is pinned to, if any. */
  ownerOf(group: string): GroupConsumer | undefined {
    return this.#pins.get(group)?.consumer
  }

  /**
   * A message of `group` is delivered to `consumer` (which may take it: unpinned or pinned to it). Returns the
   * pin the lease counts against and whether this delivery pinned the group (JMSXGroupFirstForConsumer).
   */
  deliver(group: string, consumer: GroupConsumer, leased: boolean): { pin: GroupPin; first: boolean } {
    let pin = this.#pins.get(group)
    const first = pin === undefined
    if (pin === undefined) pin = { id: group, consumer, inflight: 0 }
    else this.#pins.delete(group)
    this.#pins.set(group, pin)
    if (leased) pin.inflight++
    if (first) this.#evict()
    return { pin, first }
  }

  /** A lease taken under `pin` ended. */
  settled(pin: GroupPin): void {
    pin.inflight--
  }

  /** JMSXGroupSeq -1 was delivered: the group is free again. */
  close(group: string): void {
    this.#pins.delete(group)
  }

  /** The consumer went away: its groups are free (their returned messages are pinned again on redelivery). */
  release(consumer: GroupConsumer): void {
    for (const [group, pin] of this.#pins) if (pin.consumer === consumer) this.#pins.delete(group)
  }

  /** Groups pinned to each consumer (for stats and tests). */
  counts(): Map<GroupConsumer, number> {
    const out = new Map<GroupConsumer, number>()
    for (const pin of this.#pins.values()) out.set(pin.consumer, (out.get(pin.consumer) ?? 0) + 1)
    return out
  }

  #evict(): void {
    if (this.#pins.size <= this.max) return
    for (const [group, pin] of this.#pins) {
      if (this.#pins.size <= this.max) return
      if (pin.inflight <= 0) this.#pins.delete(group)
    }
  }
}
