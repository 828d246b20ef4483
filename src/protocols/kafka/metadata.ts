// ApiVersions and Metadata, and the cluster identity (cluster id, topic name rule) that the group and admin
// handlers answer with too. Which brokers exist and who leads what comes from cluster.ts.
import type { Broker } from '../../broker/broker.js'
import type { Stream } from '../../broker/stream/stream.js'
import { kafkaNodes, partitionLeader, selfId } from './cluster.js'
import type {
  ApiVersionsRequest,
  ApiVersionsResponse,
  MetadataRequest,
  MetadataResponse,
  MetadataResponseMetadataResponseTopic,
} from './codec/index.js'
import type { Connection } from './connection.js'
import { KafkaError } from './errors.js'
import { isZeroTopicId, topicIdOf, ZERO_TOPIC_ID } from './topic-ids.js'
import { advertisedApiKeys } from './versions.js'

export { NODE_ID } from './cluster.js'
export const CLUSTER_ID = 'wharf-cluster'
/** The name of the Cluster resource in ACL rules (Kafka's). */
export const CLUSTER_RESOURCE = 'kafka-cluster'
/** Kafka's topic name rule (Topic.java): legal characters and length. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/

export function isValidTopicName(name: string): boolean {
  return TOPIC_NAME.test(name) && name !== '.' && name !== '..'
}

// ---- ApiVersions ----

export function handleApiVersions(c: Connection, request: ApiVersionsRequest): ApiVersionsResponse {
  // Kept for the admin API's connection list (v3+ carries them; empty strings mean "not given").
  if (request.clientSoftwareName) c.clientSoftwareName = request.clientSoftwareName
  if (request.clientSoftwareVersion) c.clientSoftwareVersion = request.clientSoftwareVersion
  return { errorCode: KafkaError.NONE, apiKeys: advertisedApiKeys, throttleTimeMs: 0 }
}

// ---- Metadata ----

function topicMetadata(broker: Broker, stream: Stream): MetadataResponseMetadataResponseTopic {
  return {
    errorCode: KafkaError.NONE,
    name: stream.name,
    topicId: topicIdOf(stream),
    isInternal: false,
    partitions: stream.partitions.map((_log, partitionIndex) => {
      // Replicas are the leader alone: the storage, not the brokers, keeps the copies.
      const leader = partitionLeader(broker, stream, partitionIndex)
      return {
        errorCode: leader.errorCode,
        partitionIndex,
        leaderId: leader.leaderId,
        leaderEpoch: leader.leaderEpoch,
        replicaNodes: leader.replicas,
        isrNodes: leader.replicas,
        offlineReplicas: [],
      }
    }),
  }
}

function missingTopic(
  name: string | null,
  errorCode: number,
  topicId = ZERO_TOPIC_ID,
): MetadataResponseMetadataResponseTopic {
  return { errorCode, name, topicId, isInternal: false, partitions: [] }
}

export async function handleMetadata(c: Connection, req: MetadataRequest, version: number): Promise<MetadataResponse> {
  const { broker, options } = c.server
  const base = {
    throttleTimeMs: 0,
    // The port this connection came in on: a TLS client learns the TLS port, a plaintext one the plaintext port.
    brokers: kafkaNodes(broker, { host: c.server.advertisedHost, port: c.advertisedPort }, c.tls).map((n) => ({
      ...n,
      rack: null,
    })),
    clusterId: CLUSTER_ID,
    // Any broker takes admin requests (the catalog is shared), so each names itself: the one the client asked.
    controllerId: selfId(broker),
  }
  // v0: an empty list means all topics; v1+: null means all, empty means none.
  const all = req.topics === null || (version === 0 && req.topics.length === 0)
  // Only the topics the principal may Describe are listed; a named one it may not is an authorization error.
  if (all)
    return {
      ...base,
      topics: broker
        .listStreams()
        .filter((s) => c.allows('Describe', 'Topic', s.name))
        .map((s) => topicMetadata(broker, s)),
    }
  // Metadata v0-v3 have no flag: the broker setting alone decides (Kafka behaves the same).
  const allowCreate = options.autoCreateTopics && (version < 4 || req.allowAutoTopicCreation !== false)
  const resolve = c.server.topicIds.resolver()
  const topics = await Promise.all(
    (req.topics ?? []).map(async ({ name, topicId }) => {
      // v12+ may name a topic by id instead (KIP-516); never by both. Unknown and undescribable ids are the
      // same answer, as in Kafka, so ids do not reveal which topics exist.
      if (!isZeroTopicId(topicId)) {
        if (name !== null || version < 12) return missingTopic(name, KafkaError.INVALID_REQUEST, topicId)
        const stream = resolve(topicId!)
        if (stream === undefined || !c.allows('Describe', 'Topic', stream.name))
          return missingTopic(null, KafkaError.UNKNOWN_TOPIC_ID, topicId)
        return topicMetadata(broker, stream)
      }
      if (name === null) return missingTopic('', KafkaError.UNKNOWN_TOPIC_OR_PARTITION)
      if (!c.allows('Describe', 'Topic', name)) return missingTopic(name, KafkaError.TOPIC_AUTHORIZATION_FAILED)
      const stream = broker.getStream(name)
      if (stream !== undefined) return topicMetadata(broker, stream)
      if (!isValidTopicName(name)) return missingTopic(name, KafkaError.INVALID_TOPIC_EXCEPTION)
      if (!allowCreate) return missingTopic(name, KafkaError.UNKNOWN_TOPIC_OR_PARTITION)
      // Auto-creation needs Create on the cluster or on the topic, as for CreateTopics.
      if (!mayCreateTopic(c, name)) return missingTopic(name, KafkaError.TOPIC_AUTHORIZATION_FAILED)
      try {
        return topicMetadata(
          broker,
          await broker.createStream(name, { partitions: options.defaultPartitions }, { ifNotExists: true }),
        )
      } catch (error) {
        c.logger.warn({ err: error, topic: name }, 'kafka auto topic creation failed')
        return missingTopic(name, KafkaError.LEADER_NOT_AVAILABLE)
      }
    }),
  )
  return { ...base, topics }
}

/** Kafka's rule for creating a topic (CreateTopics, auto-creation): Create on the cluster or on the topic. */
export function mayCreateTopic(c: Connection, name: string): boolean {
  return c.allows('Create', 'Cluster', CLUSTER_RESOURCE) || c.allows('Create', 'Topic', name)
}
