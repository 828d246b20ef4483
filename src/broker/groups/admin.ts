// DescribeGroups / ListGroups / DeleteGroups. A group exists if it is in memory or has committed offsets;
// the latter are reported as Empty with an empty protocol type, like Kafka's offsets-only "simple" groups.
import type { Group } from './group.js'
import { EMPTY_BUFFER } from './group.js'
import type { DescribeResponse, GroupError, GroupState, ListedGroup, OffsetStore } from './types.js'

export interface AdminContext {
  readonly groups: Map<string, Group>
  readonly offsets: OffsetStore
}

export function describeGroup(ctx: AdminContext, groupId: string): DescribeResponse {
  const base = { groupId, protocolType: '', protocol: '', members: [] }
  if (groupId === '') return { ...base, error: 'INVALID_GROUP_ID', state: 'Dead' }
  const group = ctx.groups.get(groupId)
  if (group === undefined) {
    // DescribeGroups < v6 answers an unknown group as Dead without an error; v6+ adapters map Dead to
    // GROUP_ID_NOT_FOUND themselves.
    const state: GroupState = ctx.offsets.listPartitions(groupId).length > 0 ? 'Empty' : 'Dead'
    return { ...base, error: 'NONE', state }
  }
  // Kafka shows the protocol, metadata and assignments only when they are settled (Stable).
  const stable = group.state === 'Stable'
  return {
    error: 'NONE',
    groupId,
    state: group.state,
    protocolType: group.protocolType ?? '',
    protocol: stable ? (group.protocolName ?? '') : '',
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      metadata: stable ? m.metadataFor(group.protocolName) : EMPTY_BUFFER,
      assignment: stable ? m.assignment : EMPTY_BUFFER,
    })),
  }
}

/** ListGroups; states filter case-insensitively (KIP-518), an empty or missing filter lists everything. */
export function listGroups(ctx: AdminContext, states?: string[]): ListedGroup[] {
  const wanted = states !== undefined && states.length > 0 ? new Set(states.map((s) => s.toLowerCase())) : null
  const out: ListedGroup[] = []
  const seen = new Set<string>()
  for (const group of ctx.groups.values()) {
    seen.add(group.groupId)
    out.push({ groupId: group.groupId, protocolType: group.protocolType ?? '', state: group.state })
  }
  for (const groupId of ctx.offsets.listGroups()) {
    if (!seen.has(groupId)) out.push({ groupId, protocolType: '', state: 'Empty' })
  }
  return wanted === null ? out : out.filter((g) => wanted.has(g.state.toLowerCase()))
}

/** Deletes Empty groups and their committed offsets; a group with members answers NON_EMPTY_GROUP. */
export async function deleteGroups(
  ctx: AdminContext,
  groupIds: string[],
): Promise<Array<{ groupId: string; error: GroupError }>> {
  const results: Array<{ groupId: string; error: GroupError }> = []
  for (const groupId of groupIds) results.push({ groupId, error: await deleteOne(ctx, groupId) })
  return results
}

async function deleteOne(ctx: AdminContext, groupId: string): Promise<GroupError> {
  if (groupId === '') return 'INVALID_GROUP_ID'
  const group = ctx.groups.get(groupId)
  if (group !== undefined && group.state !== 'Empty') return 'NON_EMPTY_GROUP'
  const hasOffsets = ctx.offsets.listPartitions(groupId).length > 0
  if (group === undefined && !hasOffsets) return 'GROUP_ID_NOT_FOUND'
  // Dropped from memory first: a member id handed out earlier must not be able to join the deleted group.
  ctx.groups.delete(groupId)
  if (!hasOffsets) return 'NONE'
  try {
    await ctx.offsets.deleteGroup(groupId)
  } catch {
    return 'COORDINATOR_NOT_AVAILABLE'
  }
  return 'NONE'
}
