// Request/response shapes of the consumer-group coordinator. They mirror Kafka's classic group APIs
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit/Fetch, Describe/List/DeleteGroups) but carry
// no wire types: errors are Kafka's error *names*, and each adapter maps them to its own codes with a table.

/** Kafka error names the coordinator can answer with (exact spelling of Kafka's `Errors` enum). */
export type GroupError =
  | 'NONE'
  | 'UNKNOWN_MEMBER_ID'
  | 'ILLEGAL_GENERATION'
  | 'REBALANCE_IN_PROGRESS'
  | 'MEMBER_ID_REQUIRED'
  | 'FENCED_INSTANCE_ID'
  | 'INCONSISTENT_GROUP_PROTOCOL'
  | 'INVALID_SESSION_TIMEOUT'
  | 'GROUP_ID_NOT_FOUND'
  | 'NON_EMPTY_GROUP'
  | 'INVALID_GROUP_ID'
  | 'COORDINATOR_NOT_AVAILABLE'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'OFFSET_METADATA_TOO_LARGE'
  | 'GROUP_MAX_SIZE_REACHED'
  | 'INVALID_COMMIT_OFFSET_SIZE'

/** Kafka's ClassicGroupState names; Dead is only ever reported, a dead group is dropped from memory. */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

export const groupStates: readonly GroupState[] = [
  'Empty',
  'PreparingRebalance',
  'CompletingRebalance',
  'Stable',
  'Dead',
]

/** Persistence of committed offsets; the broker implements it on top of its cursor store. */
export interface OffsetStore {
  /** Resolves once the offset is durable; the coordinator answers the commit only after that. */
  commit(groupId: string, topic: string, partition: number, offset: number, metadata: string): Promise<void>
  fetch(groupId: string, topic: string, partition: number): { offset: number; metadata: string } | undefined
  listPartitions(groupId: string): Array<{ topic: string; partition: number }>
  /** Groups that have committed offsets: they exist (as Empty) even with no members. */
  listGroups(): string[]
  deleteGroup(groupId: string): Promise<void>
  topicExists(topic: string, partition: number): boolean
}

export interface GroupCoordinatorOptions {
  offsets: OffsetStore
  /** Injectable clock (ms) for tests. */
  now?: () => number
  /** Kafka `group.initial.rebalance.delay.ms`: how long a new/empty group waits for more joiners. */
  initialRebalanceDelayMs?: number
  /** Kafka `group.min.session.timeout.ms` / `group.max.session.timeout.ms`. */
  minSessionTimeoutMs?: number
  maxSessionTimeoutMs?: number
  /** Kafka `group.max.size`. */
  maxGroupSize?: number
  /** Kafka `offset.metadata.max.bytes`. */
  maxMetadataBytes?: number
  /** Period of the one shared deadline tick; 0 disables the internal timer (tests then call tick()). */
  tickIntervalMs?: number
  /** How long an Empty group with no pending members stays in memory (Kafka's offsets cleanup interval). */
  emptyGroupRetentionMs?: number
  /** Told of every completed rebalance (generation and members), for the operator's log. */
  info?: (message: string, details?: Record<string, unknown>) => void
}

export interface Protocol {
  name: string
  metadata: Buffer
}

export interface JoinRequest {
  groupId: string
  memberId: string
  groupInstanceId: string | null
  protocolType: string
  protocols: Protocol[]
  sessionTimeoutMs: number
  /** JoinGroup v0 has none; the adapter passes the session timeout then. */
  rebalanceTimeoutMs: number
  clientId: string
  clientHost: string
  /** JoinGroup v4+: an unknown member must first fetch an id (MEMBER_ID_REQUIRED). */
  requireKnownMemberId: boolean
  /** JoinGroup v9+ (KIP-814): a static leader rejoining a Stable group learns it is leader but skips assigning. */
  supportsSkipAssignment?: boolean
  reason?: string | null
}

export interface JoinMember {
  memberId: string
  groupInstanceId: string | null
  metadata: Buffer
}

export interface JoinResponse {
  error: GroupError
  generationId: number
  protocolType: string | null
  protocolName: string | null
  leader: string
  memberId: string
  skipAssignment: boolean
  /** Only the leader gets the member list. */
  members: JoinMember[]
}

export interface SyncRequest {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
  protocolType?: string | null
  protocolName?: string | null
  /** Only the leader sends assignments; followers send none. */
  assignments: Array<{ memberId: string; assignment: Buffer }>
}

export interface SyncResponse {
  error: GroupError
  protocolType: string | null
  protocolName: string | null
  assignment: Buffer
}

export interface HeartbeatRequest {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
}

export interface LeaveRequest {
  groupId: string
  members: Array<{ memberId: string; groupInstanceId: string | null; reason?: string | null }>
}

export interface LeaveResponse {
  error: GroupError
  members: Array<{ memberId: string; groupInstanceId: string | null; error: GroupError }>
}

export interface CommitRequest {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
  offsets: Array<{ topic: string; partition: number; offset: number; metadata: string | null }>
}

export interface CommitResponse {
  error: GroupError
  partitions: Array<{ topic: string; partition: number; error: GroupError }>
}

export interface FetchResponse {
  error: GroupError
  partitions: Array<{ topic: string; partition: number; offset: number; metadata: string; error: GroupError }>
}

export interface DescribedMember {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  metadata: Buffer
  assignment: Buffer
}

export interface DescribeResponse {
  error: GroupError
  groupId: string
  state: GroupState
  protocolType: string
  protocol: string
  members: DescribedMember[]
}

export interface ListedGroup {
  groupId: string
  protocolType: string
  state: GroupState
}
