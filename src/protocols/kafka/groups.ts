// Consumer groups: FindCoordinator (always this node), Join/Sync/Heartbeat/Leave, offsets and group admin,
// all delegated to broker.groups; error names become codes through errors.ts.
import type {
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  RequestHeader,
  SyncGroupRequest,
  SyncGroupResponse,
} from './codec/index.js'
import type { Connection } from './connection.js'
import { groupErrorCode, KafkaError } from './errors.js'
import { NODE_ID } from './metadata.js'

export function handleFindCoordinator(
  c: Connection,
  req: FindCoordinatorRequest,
  version: number,
): FindCoordinatorResponse {
  const self = { nodeId: NODE_ID, host: c.server.advertisedHost, port: c.server.advertisedPort }
  if (version >= 4) {
    // v4+ batches keys (KIP-699); a single node coordinates every group.
    const coordinators = (req.coordinatorKeys ?? []).map((key) => ({
      key,
      ...self,
      errorCode: KafkaError.NONE,
      errorMessage: null,
    }))
    return { throttleTimeMs: 0, coordinators }
  }
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, errorMessage: null, ...self }
}

export async function handleJoinGroup(
  c: Connection,
  req: JoinGroupRequest,
  version: number,
  header: RequestHeader,
): Promise<JoinGroupResponse> {
  const res = await c.server.broker.groups.join({
    groupId: req.groupId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId ?? null,
    protocolType: req.protocolType,
    protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
    sessionTimeoutMs: req.sessionTimeoutMs,
    // JoinGroup v0 has no rebalance timeout: Kafka uses the session timeout.
    rebalanceTimeoutMs:
      version >= 1 && req.rebalanceTimeoutMs !== undefined ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
    clientId: header.clientId ?? '',
    clientHost: c.clientHost,
    // KIP-394: only v4+ clients know to rejoin with the id MEMBER_ID_REQUIRED hands out.
    requireKnownMemberId: version >= 4,
    reason: req.reason ?? null,
  })
  return {
    throttleTimeMs: 0,
    errorCode: groupErrorCode(res.error),
    generationId: res.generationId,
    protocolType: res.protocolType,
    protocolName: version < 7 ? (res.protocolName ?? '') : res.protocolName,
    leader: res.leader,
    memberId: res.memberId,
    members: res.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata,
    })),
  }
}

export async function handleSyncGroup(c: Connection, req: SyncGroupRequest): Promise<SyncGroupResponse> {
  const res = await c.server.broker.groups.sync({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId ?? null,
    protocolType: req.protocolType ?? null,
    protocolName: req.protocolName ?? null,
    assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
  })
  return {
    throttleTimeMs: 0,
    errorCode: groupErrorCode(res.error),
    protocolType: res.protocolType,
    protocolName: res.protocolName,
    assignment: res.assignment,
  }
}

export function handleHeartbeat(c: Connection, req: HeartbeatRequest): HeartbeatResponse {
  const error = c.server.broker.groups.heartbeat({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId ?? null,
  })
  return { throttleTimeMs: 0, errorCode: groupErrorCode(error) }
}

export function handleLeaveGroup(c: Connection, req: LeaveGroupRequest, version: number): LeaveGroupResponse {
  // v0-2 name one member; v3+ batch them (KIP-345).
  const members =
    version >= 3
      ? (req.members ?? []).map((m) => ({
          memberId: m.memberId ?? '',
          groupInstanceId: m.groupInstanceId ?? null,
          reason: m.reason ?? null,
        }))
      : [{ memberId: req.memberId ?? '', groupInstanceId: null }]
  const res = c.server.broker.groups.leave({ groupId: req.groupId, members })
  if (version < 3) {
    const only = res.members[0]
    return { throttleTimeMs: 0, errorCode: groupErrorCode(res.error !== 'NONE' ? res.error : (only?.error ?? 'NONE')) }
  }
  return {
    throttleTimeMs: 0,
    errorCode: groupErrorCode(res.error),
    members: res.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode: groupErrorCode(m.error),
    })),
  }
}

