// Consumer groups: FindCoordinator (cluster.ts picks the broker; a single node is every group's), Join/Sync/Heartbeat/Leave, offsets and group admin,
// all delegated to broker.groups; error names become codes through errors.ts. Authorization as Kafka does it:
// Describe Group to find the coordinator, fetch offsets and describe; Read Group to be a member and commit
// (plus Read Topic per committed topic); Delete Group to delete; listing shows the groups one may Describe.

import { coordinatorNode } from './cluster.js'
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
  RequestHeader,
  SyncGroupRequest,
  SyncGroupResponse,
} from './codec/index.js'
import type { Connection } from './connection.js'
import { groupErrorCode, KafkaError } from './errors.js'
import { confirmCoordinator, groupRefusal } from './group-loads.js'
import { CLUSTER_RESOURCE } from './metadata.js'

export function handleFindCoordinator(
  c: Connection,
  req: FindCoordinatorRequest,
  version: number,
): FindCoordinatorResponse {
  const self = { host: c.server.advertisedHost, port: c.advertisedPort }
  const none = { nodeId: -1, host: '', port: -1 }
  const kind = req.keyType === 1 ? 'transaction' : 'group'
  // The broker chosen for the key on every broker alike (cluster.ts); this one on a single broker.
  const answer = (key: string) => {
    const denied = denial(key)
    if (denied !== KafkaError.NONE) return { ...none, errorCode: denied }
    const node = coordinatorNode(c.server.broker, kind, key, self, c.tls)
    return node === undefined
      ? { ...none, errorCode: KafkaError.COORDINATOR_NOT_AVAILABLE }
      : { ...node, errorCode: KafkaError.NONE }
  }
  // keyType 1 is a transactional id (v1+); 0 a group.
  const denial = (key: string) =>
    req.keyType === 1
      ? c.allows('Describe', 'TransactionalId', key)
        ? KafkaError.NONE
        : KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : c.allows('Describe', 'Group', key)
        ? KafkaError.NONE
        : KafkaError.GROUP_AUTHORIZATION_FAILED
  if (version >= 4) {
    // v4+ batches keys (KIP-699).
    const coordinators = (req.coordinatorKeys ?? []).map((key) => ({ key, ...answer(key), errorMessage: null }))
    return { throttleTimeMs: 0, coordinators }
  }
  return { throttleTimeMs: 0, errorMessage: null, ...answer(req.key ?? '') }
}

export async function handleJoinGroup(
  c: Connection,
  req: JoinGroupRequest,
  version: number,
  header: RequestHeader,
): Promise<JoinGroupResponse> {
  const refused = c.allows('Read', 'Group', req.groupId)
    ? groupRefusal(c.server, req.groupId)
    : KafkaError.GROUP_AUTHORIZATION_FAILED
  if (refused !== KafkaError.NONE)
    return {
      throttleTimeMs: 0,
      errorCode: refused,
      generationId: -1,
      protocolType: null,
      protocolName: version < 7 ? '' : null,
      leader: '',
      memberId: req.memberId,
      members: [],
    }
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
  const refused = c.allows('Read', 'Group', req.groupId)
    ? groupRefusal(c.server, req.groupId)
    : KafkaError.GROUP_AUTHORIZATION_FAILED
  if (refused !== KafkaError.NONE)
    return {
      throttleTimeMs: 0,
      errorCode: refused,
      protocolType: null,
      protocolName: null,
      assignment: Buffer.alloc(0),
    }
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
  if (!c.allows('Read', 'Group', req.groupId))
    return { throttleTimeMs: 0, errorCode: KafkaError.GROUP_AUTHORIZATION_FAILED }
  const notCoordinator = groupRefusal(c.server, req.groupId)
  if (notCoordinator !== KafkaError.NONE) return { throttleTimeMs: 0, errorCode: notCoordinator }
  const error = c.server.broker.groups.heartbeat({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId ?? null,
  })
  return { throttleTimeMs: 0, errorCode: groupErrorCode(error) }
}

