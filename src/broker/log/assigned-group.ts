// Broker-assigned log-mode groups, for consumers that have no client-side assignor (AMQP stream
// consumers, REST, the embedded API): members of a group share a stream's partitions (range or round
// robin, recomputed on every join/leave), each member is pushed the messages of its partitions from
// the group's committed offset, bounded by a prefetch credit, and acks commit offsets.
import type { StoredMessage } from '../message.js'

export interface LogGroupHost {
  partitionCount(stream: string): number
  committed(group: string, stream: string, partition: number): number | undefined
  commit(group: string, stream: string, partition: number, offset: number): Promise<void>
  startOffset(stream: string, partition: number, from: 'earliest' | 'latest'): number
  read(
    stream: string,
    partition: number,
    offset: number,
    maxBytes: number,
  ): Promise<{ messages: StoredMessage[]; nextOffset: number }>
  /** Calls back once the partition has data at or beyond offset; returns an unsubscribe. */
  onData(stream: string, partition: number, offset: number, wake: () => void): () => void
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

const READ_BYTES = 256 * 1024

export class LogMember {
  readonly id: string
  partitions: number[] = []
  inflight = 0
  closed = false
  readonly options: Required<Omit<LogMemberOptions, 'onAssign'>> & Pick<LogMemberOptions, 'onAssign'>
  /** Next offset to read per partition. */
  readonly positions = new Map<number, number>()
  readonly #group: LogGroup

  constructor(id: string, group: LogGroup, options: LogMemberOptions) {
    this.id = id
    this.#group = group
    this.options = { from: 'earliest', strategy: 'range', prefetch: 1000, ...options }
  }

  /** Commits offset + 1 of a processed message (offsets per partition are acked in order). */
  ack(message: StoredMessage): Promise<void> {
    this.inflight = Math.max(0, this.inflight - 1)
    this.#group.pump(this)
    return this.#group.host.commit(this.#group.name, this.#group.stream, message.partition, message.offset + 1)
  }

  leave(): void {
    this.#group.leave(this)
  }
}

export class LogGroup {
  readonly name: string
  readonly stream: string
  readonly host: LogGroupHost
  readonly members: LogMember[] = []
  readonly #reading = new Set<string>()
  readonly #waits = new Map<string, () => void>()
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
    this.members.splice(at, 1)
    this.#rebalance()
  }

  #rebalance(): void {
    for (const off of this.#waits.values()) off()
    this.#waits.clear()
    const count = this.host.partitionCount(this.stream)
    const members = this.members
    for (const m of members) {
      m.partitions = []
      m.positions.clear()
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
      for (const p of m.partitions) {
        m.positions.set(
          p,
          this.host.committed(this.name, this.stream, p) ?? this.host.startOffset(this.stream, p, m.options.from),
        )
      }
      m.options.onAssign?.(m.partitions)
      this.pump(m)
    }
  }

  /** Reads and delivers for every partition of a member that has credit and is not already reading. */
  pump(member: LogMember): void {
    for (const partition of member.partitions) void this.#pumpPartition(member, partition)
  }

  async #pumpPartition(member: LogMember, partition: number): Promise<void> {
    const key = `${member.id}/${partition}`
    if (this.#reading.has(key) || member.closed) return
    this.#reading.add(key)
    try {
      while (!member.closed && member.inflight < member.options.prefetch && member.partitions.includes(partition)) {
        const offset = member.positions.get(partition)!
        const { messages, nextOffset } = await this.host.read(this.stream, partition, offset, READ_BYTES)
        if (member.closed || member.positions.get(partition) !== offset) return
        if (messages.length === 0) {
          member.positions.set(partition, Math.max(offset, nextOffset))
          if (nextOffset > offset) continue
          // Caught up: wait for an append (event-driven, no polling).
          this.#waits.get(key)?.()
          this.#waits.set(
            key,
            this.host.onData(this.stream, partition, offset, () => {
              this.#waits.delete(key)
              this.pump(member)
            }),
          )
          return
        }
        const room = member.options.prefetch - member.inflight
        const batch = messages.slice(0, room)
        member.positions.set(partition, batch[batch.length - 1]!.offset + 1)
        member.inflight += batch.length
        member.options.onMessages(batch)
      }
    } catch (error) {
      // Reported and retried shortly; never thrown (this runs detached from any caller).
      if (!member.closed) {
        this.host.warn('log group read failed', { group: this.name, partition, error: String(error) })
        setTimeout(() => this.pump(member), 1000).unref()
      }
    } finally {
      this.#reading.delete(key)
    }
  }
}
