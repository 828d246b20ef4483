// The consumer-group coordinator: Kafka's classic group protocol (JoinGroup/SyncGroup barrier, heartbeats,
// static membership, offset commits) without any wire types. JoinGroup and the rebalance state machine are
// in rebalance.ts; this adds SyncGroup, Heartbeat, LeaveGroup, offsets and admin. Every deadline (session,
// pending member id, rebalance, sync, idle group) is checked by one shared coarse tick: one timer in total.
import { deleteGroups, describeGroup, listGroups } from './admin.js'
import type { Group, Member } from './group.js'
import { EMPTY_BUFFER } from './group.js'
import { commitOffsets, fetchOffsets, validateCommit } from './offsets.js'
import { joinError, PARKED, type Parked, RebalanceEngine, syncError, TICK_INTERVAL_MS_DEFAULT } from './rebalance.js'
import type {
  CommitRequest,
  CommitResponse,
  DescribeResponse,
  FetchResponse,
  GroupCoordinatorOptions,
  GroupError,
  HeartbeatRequest,
  LeaveRequest,
  LeaveResponse,
  ListedGroup,
  SyncRequest,
  SyncResponse,
} from './types.js'

export class GroupCoordinator extends RebalanceEngine {
  private timer: NodeJS.Timeout | null = null

  constructor(options: GroupCoordinatorOptions) {
    super(options)
    const tickIntervalMs = options.tickIntervalMs ?? TICK_INTERVAL_MS_DEFAULT
    if (tickIntervalMs > 0) {
      // Deliberately not unref'd: a coordinator someone forgot to close() keeps the process up (and a test
      // hangs) instead of silently losing deadlines in an embedded broker.
      this.timer = setInterval(() => this.tick(), tickIntervalMs)
    }
  }

  // ---- SyncGroup, Heartbeat, LeaveGroup ---------------------------------------------------------------

  sync(req: SyncRequest): Promise<SyncResponse> {
    return new Promise((resolve) => {
      const immediate = this.doSync(req, resolve)
      if (immediate !== PARKED) resolve(immediate)
    })
  }

  private doSync(req: SyncRequest, resolve: (response: SyncResponse) => void): SyncResponse | Parked {
    if (this.closed) return syncError('COORDINATOR_NOT_AVAILABLE')
    if (req.groupId === '') return syncError('INVALID_GROUP_ID')
    const group = this.groups.get(req.groupId)
    if (group === undefined) return syncError('UNKNOWN_MEMBER_ID')
    const error = validateMember(group, req)
    if (error !== 'NONE') return syncError(error)
    if (req.protocolType != null && req.protocolType !== group.protocolType) {
      return syncError('INCONSISTENT_GROUP_PROTOCOL')
    }
    if (req.protocolName != null && req.protocolName !== group.protocolName) {
      return syncError('INCONSISTENT_GROUP_PROTOCOL')
    }
    const member = group.members.get(req.memberId)!
    member.sessionDeadline = this.now() + member.sessionTimeoutMs
    switch (group.state) {
      case 'PreparingRebalance':
        return syncError('REBALANCE_IN_PROGRESS')
      case 'CompletingRebalance': {
        member.syncWaiter?.(syncError('REBALANCE_IN_PROGRESS'))
        member.syncWaiter = resolve
        group.pendingSync.delete(member.memberId)
        if (group.isLeader(member.memberId)) this.completeSync(group, req.assignments)
        return PARKED
      }
      case 'Stable':
        group.pendingSync.delete(member.memberId)
        return this.syncResponse(group, member)
      case 'Empty':
      case 'Dead':
        return syncError('UNKNOWN_MEMBER_ID')
    }
  }

  /** The leader's assignment arrived: store it (members it left out get nothing) and release every parked sync. */
  private completeSync(group: Group, assignments: SyncRequest['assignments']): void {
    const byMember = new Map<string, Buffer>()
    for (const { memberId, assignment } of assignments) byMember.set(memberId, assignment)
    group.state = 'Stable'
    for (const member of group.members.values()) {
      member.assignment = byMember.get(member.memberId) ?? EMPTY_BUFFER
      const resolve = member.syncWaiter
      member.syncWaiter = null
      resolve?.(this.syncResponse(group, member))
    }
  }

  private syncResponse(group: Group, member: Member): SyncResponse {
    return {
      error: 'NONE',
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      assignment: member.assignment,
    }
  }

  heartbeat(req: HeartbeatRequest): GroupError {
    if (this.closed) return 'COORDINATOR_NOT_AVAILABLE'
    if (req.groupId === '') return 'INVALID_GROUP_ID'
    const group = this.groups.get(req.groupId)
    if (group === undefined || group.state === 'Empty') return 'UNKNOWN_MEMBER_ID'
    const error = validateMember(group, req)
    if (error !== 'NONE') return error
    const member = group.members.get(req.memberId)!
    member.sessionDeadline = this.now() + member.sessionTimeoutMs
    // Members learn about a pending rebalance only through this answer, and then rejoin.
    return group.state === 'PreparingRebalance' ? 'REBALANCE_IN_PROGRESS' : 'NONE'
  }

