// Admin APIs: topics (create/delete/partitions/delete records) and configs. Authorization as Kafka: Create
// (cluster or topic) to create, Delete to delete topics or records, Alter to add partitions, DescribeConfigs
// and AlterConfigs on the topic (or the cluster, for broker configs).
import { validateStreamConfig } from '../../broker/config.js'
import { isWharfError } from '../../util/errors.js'
import { leaderRefusal, selfId } from './cluster.js'
import type {
  AlterConfigsRequest,
  AlterConfigsResponse,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  CreateTopicsResponseCreatableTopicResult,
  DeleteRecordsRequest,
  DeleteRecordsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  DescribeConfigsResponseDescribeConfigsResult,
} from './codec/index.js'
import { defaultMappedConfig, describeTopicConfigs, toStreamConfig } from './configs.js'
import type { Connection } from './connection.js'
import { DENIED, errorCodeOf, KafkaError } from './errors.js'
import { CLUSTER_RESOURCE, isValidTopicName, mayCreateTopic } from './metadata.js'
import { isZeroTopicId, topicIdOf, topicIdText, ZERO_TOPIC_ID } from './topic-ids.js'

export const ResourceType = { TOPIC: 2, BROKER: 4 } as const
/** DescribeConfigs configSource values. */
const ConfigSource = { DYNAMIC_TOPIC_CONFIG: 1, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const

export function messageOf(error: unknown): string | null {
  return isWharfError(error) ? error.message : null
}

// ---- CreateTopics ----

async function createOne(
  c: Connection,
  t: CreateTopicsRequest['topics'][number],
  validateOnly: boolean,
  version: number,
): Promise<CreateTopicsResponseCreatableTopicResult> {
  const { broker, options } = c.server
  const fail = (errorCode: number, errorMessage: string | null) => ({
    name: t.name,
    topicId: ZERO_TOPIC_ID,
    errorCode,
    errorMessage,
    numPartitions: -1,
    replicationFactor: -1,
    configs: version >= 5 ? null : undefined,
  })
  if (!mayCreateTopic(c, t.name)) return fail(KafkaError.TOPIC_AUTHORIZATION_FAILED, DENIED)
  if (!isValidTopicName(t.name)) return fail(KafkaError.INVALID_TOPIC_EXCEPTION, `Topic name '${t.name}' is illegal`)
  if (broker.getStream(t.name) !== undefined)
    return fail(KafkaError.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`)
  if (t.replicationFactor !== -1 && t.replicationFactor !== 1 && t.assignments.length === 0) {
    return fail(
      KafkaError.INVALID_REPLICATION_FACTOR,
      `Replication factor ${t.replicationFactor} is larger than the 1 available broker`,
    )
  }
  const partitions =
    t.assignments.length > 0
      ? t.assignments.length
      : t.numPartitions === -1
        ? options.defaultPartitions
        : t.numPartitions
  if (partitions < 1) return fail(KafkaError.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.')
  // In a cluster the controller places partitions on live brokers; a client may only name the one it asks.
  const self = selfId(broker)
  if (t.assignments.some((a) => a.brokerIds.some((id) => id !== self)))
    return fail(KafkaError.INVALID_REPLICA_ASSIGNMENT, `Only broker ${self} may be named`)
  try {
    const config = validateStreamConfig({ ...toStreamConfig(t.configs), partitions })
    const stream = validateOnly ? undefined : await broker.createStream(t.name, config)
    return {
      name: t.name,
      // v7+ (KIP-516); a validate-only create has no topic yet, so no id (as Kafka).
      topicId: stream === undefined ? ZERO_TOPIC_ID : topicIdOf(stream),
      errorCode: KafkaError.NONE,
      errorMessage: null,
      numPartitions: partitions,
      replicationFactor: 1,
      // v5+ echo the resulting configs (KIP-525).
      configs:
        version < 5
          ? undefined
          : describeTopicConfigs(config).map((d) => ({
              name: d.name,
              value: d.value,
              readOnly: d.readOnly,
              configSource: d.isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.DYNAMIC_TOPIC_CONFIG,
              isSensitive: false,
            })),
    }
  } catch (error) {
    return fail(errorCodeOf(error), messageOf(error))
  }
}

export async function handleCreateTopics(
  c: Connection,
  req: CreateTopicsRequest,
  version: number,
): Promise<CreateTopicsResponse> {
  const topics: CreateTopicsResponseCreatableTopicResult[] = []
  // One at a time: a request naming the same topic twice gets TOPIC_ALREADY_EXISTS for the second.
  for (const t of req.topics) topics.push(await createOne(c, t, req.validateOnly === true, version))
  return { throttleTimeMs: 0, topics }
}

// ---- DeleteTopics ----

export async function handleDeleteTopics(
  c: Connection,
  req: DeleteTopicsRequest,
  version: number,
): Promise<DeleteTopicsResponse> {
  // v6+ name each topic by name or by id (KIP-516); earlier versions by name only.
  const wanted =
    version >= 6
      ? (req.topics ?? []).map((t) => ({ name: t.name ?? null, topicId: t.topicId ?? ZERO_TOPIC_ID }))
      : (req.topicNames ?? []).map((name) => ({ name, topicId: ZERO_TOPIC_ID }))
  const responses: DeleteTopicsResponse['responses'] = []
  const resolve = c.server.topicIds.resolver()
  for (const { name: given, topicId } of wanted) {
    const byId = !isZeroTopicId(topicId)
    if (byId === (given !== null)) {
      const errorMessage = byId ? 'A topic is named by name or by id, not both.' : 'No topic name or id.'
      responses.push({ name: given, topicId, errorCode: KafkaError.INVALID_REQUEST, errorMessage })
      continue
    }
    const stream = byId ? resolve(topicId) : undefined
    // An unknown id and an id of a topic one may not Delete are the same answer: ids reveal no names.
    if (byId && (stream === undefined || !c.allows('Delete', 'Topic', stream.name))) {
      const errorMessage = `Topic id ${topicIdText(topicId)} not found.`
      responses.push({ name: null, topicId, errorCode: KafkaError.UNKNOWN_TOPIC_ID, errorMessage })
      continue
    }
    const name = stream?.name ?? given!
    const id = stream === undefined ? topicId : topicIdOf(stream)
    if (!c.allows('Delete', 'Topic', name)) {
      responses.push({ name, topicId: id, errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED, errorMessage: DENIED })
      continue
    }
    try {
      const deleted = c.server.broker.getStream(name)
      await c.server.broker.deleteStream(name)
      const deletedId = deleted === undefined ? id : topicIdOf(deleted)
      responses.push({ name, topicId: deletedId, errorCode: KafkaError.NONE, errorMessage: null })
    } catch (error) {
      responses.push({ name, topicId: id, errorCode: errorCodeOf(error), errorMessage: messageOf(error) })
    }
  }
  return { throttleTimeMs: 0, responses }
}

// ---- CreatePartitions ----

export async function handleCreatePartitions(
  c: Connection,
  req: CreatePartitionsRequest,
): Promise<CreatePartitionsResponse> {
  const results: CreatePartitionsResponse['results'] = []
  for (const t of req.topics) {
    if (!c.allows('Alter', 'Topic', t.name)) {
      results.push({ name: t.name, errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED, errorMessage: DENIED })
      continue
    }
    const stream = c.server.broker.getStream(t.name)
    if (stream === undefined) {
      results.push({
        name: t.name,
        errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `Topic '${t.name}' does not exist.`,
      })
      continue
    }
    if (t.count <= stream.partitions.length) {
      const errorMessage = `Topic currently has ${stream.partitions.length} partitions, which is higher than the requested ${t.count}.`
      results.push({ name: t.name, errorCode: KafkaError.INVALID_PARTITIONS, errorMessage })
      continue
    }
    try {
      if (req.validateOnly) validateStreamConfig({ partitions: t.count }, stream.config)
      else await c.server.broker.alterStream(t.name, { partitions: t.count })
      results.push({ name: t.name, errorCode: KafkaError.NONE, errorMessage: null })
    } catch (error) {
      results.push({
        name: t.name,
        errorCode: isWharfError(error, 'INVALID_CONFIG') ? KafkaError.INVALID_PARTITIONS : errorCodeOf(error),
        errorMessage: messageOf(error),
      })
    }
  }
  return { throttleTimeMs: 0, results }
}

// ---- DeleteRecords ----

export async function handleDeleteRecords(c: Connection, req: DeleteRecordsRequest): Promise<DeleteRecordsResponse> {
  const topics = await Promise.all(
    req.topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(
        t.partitions.map(async (p) => {
          if (!c.allows('Delete', 'Topic', t.name))
            return {
              partitionIndex: p.partitionIndex,
              lowWatermark: -1,
              errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED,
            }
          const stream = c.server.broker.getStream(t.name)
          const log = stream?.partitions[p.partitionIndex]
          if (log === undefined)
            return {
              partitionIndex: p.partitionIndex,
              lowWatermark: -1,
              errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
            }
          const notLeader = leaderRefusal(c.server.broker, stream!, p.partitionIndex)
          if (notLeader !== KafkaError.NONE)
            return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: notLeader }
          try {
            // -1 means "up to the high watermark" (Kafka's DeleteRecordsRequest.HIGH_WATERMARK).
            await log.deleteRecordsBefore(p.offset === -1 ? log.highWatermark : p.offset)
            return { partitionIndex: p.partitionIndex, lowWatermark: log.logStartOffset, errorCode: KafkaError.NONE }
          } catch (error) {
            return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: errorCodeOf(error) }
          }
        }),
      ),
    })),
  )
  return { throttleTimeMs: 0, topics }
}

// ---- DescribeConfigs / AlterConfigs ----

/** Topic configs are guarded on the topic, broker configs on the cluster; undefined when allowed. */
export function authorizeConfigs(
  c: Connection,
  operation: 'DescribeConfigs' | 'AlterConfigs',
  resourceType: number,
  resourceName: string,
): { errorCode: number; errorMessage: string } | undefined {
  if (resourceType === ResourceType.TOPIC)
    return c.allows(operation, 'Topic', resourceName)
      ? undefined
      : { errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED, errorMessage: DENIED }
  if (resourceType === ResourceType.BROKER)
    return c.allows(operation, 'Cluster', CLUSTER_RESOURCE)
      ? undefined
      : { errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED }
  return undefined
}

function brokerConfigs(c: Connection): Array<{ name: string; value: string }> {
  const { options } = c.server
  return [
    { name: 'auto.create.topics.enable', value: String(options.autoCreateTopics) },
    { name: 'num.partitions', value: String(options.defaultPartitions) },
    { name: 'default.replication.factor', value: '1' },
    { name: 'offsets.topic.replication.factor', value: '1' },
    { name: 'broker.id', value: String(selfId(c.server.broker)) },
    { name: 'socket.request.max.bytes', value: String(options.frameBytesMax) },
    { name: 'sasl.server.max.receive.size', value: String(options.saslFrameBytesMax) },
    // Kafka's -1 is "never"; Wharf's setting says it with 0.
    { name: 'connections.max.idle.ms', value: String(options.connectionsMaxIdleMs || -1) },
  ]
}

function describeResource(
  c: Connection,
  r: DescribeConfigsRequest['resources'][number],
  version: number,
): DescribeConfigsResponseDescribeConfigsResult {
  const base = {
    errorCode: KafkaError.NONE,
    errorMessage: null,
    resourceType: r.resourceType,
    resourceName: r.resourceName,
  }
  const wanted = (name: string) =>
    r.configurationKeys === null || r.configurationKeys.length === 0 || r.configurationKeys.includes(name)
  const denial = authorizeConfigs(c, 'DescribeConfigs', r.resourceType, r.resourceName)
  if (denial !== undefined) return { ...base, ...denial, configs: [] }
  if (r.resourceType === ResourceType.TOPIC) {
    const stream = c.server.broker.getStream(r.resourceName)
    if (stream === undefined)
      return {
        ...base,
        errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `Topic '${r.resourceName}' does not exist.`,
        configs: [],
      }
    const configs = describeTopicConfigs(stream.config)
      .filter((d) => wanted(d.name))
      .map((d) => ({
        name: d.name,
        value: d.value,
        readOnly: d.readOnly,
        isDefault: version === 0 ? d.isDefault : undefined,
        configSource:
          version >= 1 ? (d.isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.DYNAMIC_TOPIC_CONFIG) : undefined,
        isSensitive: false,
        synonyms: [],
        configType: version >= 3 ? d.type : undefined,
      }))
    return { ...base, configs }
  }
  if (r.resourceType === ResourceType.BROKER) {
    const configs = brokerConfigs(c)
      .filter((d) => wanted(d.name))
      .map((d) => ({
        name: d.name,
        value: d.value,
        readOnly: true,
        isDefault: version === 0 ? false : undefined,
        configSource: version >= 1 ? ConfigSource.STATIC_BROKER_CONFIG : undefined,
        isSensitive: false,
        synonyms: [],
      }))
    return { ...base, configs }
  }
  return {
    ...base,
    errorCode: KafkaError.INVALID_REQUEST,
    errorMessage: `Unsupported resource type ${r.resourceType}`,
    configs: [],
  }
}

export function handleDescribeConfigs(
  c: Connection,
  req: DescribeConfigsRequest,
  version: number,
): DescribeConfigsResponse {
  return { throttleTimeMs: 0, results: req.resources.map((r) => describeResource(c, r, version)) }
}

export async function handleAlterConfigs(c: Connection, req: AlterConfigsRequest): Promise<AlterConfigsResponse> {
  const responses: AlterConfigsResponse['responses'] = []
  for (const r of req.resources) {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName }
    const denial = authorizeConfigs(c, 'AlterConfigs', r.resourceType, r.resourceName)
    if (denial !== undefined) {
      responses.push({ ...base, ...denial })
      continue
    }
    if (r.resourceType !== ResourceType.TOPIC) {
      responses.push({
        ...base,
        errorCode: KafkaError.INVALID_REQUEST,
        errorMessage: 'Only topic configs can be altered',
      })
      continue
    }
    const stream = c.server.broker.getStream(r.resourceName)
    if (stream === undefined) {
      responses.push({
        ...base,
        errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `Topic '${r.resourceName}' does not exist.`,
      })
      continue
    }
    try {
      // AlterConfigs (non-incremental) replaces the topic's whole config: what it does not name reverts to defaults.
      const changes = { ...defaultMappedConfig(), ...toStreamConfig(r.configs) }
      if (req.validateOnly) validateStreamConfig(changes, stream.config)
      else await c.server.broker.alterStream(r.resourceName, changes)
      responses.push({ ...base, errorCode: KafkaError.NONE, errorMessage: null })
    } catch (error) {
      responses.push({ ...base, errorCode: errorCodeOf(error), errorMessage: messageOf(error) })
    }
  }
  return { throttleTimeMs: 0, responses }
}
