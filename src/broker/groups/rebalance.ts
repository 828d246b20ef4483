// The rebalance half of the coordinator: JoinGroup and the classic join barrier (Kafka's
// GroupCoordinator.handleJoinGroup/onCompleteJoin). Requests that must wait are parked as resolvers on the
// member and answered by whichever call or deadline completes the step; GroupCoordinator (coordinator.ts)
// adds SyncGroup, heartbeats, leaves, offsets and the deadline tick on top.
import { randomUUID } from 'node:crypto'
import { assert } from '../../util/assert.js'
import { EMPTY_BUFFER, Group, Member } from './group.js'
import type {
  GroupCoordinatorOptions,
  GroupError,
  JoinRequest,
  JoinResponse,
  OffsetStore,
  SyncResponse,
} from './types.js'

/** Kafka's defaults for the group.* broker settings. */
export const INITIAL_REBALANCE_DELAY_MS_DEFAULT = 3000
export const SESSION_TIMEOUT_MS_MIN_DEFAULT = 6000
export const SESSION_TIMEOUT_MS_MAX_DEFAULT = 1_800_000
export const GROUP_SIZE_MAX_DEFAULT = 1000
export const METADATA_BYTES_MAX_DEFAULT = 4096
/** KIP-394: a new member parked in JoinGroup is kept alive at most this long without completing a join. */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 300_000
/** Coarse enough to cost nothing, fine enough next to the 6 s minimum session timeout. */
export const TICK_INTERVAL_MS_DEFAULT = 100
/** Kafka's offsets.retention.check.interval.ms: idle Empty groups leave memory after this long. */
export const EMPTY_GROUP_RETENTION_MS_DEFAULT = 600_000

type JoinResolve = (response: JoinResponse) => void
/** Returned by the request handlers when they parked the request's resolver instead of answering. */
export const PARKED = undefined
export type Parked = typeof PARKED

export function joinError(memberId: string, error: GroupError): JoinResponse {
  return {
    error,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    memberId,
    skipAssignment: false,
    members: [],
  }
}

export function syncError(error: GroupError): SyncResponse {
  return { error, protocolType: null, protocolName: null, assignment: EMPTY_BUFFER }
}

export abstract class RebalanceEngine {
  readonly offsets: OffsetStore
  readonly now: () => number
  readonly initialRebalanceDelayMs: number
  readonly minSessionTimeoutMs: number
  readonly maxSessionTimeoutMs: number
  readonly maxGroupSize: number
  readonly maxMetadataBytes: number
  readonly emptyGroupRetentionMs: number
  readonly #info: (message: string, details?: Record<string, unknown>) => void
  readonly groups = new Map<string, Group>()
  protected closed = false

  constructor(options: GroupCoordinatorOptions) {
    this.offsets = options.offsets
    this.now = options.now ?? Date.now
    this.initialRebalanceDelayMs = options.initialRebalanceDelayMs ?? INITIAL_REBALANCE_DELAY_MS_DEFAULT
    this.minSessionTimeoutMs = options.minSessionTimeoutMs ?? SESSION_TIMEOUT_MS_MIN_DEFAULT
    this.maxSessionTimeoutMs = options.maxSessionTimeoutMs ?? SESSION_TIMEOUT_MS_MAX_DEFAULT
    this.maxGroupSize = options.maxGroupSize ?? GROUP_SIZE_MAX_DEFAULT
    this.maxMetadataBytes = options.maxMetadataBytes ?? METADATA_BYTES_MAX_DEFAULT
    this.emptyGroupRetentionMs = options.emptyGroupRetentionMs ?? EMPTY_GROUP_RETENTION_MS_DEFAULT
    this.#info = options.info ?? (() => {})
    assert(this.initialRebalanceDelayMs >= 0, 'initialRebalanceDelayMs must be >= 0')
    assert(0 < this.minSessionTimeoutMs && this.minSessionTimeoutMs <= this.maxSessionTimeoutMs, 'session bounds')
    assert(this.maxGroupSize >= 1 && this.maxMetadataBytes >= 0, 'group size and metadata limits')
  }

  // ---- JoinGroup -------------------------------------------------------------------------------------