  leave(req: LeaveRequest): LeaveResponse {
    const answer = (error: GroupError): LeaveResponse['members'] =>
      req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, error }))
    if (this.closed) return { error: 'COORDINATOR_NOT_AVAILABLE', members: answer('COORDINATOR_NOT_AVAILABLE') }
    if (req.groupId === '') return { error: 'INVALID_GROUP_ID', members: answer('INVALID_GROUP_ID') }
    const group = this.groups.get(req.groupId)
    if (group === undefined) return { error: 'NONE', members: answer('UNKNOWN_MEMBER_ID') }
    const members = req.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      error: this.leaveOne(group, m.memberId, m.groupInstanceId),
    }))
    return { error: 'NONE', members }
  }

  private leaveOne(group: Group, memberId: string, groupInstanceId: string | null): GroupError {
    if (memberId === '') {
      // KIP-345 admin removal of a static member by its instance id.
      const current = groupInstanceId === null ? undefined : group.staticMembers.get(groupInstanceId)
      const member = current === undefined ? undefined : group.members.get(current)
      if (member === undefined) return 'UNKNOWN_MEMBER_ID'
      this.removeMemberAndUpdateGroup(group, member)
      return 'NONE'
    }
    if (group.pendingMembers.delete(memberId)) {
      if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group)
      return 'NONE'
    }
    if (group.isFenced(memberId, groupInstanceId)) return 'FENCED_INSTANCE_ID'
    const member = group.members.get(memberId)
    if (member === undefined) return 'UNKNOWN_MEMBER_ID'
    this.removeMemberAndUpdateGroup(group, member)
    return 'NONE'
  }

  // ---- offsets and admin (offsets.ts, admin.ts) -------------------------------------------------------

  commitOffsets(req: CommitRequest): Promise<CommitResponse> {
    if (this.closed) return Promise.resolve(closedCommit(req))
    return commitOffsets(this, req)
  }

  /** The member check of a transactional offset commit (TxnOffsetCommit v3+): the offsets wait for the commit. */
  validateTransactionalCommit(req: Omit<CommitRequest, 'offsets'>): GroupError {
    if (this.closed) return 'COORDINATOR_NOT_AVAILABLE'
    return validateCommit(this, req, true)
  }

  fetchOffsets(groupId: string, partitions: Array<{ topic: string; partition: number }> | null): FetchResponse {
    if (this.closed) return { error: 'COORDINATOR_NOT_AVAILABLE', partitions: [] }
    return fetchOffsets(this.offsets, groupId, partitions)
  }

  describe(groupId: string): DescribeResponse {
    return describeGroup(this, groupId)
  }

  list(states?: string[]): ListedGroup[] {
    return listGroups(this, states)
  }

  deleteGroups(groupIds: string[]): Promise<Array<{ groupId: string; error: GroupError }>> {
    return deleteGroups(this, groupIds)
  }

  /** Resets a member's session timer; offset commits count as liveness like in Kafka. */
  touch(group: Group, memberId: string): void {
    const member = group.members.get(memberId)
    if (member !== undefined) member.sessionDeadline = this.now() + member.sessionTimeoutMs
  }

  // ---- deadlines -------------------------------------------------------------------------------------

  /** Runs every deadline that has passed; called by the shared timer, and directly by tests with a fake clock. */
  tick(): void {
    if (this.closed) return
    const now = this.now()
    for (const group of [...this.groups.values()]) this.tickGroup(group, now)
  }

  private tickGroup(group: Group, now: number): void {
    for (const [memberId, deadline] of [...group.pendingMembers]) {
      if (deadline <= now) group.pendingMembers.delete(memberId)
    }
    for (const member of [...group.members.values()]) {
      if (member.sessionDeadline <= now && !member.isKeptAlive(now) && group.members.get(member.memberId) === member) {
        this.removeMemberAndUpdateGroup(group, member)
      }
    }
    if (group.state === 'PreparingRebalance') {
      if (group.joinDeadline !== null && group.joinDeadline <= now) this.expireJoin(group, now)
      else this.tryCompleteJoin(group)
    }
    if (group.syncDeadline !== null && group.syncDeadline <= now) this.expireSync(group)
    if (
      group.state === 'Empty' &&
      group.pendingMembers.size === 0 &&
      group.emptySince + this.emptyGroupRetentionMs <= now
    ) {
      this.groups.delete(group.groupId)
    }
  }

  /**
   * Forgets a group's members and rebalance (its committed offsets stay in the offset store): another broker
   * coordinates it now. Parked requests are answered COORDINATOR_NOT_AVAILABLE, so their clients look for the
   * coordinator again and rejoin there; if the group comes back here it starts Empty, as on a new coordinator.
   */
  unload(groupId: string): void {
    const group = this.groups.get(groupId)
    if (group === undefined) return
    this.groups.delete(groupId)
    answerParked(group)
  }

  /** Stops the timer and answers every parked request: the clients will look for a coordinator again. */
  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    for (const group of this.groups.values()) answerParked(group)
    this.groups.clear()
  }
}

function answerParked(group: Group): void {
  for (const member of group.members.values()) {
    member.joinWaiter?.(joinError(member.memberId, 'COORDINATOR_NOT_AVAILABLE'))
    member.syncWaiter?.(syncError('COORDINATOR_NOT_AVAILABLE'))
    member.joinWaiter = null
    member.syncWaiter = null
  }
}

/** Kafka's validateCurrentMember: fenced static instance, unknown member, then stale generation. */
export function validateMember(
  group: Group,
  req: { memberId: string; groupInstanceId: string | null; generationId: number },
): GroupError {
  if (group.isFenced(req.memberId, req.groupInstanceId)) return 'FENCED_INSTANCE_ID'
  if (!group.members.has(req.memberId)) return 'UNKNOWN_MEMBER_ID'
  if (req.generationId !== group.generationId) return 'ILLEGAL_GENERATION'
  return 'NONE'
}

function closedCommit(req: CommitRequest): CommitResponse {
  const partitions = req.offsets.map((o) => ({
    topic: o.topic,
    partition: o.partition,
    error: 'COORDINATOR_NOT_AVAILABLE' as const,
  }))
  return { error: 'COORDINATOR_NOT_AVAILABLE', partitions }
}
