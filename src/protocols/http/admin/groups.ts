// REST admin routes for consumer groups: list and describe with per-partition lag, and offset reset of an
// empty group. Members are listed with their client and, for Kafka consumers, their assigned partitions;
// streamConsumers answers who reads one stream. describeGroup and listGroupIds also feed the lag gauge in metrics.ts.
// ACL: Describe on the Group; a reset needs Read on the Group and on the Topic, as Kafka's OffsetCommit.
import type { Broker } from '../../../broker/broker.js'
import { type AssignedPartitions, type DescribedMember, readConsumerAssignment } from '../../../broker/groups/index.js'
import { WharfError } from '../../../util/errors.js'
import { type AdminContext, bad, body, pageMap, params, query } from './context.js'

function groupLag(
  broker: Broker,
  group: string,
): Array<{ stream: string; partition: number; committed: number | null; highWatermark: number; lag: number }> {
  const streams = new Set<string>()
  for (const { stream } of broker.committedPartitions(group))
    if (broker.getStream(stream) !== undefined) streams.add(stream)
  return [...streams].sort().flatMap((stream) =>
    broker
      .lag(group, stream)
      .filter((p) => p.committed !== null)
      .map((p) => ({ stream, ...p, lag: Math.max(0, p.lag) })),
  )
}

/** A live member: who it is and, for Kafka consumers, the partitions it was assigned. */
function describeMember(protocolType: string, m: DescribedMember): Record<string, unknown> {
  return {
    memberId: m.memberId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    groupInstanceId: m.groupInstanceId,
    assignment: protocolType === 'consumer' ? (readConsumerAssignment(m.assignment) ?? null) : null,
  }
}

export function describeGroup(broker: Broker, group: string): Record<string, unknown> {
  const described = broker.groups.describe(group)
  const partitions = groupLag(broker, group)
  return {
    group,
    state: described.state,
    protocolType: described.protocolType,
    members: described.members.length,
    memberList: described.members.map((m) => describeMember(described.protocolType, m)),
    lag: partitions.reduce((sum, p) => sum + p.lag, 0),
    partitions,
  }
}

/**
 * Who reads a stream: the consumer groups with a committed offset on it or a member assigned one of its
 * partitions (with those members), and the queues that read it.
 */
export function streamConsumers(broker: Broker, stream: string): Record<string, unknown> {
  broker.stream(stream)
  const groups = []
  for (const id of listGroupIds(broker)) {
    const g = describeGroup(broker, id)
    const members = (g.memberList as Array<{ assignment: AssignedPartitions[] | null }>).filter((m) =>
      m.assignment?.some((a) => a.stream === stream),
    )
    const committed = (g.partitions as Array<{ stream: string; lag: number }>).filter((p) => p.stream === stream)
    if (members.length === 0 && committed.length === 0) continue
    const lag = committed.reduce((n, p) => n + p.lag, 0)
    groups.push({ group: id, state: g.state, members, lag })
  }
  const queues = [...broker.stream(stream).queues].map((q) => ({ queue: q.name, consumers: q.queueStats().consumers }))
  return { stream, groups, queues }
}

export function listGroupIds(broker: Broker): string[] {
  const ids = new Set(broker.groups.list().map((g) => g.groupId))
  for (const id of broker.committedGroups()) ids.add(id)
  return [...ids].sort()
}

async function resetOffsets(
  broker: Broker,
  group: string,
  input: Record<string, unknown>,
): Promise<Array<{ partition: number; offset: number }>> {
  const state = broker.groups.describe(group).state
  if (state !== 'Empty' && state !== 'Dead')
    throw new WharfError(
      'PRECONDITION_FAILED',
      `group '${group}' has active members (state ${state}); stop its consumers first`,
    )
  if (typeof input.stream !== 'string') throw bad('stream is required')
  const stream = broker.stream(input.stream)
  const to = input.to
  const results: Array<{ partition: number; offset: number }> = []
  for (let partition = 0; partition < stream.partitions.length; partition++) {
    const log = stream.partitions[partition]!
    let offset: number
    if (to === 'earliest') offset = log.logStartOffset
    else if (to === 'latest') offset = log.highWatermark
    else if (to === 'offset' && Number.isInteger(input.offset))
      offset = Math.min(Math.max(input.offset as number, log.logStartOffset), log.highWatermark)
    else if (to === 'timestamp' && Number.isFinite(input.timestamp))
      offset = (await log.offsetForTimestamp(input.timestamp as number)) ?? log.highWatermark
    else throw bad('to must be earliest, latest, offset (with offset) or timestamp (with timestamp)')
    await broker.commitOffset(group, stream.name, partition, offset)
    results.push({ partition, offset })
  }
  return results
}

export function registerGroupRoutes({ broker, route, authorize }: AdminContext): void {
  route('GET', '/groups', (r) => pageMap(listGroupIds(broker), query(r), (g) => describeGroup(broker, g)))
  route('GET', '/groups/:group', (r) => {
    authorize(r, 'Describe', 'Group', params(r).group!)
    return describeGroup(broker, params(r).group!)
  })
  route('POST', '/groups/:group/reset', async (r) => {
    const group = params(r).group!
    const input = body(r)
    authorize(r, 'Read', 'Group', group)
    if (typeof input.stream === 'string') authorize(r, 'Read', 'Topic', input.stream)
    return { group, offsets: await resetOffsets(broker, group, input) }
  })
}