export async function handleOffsetCommit(c: Connection, req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
  const offsets = req.topics.flatMap((t) =>
    t.partitions.map((p) => ({
      topic: t.name,
      partition: p.partitionIndex,
      offset: p.committedOffset,
      metadata: p.committedMetadata,
    })),
  )
  const res = await c.server.broker.groups.commitOffsets({
    groupId: req.groupId,
    generationId: req.generationIdOrMemberEpoch ?? -1,
    memberId: req.memberId ?? '',
    groupInstanceId: req.groupInstanceId ?? null,
    offsets,
  })
  const errors = new Map<string, number>()
  for (const p of res.partitions) errors.set(`${p.topic}\u0000${p.partition}`, groupErrorCode(p.error))
  const fallback = groupErrorCode(res.error)
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: errors.get(`${t.name}\u0000${p.partitionIndex}`) ?? fallback,
      })),
    })),
  }
}

type FetchTopics = Array<{ name?: string; partitionIndexes?: number[] }> | null | undefined

function fetchGroupOffsets(c: Connection, groupId: string, topics: FetchTopics) {
  const wanted =
    topics == null
      ? null
      : topics.flatMap((t) => (t.partitionIndexes ?? []).map((partition) => ({ topic: t.name ?? '', partition })))
  const res = c.server.broker.groups.fetchOffsets(groupId, wanted)
  const byTopic = new Map<
    string,
    Array<{
      partitionIndex: number
      committedOffset: number
      committedLeaderEpoch: number
      metadata: string
      errorCode: number
    }>
  >()
  for (const p of res.partitions) {
    let list = byTopic.get(p.topic)
    if (list === undefined) {
      list = []
      byTopic.set(p.topic, list)
    }
    list.push({
      partitionIndex: p.partition,
      committedOffset: p.offset,
      committedLeaderEpoch: -1,
      metadata: p.metadata,
      errorCode: groupErrorCode(p.error),
    })
  }
  return {
    errorCode: groupErrorCode(res.error),
    topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
  }
}

export function handleOffsetFetch(c: Connection, req: OffsetFetchRequest, version: number): OffsetFetchResponse {
  if (version >= 8) {
    const groups = (req.groups ?? []).map((g) => ({
      groupId: g.groupId ?? '',
      ...fetchGroupOffsets(c, g.groupId ?? '', g.topics),
    }))
    return { throttleTimeMs: 0, groups }
  }
  // v1 has no "all topics" null; v2+ accept null.
  const { errorCode, topics } = fetchGroupOffsets(c, req.groupId ?? '', req.topics)
  return { throttleTimeMs: 0, topics, errorCode: version >= 2 ? errorCode : undefined }
}

export function handleDescribeGroups(
  c: Connection,
  req: DescribeGroupsRequest,
  version: number,
): DescribeGroupsResponse {
  const groups = req.groups.map((groupId) => {
    const d = c.server.broker.groups.describe(groupId)
    // v6+ would report an unknown (Dead) group as GROUP_ID_NOT_FOUND; we serve <= 5, which answers Dead.
    return {
      errorCode: groupErrorCode(d.error),
      groupId,
      groupState: d.state,
      protocolType: d.protocolType,
      protocolData: d.protocol,
      members: d.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: version >= 4 ? m.groupInstanceId : null,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: m.metadata,
        memberAssignment: m.assignment,
      })),
    }
  })
  return { throttleTimeMs: 0, groups }
}

export function handleListGroups(c: Connection, req: ListGroupsRequest, version: number): ListGroupsResponse {
  const listed = c.server.broker.groups.list(version >= 4 ? req.statesFilter : undefined)
  return {
    throttleTimeMs: 0,
    errorCode: KafkaError.NONE,
    groups: listed.map((g) => ({
      groupId: g.groupId,
      protocolType: g.protocolType,
      groupState: version >= 4 ? g.state : undefined,
    })),
  }
}

export async function handleDeleteGroups(c: Connection, req: DeleteGroupsRequest): Promise<DeleteGroupsResponse> {
  const results = await c.server.broker.groups.deleteGroups(req.groupsNames)
  return {
    throttleTimeMs: 0,
    results: results.map((r) => ({ groupId: r.groupId, errorCode: groupErrorCode(r.error) })),
  }
}