  join(req: JoinRequest): Promise<JoinResponse> {
    return new Promise((resolve) => {
      const immediate = this.doJoin(req, resolve)
      if (immediate !== PARKED) resolve(immediate)
    })
  }

  /** Answers at once, or parks `resolve` on the member and returns PARKED; same for the helpers below. */
  private doJoin(req: JoinRequest, resolve: JoinResolve): JoinResponse | Parked {
    if (this.closed) return joinError(req.memberId, 'COORDINATOR_NOT_AVAILABLE')
    if (req.groupId === '') return joinError(req.memberId, 'INVALID_GROUP_ID')
    if (req.sessionTimeoutMs < this.minSessionTimeoutMs || req.sessionTimeoutMs > this.maxSessionTimeoutMs) {
      return joinError(req.memberId, 'INVALID_SESSION_TIMEOUT')
    }
    let group = this.groups.get(req.groupId)
    if (group === undefined) {
      // A member id is only valid inside the group that issued it.
      if (req.memberId !== '') return joinError(req.memberId, 'UNKNOWN_MEMBER_ID')
      if (req.protocolType === '' || req.protocols.length === 0) {
        return joinError(req.memberId, 'INCONSISTENT_GROUP_PROTOCOL')
      }
      group = new Group(req.groupId, this.now())
      this.groups.set(req.groupId, group)
    }
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return joinError(req.memberId, 'INCONSISTENT_GROUP_PROTOCOL')
    }
    const immediate =
      req.memberId === '' ? this.joinUnknownMember(group, req, resolve) : this.joinKnownMember(group, req, resolve)
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group)
    return immediate
  }

  private joinUnknownMember(group: Group, req: JoinRequest, resolve: JoinResolve): JoinResponse | Parked {
    const memberId = `${req.clientId}-${randomUUID()}`
    const oldMemberId = req.groupInstanceId === null ? undefined : group.staticMembers.get(req.groupInstanceId)
    if (oldMemberId !== undefined) return this.replaceStaticMember(group, oldMemberId, memberId, req, resolve)
    if (group.size >= this.maxGroupSize) return joinError(req.memberId, 'GROUP_MAX_SIZE_REACHED')
    if (req.groupInstanceId === null && req.requireKnownMemberId) {
      // KIP-394: the id is only handed out; the member exists once it rejoins with it before its session ends.
      group.pendingMembers.set(memberId, this.now() + req.sessionTimeoutMs)
      return joinError(memberId, 'MEMBER_ID_REQUIRED')
    }
    return this.addMemberAndRebalance(group, memberId, req, resolve)
  }

  private joinKnownMember(group: Group, req: JoinRequest, resolve: JoinResolve): JoinResponse | Parked {
    const { memberId } = req
    if (group.pendingMembers.delete(memberId)) return this.addMemberAndRebalance(group, memberId, req, resolve)
    if (group.isFenced(memberId, req.groupInstanceId)) return joinError(memberId, 'FENCED_INSTANCE_ID')
    const member = group.members.get(memberId)
    const unknownInstance = req.groupInstanceId !== null && !group.staticMembers.has(req.groupInstanceId)
    if (member === undefined || unknownInstance) return joinError(memberId, 'UNKNOWN_MEMBER_ID')
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, req, resolve)
      case 'CompletingRebalance':
        // Same metadata: the member most likely lost the join response; repeat it instead of rebalancing.
        if (member.matches(req.protocols)) return this.joinResponse(group, member, false)
        return this.updateMemberAndRebalance(group, member, req, resolve)
      case 'Stable':
        // The leader rejoins to force a rebalance for changes the metadata does not show (new partitions).
        if (group.isLeader(memberId) || !member.matches(req.protocols)) {
          return this.updateMemberAndRebalance(group, member, req, resolve)
        }
        return { ...this.joinResponse(group, member, false), members: [] }
      case 'Empty':
      case 'Dead':
        return joinError(memberId, 'UNKNOWN_MEMBER_ID')
    }
  }

  private addMemberAndRebalance(group: Group, memberId: string, req: JoinRequest, resolve: JoinResolve): Parked {
    const now = this.now()
    const member = new Member(memberId, req, now, NEW_MEMBER_JOIN_TIMEOUT_MS)
    member.joinWaiter = resolve
    // Lets the initial delay extend itself while members keep arriving (Kafka's InitialDelayedJoin).
    if (group.initialDelay !== null) group.initialDelay.newMemberAdded = true
    group.add(member)
    this.maybePrepareRebalance(group)
    return PARKED
  }

  private updateMemberAndRebalance(group: Group, member: Member, req: JoinRequest, resolve: JoinResolve): Parked {
    member.rejoin(req)
    // A client never has two joins in flight; a superseded one must still get an answer.
    member.joinWaiter?.(joinError(member.memberId, 'REBALANCE_IN_PROGRESS'))
    member.joinWaiter = resolve
    this.maybePrepareRebalance(group)
    return PARKED
  }

  /** KIP-345: a static member rejoining with an unknown id takes over its instance; the old id is fenced. */
  private replaceStaticMember(
    group: Group,
    oldMemberId: string,
    newMemberId: string,
    req: JoinRequest,
    resolve: JoinResolve,
  ): JoinResponse | Parked {
    const previousLeader = group.leaderId
    const old = group.members.get(oldMemberId)
    assert(old !== undefined, 'static member index out of sync')
    old.joinWaiter?.(joinError(oldMemberId, 'FENCED_INSTANCE_ID'))
    old.syncWaiter?.(syncError('FENCED_INSTANCE_ID'))
    old.joinWaiter = null
    old.syncWaiter = null
    const member = group.replaceStaticMember(oldMemberId, newMemberId)
    member.rejoin(req)
    member.sessionDeadline = this.now() + member.sessionTimeoutMs
    switch (group.state) {
      case 'Stable': {
        // Nothing changes for the group unless the member's protocols change the group's choice.
        if (group.selectProtocol() !== group.protocolName) {
          member.joinWaiter = resolve
          this.maybePrepareRebalance(group)
          return PARKED
        }
        const skip = group.isLeader(newMemberId) && req.supportsSkipAssignment === true
        // Without skipAssignment the old leader id is returned, so a rejoining leader does not assign
        // (a Stable group would never broadcast that assignment).
        return {
          ...this.joinResponse(group, member, skip),
          leader: skip ? newMemberId : (previousLeader ?? ''),
          members: skip ? group.joinMembers() : [],
        }
      }
      case 'CompletingRebalance':
        // The leader may be assigning to the old id right now; only a new generation gets this right.
        member.joinWaiter = resolve
        this.prepareRebalance(group)
        return PARKED
      case 'PreparingRebalance':
        member.joinWaiter = resolve
        return PARKED
      case 'Empty':
      case 'Dead':
        assert(false, `static member in a ${group.state} group`)
    }
  }

  protected joinResponse(group: Group, member: Member, skipAssignment: boolean): JoinResponse {
    return {
      error: 'NONE',
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      skipAssignment,
      members: group.isLeader(member.memberId) ? group.joinMembers() : [],
    }
  }

  // ---- rebalance state machine ------------------------------------------------------------------------

  protected maybePrepareRebalance(group: Group): void {
    if (group.state === 'Stable' || group.state === 'CompletingRebalance' || group.state === 'Empty') {
      this.prepareRebalance(group)
    }
  }

  protected prepareRebalance(group: Group): void {
    assert(group.state !== 'PreparingRebalance' && group.state !== 'Dead', 'prepareRebalance from a wrong state')
    if (group.state === 'CompletingRebalance') {
      // The generation being assigned is void: parked syncs must rejoin.
      for (const member of group.members.values()) {
        member.assignment = EMPTY_BUFFER
        member.syncWaiter?.(syncError('REBALANCE_IN_PROGRESS'))
        member.syncWaiter = null
      }
    }
    group.pendingSync.clear()
    group.syncDeadline = null
    const now = this.now()
    if (group.state === 'Empty' && this.initialRebalanceDelayMs > 0) {
      const delayMs = Math.min(this.initialRebalanceDelayMs, group.maxRebalanceTimeoutMs())
      group.initialDelay = { remainingMs: Math.max(group.maxRebalanceTimeoutMs() - delayMs, 0), newMemberAdded: false }
      group.joinDeadline = now + delayMs
    } else {
      group.initialDelay = null
      group.joinDeadline = now + group.maxRebalanceTimeoutMs()
    }
    group.state = 'PreparingRebalance'
    // Kafka tries the join barrier at once: a group whose last member just left completes to Empty here.
    this.tryCompleteJoin(group)
  }

  /** Completes the join barrier early once everybody is in (not during the initial delay, which always waits). */
  protected tryCompleteJoin(group: Group): void {
    assert(group.state === 'PreparingRebalance', 'join completion outside PreparingRebalance')
    if (group.initialDelay === null && group.hasAllMembersJoined()) this.completeJoin(group)
  }

  /** Kafka's onCompleteJoin: drop who did not rejoin, start the next generation, answer every parked join. */
  protected completeJoin(group: Group): void {
    assert(group.state === 'PreparingRebalance', 'completeJoin outside PreparingRebalance')
    const now = this.now()
    group.initialDelay = null
    group.joinDeadline = null
    for (const member of [...group.members.values()]) {
      // Static members survive a missed rebalance; only their session timeout removes them.
      if (member.joinWaiter === null && member.groupInstanceId === null) group.remove(member.memberId)
    }
    if (!group.electJoinedLeader() && group.members.size > 0) {
      // Only absent static members remain: wait another rebalance timeout for any of them.
      group.joinDeadline = now + group.maxRebalanceTimeoutMs()
      return
    }
    group.generationId += 1
    this.#logRebalance(group)
    if (group.members.size === 0) {
      group.protocolName = null
      group.state = 'Empty'
      group.emptySince = now
      return
    }
    group.protocolName = group.selectProtocol()
    group.state = 'CompletingRebalance'
    for (const member of group.members.values()) {
      const resolve = member.joinWaiter
      member.joinWaiter = null
      member.isNew = false
      member.sessionDeadline = now + member.sessionTimeoutMs
      group.pendingSync.add(member.memberId)
      resolve?.(this.joinResponse(group, member, false))
    }
    group.syncDeadline = now + group.maxRebalanceTimeoutMs()
  }

  /** One line per generation: which members (by client id, the first 20) it has. */
  #logRebalance(group: Group): void {
    const members = [...group.members.values()]
    this.#info('consumer group rebalanced', {
      group: group.groupId,
      generation: group.generationId,
      memberCount: members.length,
      members: members.slice(0, 20).map((m) => `${m.clientId} ${m.memberId}`),
    })
  }

  /** Removes a member for good (left, expired, missed sync) and rebalances whoever remains. */
  protected removeMemberAndUpdateGroup(group: Group, member: Member): void {
    member.joinWaiter?.(joinError(member.memberId, 'UNKNOWN_MEMBER_ID'))
    member.syncWaiter?.(syncError('UNKNOWN_MEMBER_ID'))
    member.joinWaiter = null
    member.syncWaiter = null
    group.remove(member.memberId)
    this.afterMembershipChange(group)
  }

  protected afterMembershipChange(group: Group): void {
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group)
    else this.maybePrepareRebalance(group)
  }

  protected expireJoin(group: Group, now: number): void {
    const delay = group.initialDelay
    if (delay?.newMemberAdded && delay.remainingMs > 0) {
      // Members are still arriving: wait a bit more, but never past the rebalance timeout.
      const delayMs = Math.min(this.initialRebalanceDelayMs, delay.remainingMs)
      group.initialDelay = { remainingMs: delay.remainingMs - delayMs, newMemberAdded: false }
      group.joinDeadline = now + delayMs
      return
    }
    this.completeJoin(group)
  }

  /** Members that never sent SyncGroup within the rebalance timeout are gone; the rest rebalance. */
  protected expireSync(group: Group): void {
    group.syncDeadline = null
    if (group.state !== 'CompletingRebalance' && group.state !== 'Stable') return
    if (group.pendingSync.size === 0) return
    // They sent no SyncGroup, so none of them has a parked request to answer.
    for (const memberId of [...group.pendingSync]) group.remove(memberId)
    group.pendingSync.clear()
    this.maybePrepareRebalance(group)
  }
}
