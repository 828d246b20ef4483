// In-memory state of one classic consumer group (Kafka's ClassicGroup / GroupMetadata): members, static
// instance ids, pending member ids, and the pure decisions over them (protocol support and selection).
// All transitions and timing live in the coordinator; this file never resolves a parked request.
import { assert } from '../../util/assert.js'
import type { GroupState, JoinRequest, JoinResponse, Protocol, SyncResponse } from './types.js'

export const EMPTY_BUFFER: Buffer = Buffer.alloc(0)

export class Member {
  readonly groupInstanceId: string | null
  readonly protocolType: string
  // The rest of the client's JoinGroup fields: set by rejoin(), which every JoinGroup of this member calls.
  clientId = ''
  clientHost = ''
  protocols: Protocol[] = []
  sessionTimeoutMs = 0
  rebalanceTimeoutMs = 0
  assignment: Buffer = EMPTY_BUFFER
  /** A parked JoinGroup, answered when the rebalance completes. */
  joinWaiter: ((response: JoinResponse) => void) | null = null
  /** A parked SyncGroup, answered when the leader's assignment arrives. */
  syncWaiter: ((response: SyncResponse) => void) | null = null
  /** Session deadline (clock ms); not enforced while the member is parked in join or sync. */
  sessionDeadline: number
  /** Joined but never completed a generation (Kafka's isNew): kept alive parked only up to newMemberDeadline. */
  isNew = true
  newMemberDeadline: number

  constructor(
    public memberId: string,
    req: JoinRequest,
    now: number,
    newMemberJoinTimeoutMs: number,
  ) {
    this.groupInstanceId = req.groupInstanceId
    this.protocolType = req.protocolType
    this.rejoin(req)
    this.sessionDeadline = now + this.sessionTimeoutMs
    this.newMemberDeadline = now + newMemberJoinTimeoutMs
  }

  /** Takes the client's fields from a JoinGroup; the protocol type stays the one the member joined with. */
  rejoin(req: JoinRequest): void {
    this.clientId = req.clientId
    this.clientHost = req.clientHost
    this.protocols = req.protocols
    this.sessionTimeoutMs = req.sessionTimeoutMs
    // JoinGroup v0 carries no rebalance timeout.
    this.rebalanceTimeoutMs = req.rebalanceTimeoutMs > 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs
  }

  metadataFor(protocolName: string | null): Buffer {
    if (protocolName === null) return EMPTY_BUFFER
    return this.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY_BUFFER
  }

  /** Same protocols, in the same order, with byte-equal metadata (Kafka's MemberMetadata.matches). */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false
    return protocols.every((p, i) => {
      const own = this.protocols[i]!
      return own.name === p.name && own.metadata.equals(p.metadata)
    })
  }

  /** Parked in join or sync: the coordinator owes it an answer, so the session timer must not fire. */
  isKeptAlive(now: number): boolean {
    if (this.joinWaiter !== null) return !this.isNew || now < this.newMemberDeadline
    return this.syncWaiter !== null
  }
}

