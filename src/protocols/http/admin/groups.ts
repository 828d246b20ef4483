// REST admin routes for consumer groups: list and describe with members and per-partition lag, offset reset
// (of every partition or one) and delete of an empty group. describeGroup and listGroupIds also feed the lag
// gauge in metrics.ts; streamConsumers answers who reads one stream.
// ACL: Describe on the Group; a reset needs Read on the Group and on the Topic, as Kafka's OffsetCommit;
// delete needs Delete on the Group, as Kafka's DeleteGroups.
import type { Broker } from '../../../broker/broker.js'
import { WharfError } from '../../../util/errors.js'
import { type AdminContext, bad, body, pageMap, params, query, sendAdminError } from './context.js'

function groupLag(
  broker: Broker,
  group: string,
): Array<{ stream: string; partition: number; committed: number | null; highWatermark: number; lag: number }> {
  const streams = new Set<string>()
  for (const { stream } of broker.log.partitions(group)) if (broker.getStream(stream) !== undefined) streams.add(stream)
  return [...streams].sort().flatMap((stream) =>
    broker.log
      .lag(group, stream)
      .filter((p) => p.committed !== null)
      .map((p) => ({ stream, ...p, lag: Math.max(0, p.lag) })),
  )
}

/**
 * The partitions a Kafka consumer-protocol assignment names (ConsumerProtocolAssignment, every version:
 * int16 version, then [topic: int16-length string, partitions: int32 array]). Undefined for other group
 * protocols or bytes that do not parse; the broker keeps the assignment opaque, only this view reads it.
 */
export function consumerAssignment(bytes: Buffer): Array<{ stream: string; partitions: number[] }> | undefined {
  try {
    let at = 2
    const topics = bytes.readInt32BE(at)
    at += 4
    if (topics < 0 || topics > bytes.length) return undefined
    const out: Array<{ stream: string; partitions: number[] }> = []
    for (let i = 0; i < topics; i++) {
      const length = bytes.readInt16BE(at)
      at += 2
      if (length < 0 || at + length > bytes.length) return undefined
      const stream = bytes.toString('utf8', at, at + length)
      at += length
      const count = bytes.readInt32BE(at)
      at += 4
      if (count < 0 || at + count * 4 > bytes.length) return undefined
      const partitions: number[] = []
      for (let j = 0; j < count; j++, at += 4) partitions.push(bytes.readInt32BE(at))
      out.push({ stream, partitions })
    }
    return out
  } catch {
    return undefined
  }
}

export function describeGroup(broker: Broker, group: string): Record<string, unknown> {
  const described = broker.groups.describe(group)
  const memberDetails = described.members.map((m) => ({
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    assignment:
      described.protocolType === 'consumer' && m.assignment.length > 0 ? (consumerAssignment(m.assignment) ?? []) : [],
  }))
  const ownerOf = new Map<string, string>()
  for (const m of memberDetails)
    for (const a of m.assignment) for (const p of a.partitions) ownerOf.set(`${a.stream}\0${p}`, m.memberId)
  const partitions = groupLag(broker, group).map((p) => ({
    ...p,
    memberId: ownerOf.get(`${p.stream}\0${p.partition}`) ?? null,
  }))
  return {
    group,
    state: described.state,
    protocolType: described.protocolType,
    members: described.members.length,
    memberDetails,
    lag: partitions.reduce((sum, p) => sum + p.lag, 0),
    partitions,
  }
}

/**
 * Who reads a stream: the consumer groups with a committed offset on it or a member assigned one of its
 * partitions (with those members), and the queues that read it.
 */
export function streamConsumers(broker: Broker, stream: string): Record<string, unknown> {
  const queues = [...broker.stream(stream).queues].map((q) => ({ queue: q.name, consumers: q.queueStats().consumers }))
  const groups = []
  for (const id of listGroupIds(broker)) {
    const g = describeGroup(broker, id)
    const members = (g.memberDetails as Array<{ assignment: Array<{ stream: string }> }>).filter((m) =>
      m.assignment.some((a) => a.stream === stream),
    )
    const committed = (g.partitions as Array<{ stream: string; lag: number }>).filter((p) => p.stream === stream)
    if (members.length === 0 && committed.length === 0) continue
    groups.push({ group: id, state: g.state, members, lag: committed.reduce((n, p) => n + p.lag, 0) })
  }
  return { stream, groups, queues }
}

export function listGroupIds(broker: Broker): string[] {
  const ids = new Set(broker.groups.list().map((g) => g.groupId))
  for (const id of broker.log.groups()) ids.add(id)
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
  const only = input.partition
  if (
    only !== undefined &&
    (!Number.isInteger(only) || (only as number) < 0 || (only as number) >= stream.partitions.length)
  )
    throw bad(`partition must be an integer in [0, ${stream.partitions.length - 1}]`)
  const results: Array<{ partition: number; offset: number }> = []
  for (let partition = 0; partition < stream.partitions.length; partition++) {
    if (only !== undefined && partition !== only) continue
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
  route('DELETE', '/groups/:group', async (r, reply) => {
    const group = params(r).group!
    authorize(r, 'Delete', 'Group', group)
    const [result] = await broker.groups.deleteGroups([group])
    const error = result?.error ?? 'NONE'
    if (error === 'GROUP_ID_NOT_FOUND')
      return sendAdminError(reply, 404, 'GROUP_NOT_FOUND', `group '${group}' does not exist`)
    if (error === 'NON_EMPTY_GROUP')
      throw new WharfError('PRECONDITION_FAILED', `group '${group}' has active members; stop its consumers first`)
    if (error !== 'NONE') throw new WharfError('INVALID_ARGUMENT', `group '${group}' cannot be deleted: ${error}`)
    return { deleted: group }
  })
}
