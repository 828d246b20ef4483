// OffsetForLeaderEpoch (KIP-101/KIP-320): a consumer that learns leader epochs from Metadata asks, after a
// leader change, where the epoch it last fetched ends, to detect log truncation. The current epoch is 0 on a
// single broker and the owner's fencing epoch in a cluster (cluster.ts). A Wharf log is never truncated (a
// fenced former owner's appends are refused, not written and undone), so every epoch up to the current one
// ends, as far as a consumer can tell, at the log end: no consumer position is ever past it.

import { leaderEpochOf, leaderRefusal } from './cluster.js'
import type {
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
  OffsetForLeaderEpochResponseEpochEndOffset,
} from './codec/index.js'
import type { Connection } from './connection.js'
import { KafkaError } from './errors.js'
import { CLUSTER_RESOURCE } from './metadata.js'

/** Kafka's "no epoch" and "no offset" answers (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET). */
const UNDEFINED_EPOCH = -1
const UNDEFINED_OFFSET = -1
/** replicaId of a consumer (v3+); any other id is a follower, which needs ClusterAction. */
const CONSUMER_REPLICA_ID = -1

export function handleOffsetForLeaderEpoch(
  c: Connection,
  req: OffsetForLeaderEpochRequest,
): OffsetForLeaderEpochResponse {
  const follower = (req.replicaId ?? CONSUMER_REPLICA_ID) !== CONSUMER_REPLICA_ID
  const clusterDenied = follower && !c.allows('ClusterAction', 'Cluster', CLUSTER_RESOURCE)
  const topics = req.topics.map((t) => {
    const denied = clusterDenied || (!follower && !c.allows('Describe', 'Topic', t.topic))
    const stream = c.server.broker.getStream(t.topic)
    return {
      topic: t.topic,
      partitions: t.partitions.map((p): OffsetForLeaderEpochResponseEpochEndOffset => {
        const fail = (errorCode: number) => ({
          errorCode,
          partition: p.partition,
          leaderEpoch: UNDEFINED_EPOCH,
          endOffset: UNDEFINED_OFFSET,
        })
        if (denied)
          return fail(clusterDenied ? KafkaError.CLUSTER_AUTHORIZATION_FAILED : KafkaError.TOPIC_AUTHORIZATION_FAILED)
        const log = stream?.partitions[p.partition]
        if (log === undefined) return fail(KafkaError.UNKNOWN_TOPIC_OR_PARTITION)
        const notLeader = leaderRefusal(c.server.broker, stream!, p.partition)
        if (notLeader !== KafkaError.NONE) return fail(notLeader)
        const epoch = leaderEpochOf(c.server.broker, stream!, p.partition)
        // The asker's idea of the current epoch (v2+, -1 = not given): newer than ours is UNKNOWN_LEADER_EPOCH
        // (our metadata lags, retriable), older is FENCED_LEADER_EPOCH (theirs does: refresh metadata).
        const current = p.currentLeaderEpoch ?? -1
        if (current > epoch) return fail(KafkaError.UNKNOWN_LEADER_EPOCH)
        if (current !== -1 && current < epoch) return fail(KafkaError.FENCED_LEADER_EPOCH)
        // Kafka's LeaderEpochFileCache.endOffsetFor: an epoch above the current one, or none (-1), has no end
        // offset; the others end at the log end here (see the top of this file).
        if (p.leaderEpoch < 0 || p.leaderEpoch > epoch)
          return { errorCode: KafkaError.NONE, partition: p.partition, leaderEpoch: UNDEFINED_EPOCH, endOffset: -1 }
        return {
          errorCode: KafkaError.NONE,
          partition: p.partition,
          leaderEpoch: p.leaderEpoch,
          endOffset: log.highWatermark,
        }
      }),
    }
  })
  return { throttleTimeMs: 0, topics }
}