export function handleLeaveGroup(c: Connection, req: LeaveGroupRequest, version: number): LeaveGroupResponse {
  const refused = c.allows('Read', 'Group', req.groupId)
    ? groupRefusal(c.server, req.groupId)
    : KafkaError.GROUP_AUTHORIZATION_FAILED
  if (refused !== KafkaError.NONE)
    return {
      throttleTimeMs: 0,
      errorCode: refused,
      members: version >= 3 ? [] : undefined,
    }
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
  const groupAllowed = c.allows('Read', 'Group', req.groupId)
  const notCoordinator = groupRefusal(c.server, req.groupId)
  const deniedTopics = new Set(req.topics.filter((t) => !c.allows('Read', 'Topic', t.name)).map((t) => t.name))
  const denied = (topic: string) =>
    !groupAllowed
      ? KafkaError.GROUP_AUTHORIZATION_FAILED
      : notCoordinator !== KafkaError.NONE
        ? notCoordinator
        : deniedTopics.has(topic)
          ? KafkaError.TOPIC_AUTHORIZATION_FAILED
          : undefined
  const allowed = req.topics.filter((t) => denied(t.name) === undefined)
  if (allowed.length === 0)
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: denied(t.name)! })),
      })),
    }
  const offsets = allowed.flatMap((t) =>
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
  // On a cluster the commit is acknowledged only if this broker still coordinates the group now that it is
  // written (group-loads.ts): a broker that took the group over meanwhile may not have read it.
  const written = res.partitions.some((p) => p.error === 'NONE')
  const moved = written ? await confirmCoordinator(c.server, req.groupId) : KafkaError.NONE
  const errors = new Map<string, number>()
  for (const p of res.partitions)
    errors.set(`${p.topic}\u0000${p.partition}`, p.error === 'NONE' ? moved : groupErrorCode(p.error))
  const fallback = groupErrorCode(res.error)
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: denied(t.name) ?? errors.get(`${t.name}\u0000${p.partitionIndex}`) ?? fallback,
      })),
    })),
  }
}

export function handleDescribeGroups(
  c: Connection,
  req: DescribeGroupsRequest,
  version: number,
): DescribeGroupsResponse {
  const groups = req.groups.map((groupId) => {
    if (!c.allows('Describe', 'Group', groupId))
      return {
        errorCode: KafkaError.GROUP_AUTHORIZATION_FAILED,
        groupId,
        groupState: '',
        protocolType: '',
        protocolData: '',
        members: [],
      }
    const notCoordinator = groupRefusal(c.server, groupId)
    if (notCoordinator !== KafkaError.NONE)
      return { errorCode: notCoordinator, groupId, groupState: '', protocolType: '', protocolData: '', members: [] }
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
  // Describe on the cluster lists every group; otherwise those the principal may Describe (as Kafka does).
  const all = c.allows('Describe', 'Cluster', CLUSTER_RESOURCE)
  const listed = c.server.broker.groups
    .list(version >= 4 ? req.statesFilter : undefined)
    .filter((g) => all || c.allows('Describe', 'Group', g.groupId))
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
  const allowed = req.groupsNames.filter((g) => c.allows('Delete', 'Group', g))
  const results = new Map<string, number>()
  for (const g of allowed) {
    const refused = groupRefusal(c.server, g)
    if (refused !== KafkaError.NONE) results.set(g, refused)
  }
  const local = allowed.filter((g) => !results.has(g))
  for (const r of await c.server.broker.groups.deleteGroups(local)) results.set(r.groupId, groupErrorCode(r.error))
  return {
    throttleTimeMs: 0,
    results: req.groupsNames.map((groupId) => ({
      groupId,
      errorCode: results.get(groupId) ?? KafkaError.GROUP_AUTHORIZATION_FAILED,
    })),
  }
}
