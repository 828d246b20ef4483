// OffsetCommit / OffsetFetch with Kafka's validation rules. Committed offsets live only in the OffsetStore
// (the broker's cursor store), never in the coordinator's memory, so groups without members keep them.
import type { Group } from './group.js'
import type { CommitRequest, CommitResponse, FetchResponse, GroupError, OffsetStore } from './types.js'

/** The part of the coordinator a commit needs (kept structural to avoid an import cycle). */
export interface CommitContext {
  readonly groups: ReadonlyMap<string, Group>
  readonly offsets: OffsetStore
  readonly maxMetadataBytes: number
  touch(group: Group, memberId: string): void
}

/**
 * Kafka's validateOffsetCommit. Generation -1 marks a "simple" commit (assign() consumers, admin tools):
 * allowed while the group has no members; otherwise the member must be current and not mid-assignment.
 * A transactional commit (TxnOffsetCommit v3+, KIP-447) is checked only when it names a member, a generation
 * or an instance (older versions carry none), and not against a rebalance in progress, as in Kafka.
 */
export function validateCommit(
  ctx: CommitContext,
  req: Omit<CommitRequest, 'offsets'>,
  transactional = false,
): GroupError {
  if (transactional && req.generationId < 0 && req.memberId === '' && req.groupInstanceId === null) return 'NONE'
  const group = ctx.groups.get(req.groupId)
  if (group === undefined) {
    if (req.generationId < 0) return 'NONE'
    // A group known only by its committed offsets is Empty: no member can be current in it.
    return ctx.offsets.listPartitions(req.groupId).length > 0 ? 'UNKNOWN_MEMBER_ID' : 'ILLEGAL_GENERATION'
  }
  if (group.isFenced(req.memberId, req.groupInstanceId)) return 'FENCED_INSTANCE_ID'
  if (req.generationId < 0 && group.state === 'Empty') return 'NONE'
  if (!group.members.has(req.memberId)) return 'UNKNOWN_MEMBER_ID'
  if (req.generationId !== group.generationId) return 'ILLEGAL_GENERATION'
  if (transactional) return 'NONE'
  // The member does not know its partitions yet; PreparingRebalance is fine (the heartbeat tells it to rejoin).
  if (group.state === 'CompletingRebalance') return 'REBALANCE_IN_PROGRESS'
  ctx.touch(group, req.memberId)
  return 'NONE'
}

export async function commitOffsets(ctx: CommitContext, req: CommitRequest): Promise<CommitResponse> {
  const error: GroupError = req.groupId === '' ? 'INVALID_GROUP_ID' : validateCommit(ctx, req)
  if (error !== 'NONE') {
    return { error, partitions: req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, error })) }
  }
  const pending = req.offsets.map(async (o): Promise<CommitResponse['partitions'][number]> => {
    const metadata = o.metadata ?? ''
    let partitionError: GroupError = 'NONE'
    if (Buffer.byteLength(metadata) > ctx.maxMetadataBytes) partitionError = 'OFFSET_METADATA_TOO_LARGE'
    // Offsets beyond 2^53 cannot be stored exactly as numbers; no real log gets there.
    else if (!Number.isSafeInteger(o.offset)) partitionError = 'INVALID_COMMIT_OFFSET_SIZE'
    else if (!ctx.offsets.topicExists(o.topic, o.partition)) partitionError = 'UNKNOWN_TOPIC_OR_PARTITION'
    else {
      try {
        await ctx.offsets.commit(req.groupId, o.topic, o.partition, o.offset, metadata)
      } catch {
        // Retriable for the client: it rediscovers the coordinator and commits again.
        partitionError = 'COORDINATOR_NOT_AVAILABLE'
      }
    }
    return { topic: o.topic, partition: o.partition, error: partitionError }
  })
  return { error: 'NONE', partitions: await Promise.all(pending) }
}

/** Partitions without a committed offset answer -1 (null partitions = every partition the group committed). */
export function fetchOffsets(
  offsets: OffsetStore,
  groupId: string,
  partitions: Array<{ topic: string; partition: number }> | null,
): FetchResponse {
  if (groupId === '') return { error: 'INVALID_GROUP_ID', partitions: [] }
  const wanted = partitions ?? offsets.listPartitions(groupId)
  return {
    error: 'NONE',
    partitions: wanted.map(({ topic, partition }) => {
      const committed = offsets.fetch(groupId, topic, partition)
      return {
        topic,
        partition,
        offset: committed?.offset ?? -1,
        metadata: committed?.metadata ?? '',
        error: 'NONE' as const,
      }
    }),
  }
}
