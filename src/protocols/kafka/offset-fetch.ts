// OffsetFetch: a group's committed offsets, each version's shape (v8+ asks for several groups at once). Describe
// Group to read them; topics the principal may not Describe are refused by name or left out of "all".

import type { OffsetFetchRequest, OffsetFetchResponse } from './codec/index.js'
import type { Connection } from './connection.js'
import { groupErrorCode, KafkaError } from './errors.js'
import { groupRefusal } from './group-loads.js'

type FetchTopics = Array<{ name?: string; partitionIndexes?: number[] }> | null | undefined

/** A committed offset as OffsetFetch answers it. */
interface FetchedOffset {
  partitionIndex: number
  committedOffset: number
  committedLeaderEpoch: number
  metadata: string
  errorCode: number
}

/**
 * OffsetFetch of a group. With require_stable (v7+; librdkafka sets it for read_committed consumers) a partition
 * whose offset an open transaction holds answers UNSTABLE_OFFSET_COMMIT, which the client retries, instead of
 * the offset before the transaction (Kafka's GroupMetadataManager.getOffsets).
 */
function fetchGroupOffsets(c: Connection, groupId: string, topics: FetchTopics, requireStable: boolean) {
  const named = (topics ?? []).map((t) => ({ name: t.name ?? '', partitions: t.partitionIndexes ?? [] }))
  const failed = (errorCode: number, partitions: number[]): FetchedOffset[] =>
    partitions.map((partitionIndex) => ({
      partitionIndex,
      committedOffset: -1,
      committedLeaderEpoch: -1,
      metadata: '',
      errorCode,
    }))
  const refused = c.allows('Describe', 'Group', groupId)
    ? groupRefusal(c.server, groupId)
    : KafkaError.GROUP_AUTHORIZATION_FAILED
  if (refused !== KafkaError.NONE)
    return {
      errorCode: refused,
      topics: named.map((t) => ({ name: t.name, partitions: failed(refused, t.partitions) })),
    }
  // Topics the principal may not Describe: named ones answer TOPIC_AUTHORIZATION_FAILED, "all" leaves them out.
  const visible = (topic: string) => c.allows('Describe', 'Topic', topic)
  const wanted =
    topics == null
      ? null
      : named
          .filter((t) => visible(t.name))
          .flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })))
  const res = c.server.broker.groups.fetchOffsets(groupId, wanted)
  const pending = requireStable ? c.server.broker.producerTransactions.records.pendingOffsets(groupId) : null
  const byTopic = new Map<string, FetchedOffset[]>()
  for (const t of named)
    if (!visible(t.name)) byTopic.set(t.name, failed(KafkaError.TOPIC_AUTHORIZATION_FAILED, t.partitions))
  for (const p of res.partitions) {
    if (!visible(p.topic)) continue
    let list = byTopic.get(p.topic)
    if (list === undefined) {
      list = []
      byTopic.set(p.topic, list)
    }
    if (pending?.has(`${p.topic}\u0000${p.partition}`))
      list.push(...failed(KafkaError.UNSTABLE_OFFSET_COMMIT, [p.partition]))
    else
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

export async function handleOffsetFetch(
  c: Connection,
  req: OffsetFetchRequest,
  version: number,
): Promise<OffsetFetchResponse> {
  // On a cluster the offsets an open transaction holds are stored by its coordinator, any broker, before it
  // answers TxnOffsetCommit: catch up with the catalog, so a consumer asking after that answer sees them.
  if (req.requireStable === true && c.server.broker.cluster !== undefined) await c.server.broker.catalogCaughtUp()
  if (version >= 8) {
    const groups = (req.groups ?? []).map((g) => ({
      groupId: g.groupId ?? '',
      ...fetchGroupOffsets(c, g.groupId ?? '', g.topics, req.requireStable === true),
    }))
    return { throttleTimeMs: 0, groups }
  }
  // v1 has no "all topics" null; v2+ accept null.
  const { errorCode, topics } = fetchGroupOffsets(c, req.groupId ?? '', req.topics, req.requireStable === true)
  return { throttleTimeMs: 0, topics, errorCode: version >= 2 ? errorCode : undefined }
}
