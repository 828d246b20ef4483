// REST admin routes for consumer groups: list and describe with per-partition lag, and offset reset of an
// empty group. describeGroup and listGroupIds also feed the lag gauge in metrics.ts.
// ACL: Describe on the Group; a reset needs Read on the Group and on the Topic, as Kafka's OffsetCommit.
import type { Broker } from '../../../broker/broker.js'
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

export function describeGroup(broker: Broker, group: string): Record<string, unknown> {
  const described = broker.groups.describe(group)
  const partitions = groupLag(broker, group)
  return {
    group,
    state: described.state,
    protocolType: described.protocolType,
    members: described.members.length,
    lag: partitions.reduce((sum, p) => sum + p.lag, 0),
    partitions,
  }
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
