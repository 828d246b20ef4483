// What ApiVersions advertises: exactly the version ranges the handlers implement. Clients pick
// min(their max, ours), so these caps decide what each client speaks (see ../shared/notes/kafka.md §a).
// kafka-python guesses the broker release from this list: DescribeAcls v2 makes it "2.5", which changes nothing it
// sends (it caps Produce at v7 from 2.1 on).
import { ApiKey } from './codec/index.js'

export const supportedVersions: ReadonlyMap<number, readonly [min: number, max: number]> = new Map([
  // Produce v0-2 are advertised but only answer UNSUPPORTED_FOR_MESSAGE_FORMAT per partition (they carry magic
  // 0/1 message sets): librdkafka enables gzip/snappy/lz4 only when the broker's Produce range reaches v0
  // (rdkafka_msgset_writer.c), and otherwise silently sends uncompressed batches.
  [ApiKey.Produce, [0, 9]],
  // Fetch v7+ sessions (KIP-227), v13+ topic ids (KIP-516); v16+ would owe KIP-951 leader endpoints with
  // NOT_LEADER_OR_FOLLOWER (answered while shutting down), so it stops at 15.
  [ApiKey.Fetch, [4, 15]],
  [ApiKey.ListOffsets, [1, 7]],
  // v10+ topic ids, v12 topics named by id.
  [ApiKey.Metadata, [0, 12]],
  [ApiKey.OffsetCommit, [2, 8]],
  [ApiKey.OffsetFetch, [1, 8]],
  [ApiKey.FindCoordinator, [0, 4]],
  [ApiKey.JoinGroup, [0, 7]],
  [ApiKey.Heartbeat, [0, 4]],
  [ApiKey.LeaveGroup, [0, 4]],
  [ApiKey.SyncGroup, [0, 5]],
  [ApiKey.DescribeGroups, [0, 5]],
  [ApiKey.ListGroups, [0, 4]],
  [ApiKey.SaslHandshake, [0, 1]],
  [ApiKey.ApiVersions, [0, 3]],
  [ApiKey.CreateTopics, [0, 7]],
  [ApiKey.DeleteTopics, [0, 6]],
  [ApiKey.DeleteRecords, [0, 2]],
  [ApiKey.InitProducerId, [0, 4]],
  [ApiKey.DescribeConfigs, [0, 4]],
  [ApiKey.AlterConfigs, [0, 2]],
  [ApiKey.SaslAuthenticate, [0, 2]],
  [ApiKey.CreatePartitions, [0, 3]],
  [ApiKey.DeleteGroups, [0, 2]],
  [ApiKey.DescribeAcls, [0, 3]],
  [ApiKey.CreateAcls, [0, 3]],
  [ApiKey.DeleteAcls, [0, 3]],
  [ApiKey.DescribeUserScramCredentials, [0, 0]],
  [ApiKey.AlterUserScramCredentials, [0, 0]],
  [ApiKey.DescribeClientQuotas, [0, 1]],
  [ApiKey.AlterClientQuotas, [0, 1]],
  [ApiKey.OffsetForLeaderEpoch, [0, 4]],
  [ApiKey.IncrementalAlterConfigs, [0, 1]],
  // Transactions (KIP-98). AddPartitionsToTxn v4+ is the broker-to-broker batched form and EndTxn /
  // TxnOffsetCommit v4+ carry KIP-890's server-side epoch bump: not served.
  [ApiKey.AddPartitionsToTxn, [0, 3]],
  [ApiKey.AddOffsetsToTxn, [0, 3]],
  [ApiKey.EndTxn, [0, 3]],
  [ApiKey.TxnOffsetCommit, [0, 3]],
  [ApiKey.DescribeProducers, [0, 0]],
  [ApiKey.DescribeTransactions, [0, 0]],
  [ApiKey.ListTransactions, [0, 1]],
])

export function isVersionSupported(apiKey: number, version: number): boolean {
  const range = supportedVersions.get(apiKey)
  return range !== undefined && version >= range[0] && version <= range[1]
}

export const advertisedApiKeys = [...supportedVersions]
  .sort((a, b) => a[0] - b[0])
  .map(([apiKey, [minVersion, maxVersion]]) => ({ apiKey, minVersion, maxVersion }))
