// Broker-assigned log-mode groups, for consumers that have no client-side assignor (the embedded API):
// members of a group share a stream's partitions (range or round robin, recomputed on every join/leave),
// each member reads its partitions through one LogCursor each, from the group's committed offset, bounded
// by the member's prefetch credit, and acks commit offsets.
import { CreditGroup } from '../credit.js'
import type { StoredMessage } from '../message.js'
import { LogCursor, type LogSource } from './cursor.js'

export interface LogGroupHost {
  partitionCount(stream: string): number
  committed(group: string, stream: string, partition: number): number | undefined
  commit(group: string, stream: string, partition: number, offset: number): Promise<void>
  startOffset(stream: string, partition: number, from: 'earliest' | 'latest'): number
  source(stream: string, partition: number): LogSource
  warn(message: string, details?: Record<string, unknown>): void
}

export interface LogMemberOptions {
  from?: 'earliest' | 'latest'
  strategy?: 'range' | 'roundrobin'
  /** Unacked messages a member may hold (default 1000). */
  prefetch?: number
  onMessages(messages: StoredMessage[]): void
  onAssign?(partitions: number[]): void
}

/** A failed read is reported and retried after this long (the cursors run detached from any caller). */
const RETRY_MS = 1000

export class LogMember {
  readonly id: string
  partitions: number[] = []
  closed = false
  readonly options: Required<Omit<LogMemberOptions, 'onAssign'>> & Pick<LogMemberOptions, 'onAssign'>
  /** Unacked messages of every partition of this member. */
  readonly credit: CreditGroup
  /** One cursor per assigned partition. */
  readonly cursors = new Map<number, LogCursor>()
  readonly #group: LogGroup

  constructor(id: string, group: LogGroup, options: LogMemberOptions) {
    this.id = id
    this.#group = group
    this.options = { from: 'earliest', strategy: 'range', prefetch: 1000, ...options }
    this.credit = new CreditGroup(this.options.prefetch)
  }

  /** Commits offset + 1 of a processed message (offsets per partition are acked in order). */
  ack(message: StoredMessage): Promise<void> {
    if (this.credit.used > 0) this.credit.release()
    return this.#group.host.commit(this.#group.name, this.#group.stream, message.partition, message.offset + 1)
  }

  leave(): void {
    this.#group.leave(this)
  }

  /** Closes every cursor (on leave and before a rebalance hands out new ones). */
  stop(): void {
    for (const cursor of this.cursors.values()) cursor.close()
    this.cursors.clear()
  }
}

export class LogGroup {
  readonly name: string
  readonly stream: string
  readonly host: LogGroupHost
  readonly members: LogMember[] = []
  #seq = 0

  constructor(name: string, stream: string, host: LogGroupHost) {
    this.name = name
    this.stream = stream
    this.host = host
  }

  join(options: LogMemberOptions): LogMember {
    const member = new LogMember(`${this.name}-${++this.#seq}`, this, options)
    this.members.push(member)
    this.#rebalance()
    return member
  }

  leave(member: LogMember): void {
    const at = this.members.indexOf(member)
    if (at < 0) return
    member.closed = true
    member.stop()
    this.members.splice(at, 1)
    this.#rebalance()
  }

  #rebalance(): void {
    const count = this.host.partitionCount(this.stream)
    const members = this.members
    for (const m of members) {
      m.stop()
      m.partitions = []
    }
    if (members.length === 0) return
    const strategy = members[0]!.options.strategy
    for (let p = 0; p < count; p++) {
      const owner =
        strategy === 'roundrobin'
          ? p % members.length
          : Math.min(Math.floor((p * members.length) / count), members.length - 1)
      members[owner]!.partitions.push(p)
    }
    for (const m of members) {
      for (const p of m.partitions) m.cursors.set(p, this.#cursor(m, p))
      m.options.onAssign?.(m.partitions)
      for (const cursor of m.cursors.values()) cursor.pump()
    }
  }

  #cursor(member: LogMember, partition: number): LogCursor {
    const host = this.host
    const offset =
      host.committed(this.name, this.stream, partition) ?? host.startOffset(this.stream, partition, member.options.from)
    const cursor: LogCursor = new LogCursor(host.source(this.stream, partition), {
      offset,
      credit: member.credit,
      deliver: (messages) => member.options.onMessages(messages),
      onError: (error) => {
        host.warn('log group read failed', { group: this.name, partition, error: String(error) })
        setTimeout(() => cursor.pump(), RETRY_MS).unref()
      },
    })
    return cursor
  }
}