export class Group {
  state: GroupState = 'Empty'
  generationId = 0
  protocolType: string | null = null
  protocolName: string | null = null
  leaderId: string | null = null
  readonly members = new Map<string, Member>()
  /** groupInstanceId → current member id of that static member. */
  readonly staticMembers = new Map<string, string>()
  /** Member ids handed out with MEMBER_ID_REQUIRED → deadline by which they must join. */
  readonly pendingMembers = new Map<string, number>()
  /** Members of the current generation that have not sent SyncGroup yet (Kafka 3.2 pending sync). */
  readonly pendingSync = new Set<string>()
  /** PreparingRebalance: when the parked joins complete regardless of who rejoined. */
  joinDeadline: number | null = null
  /** Set while the initial rebalance delay of a new/empty group runs (Kafka's InitialDelayedJoin). */
  initialDelay: { remainingMs: number; newMemberAdded: boolean } | null = null
  /** CompletingRebalance/Stable: when members still in pendingSync are removed. */
  syncDeadline: number | null = null
  /** When the group last became Empty; drives the in-memory retention of idle groups. */
  emptySince: number

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.emptySince = now
  }

  get size(): number {
    return this.members.size + this.pendingMembers.size
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId
  }

  add(member: Member): void {
    assert(!this.members.has(member.memberId), 'member added twice')
    if (this.members.size === 0) this.protocolType = member.protocolType
    this.members.set(member.memberId, member)
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId)
    if (this.leaderId === null) this.leaderId = member.memberId
  }

  remove(memberId: string): Member | undefined {
    const member = this.members.get(memberId)
    if (member === undefined) return undefined
    this.members.delete(memberId)
    this.pendingSync.delete(memberId)
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId)
    }
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null
    return member
  }

  /** Moves a static member to a new member id (the old id is fenced from now on). */
  replaceStaticMember(oldMemberId: string, newMemberId: string): Member {
    const member = this.members.get(oldMemberId)
    assert(member !== undefined && member.groupInstanceId !== null, 'replacing an unknown static member')
    this.members.delete(oldMemberId)
    member.memberId = newMemberId
    this.members.set(newMemberId, member)
    this.staticMembers.set(member.groupInstanceId, newMemberId)
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId
    if (this.pendingSync.delete(oldMemberId)) this.pendingSync.add(newMemberId)
    return member
  }

  /** Kafka's isStaticMemberFenced: the instance id belongs to a different member id now. */
  isFenced(memberId: string, groupInstanceId: string | null): boolean {
    if (groupInstanceId === null) return false
    const current = this.staticMembers.get(groupInstanceId)
    return current !== undefined && current !== memberId
  }

  /** Protocols every member supports (the candidates of selectProtocol). */
  candidateProtocols(): Set<string> {
    const counts = new Map<string, number>()
    for (const member of this.members.values()) {
      for (const protocol of member.protocols) counts.set(protocol.name, (counts.get(protocol.name) ?? 0) + 1)
    }
    const candidates = new Set<string>()
    for (const [name, count] of counts) if (count === this.members.size) candidates.add(name)
    return candidates
  }

  /** Whether a joining member could be part of this group (Kafka's supportsProtocols). */
  supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (this.members.size === 0) return protocolType.length > 0 && protocols.length > 0
    if (protocolType !== this.protocolType) return false
    const candidates = this.candidateProtocols()
    return protocols.some((p) => candidates.has(p.name))
  }

  /**
   * Each member votes for its most preferred protocol among those all members support; the most votes
   * wins, ties going to the protocol that reached the count first (Kafka leaves ties unspecified).
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols()
    assert(candidates.size > 0, 'no protocol common to all members')
    const votes = new Map<string, number>()
    let best: string | null = null
    let bestVotes = 0
    for (const member of this.members.values()) {
      const vote = member.protocols.find((p) => candidates.has(p.name))
      assert(vote !== undefined, 'member without a candidate protocol')
      const count = (votes.get(vote.name) ?? 0) + 1
      votes.set(vote.name, count)
      if (count > bestVotes) {
        best = vote.name
        bestVotes = count
      }
    }
    assert(best !== null, 'protocol vote without voters')
    return best
  }

  maxRebalanceTimeoutMs(): number {
    let max = 0
    for (const member of this.members.values()) max = Math.max(max, member.rebalanceTimeoutMs)
    return max
  }

  /** Every member is parked in JoinGroup and no handed-out member id is still outstanding. */
  hasAllMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false
    for (const member of this.members.values()) if (member.joinWaiter === null) return false
    return true
  }

  /** Keeps the leader if it rejoined, else picks any member that did; false (leader unchanged) when nobody did. */
  electJoinedLeader(): boolean {
    const leader = this.leaderId === null ? undefined : this.members.get(this.leaderId)
    if (leader?.joinWaiter) return true
    for (const member of this.members.values()) {
      if (member.joinWaiter !== null) {
        this.leaderId = member.memberId
        return true
      }
    }
    return false
  }

  joinMembers(): Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }> {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(this.protocolName),
    }))
  }
}
