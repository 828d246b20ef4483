// The data plane: ApiVersions, Metadata, Produce, Fetch, ListOffsets, InitProducerId. Stored RecordBatches
// pass through untouched in both directions (produce appends the client's batch, fetch returns stored bytes).
import type { Stream } from '../../broker/stream/stream.js'
import { splitBatches } from '../../record/index.js'
import { isWharfError } from '../../util/errors.js'
import type {
  ApiVersionsRequest,
  ApiVersionsResponse,
  FetchRequest,
  FetchResponse,
  FetchResponsePartitionData,
  InitProducerIdRequest,
  InitProducerIdResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  ListOffsetsResponseListOffsetsPartitionResponse,
  MetadataRequest,
  MetadataResponse,
  MetadataResponseMetadataResponseTopic,
  ProduceRequest,
  ProduceResponse,
  ProduceResponsePartitionProduceResponse,
} from './codec/index.js'
import { type Connection, NO_RESPONSE } from './connection.js'
import { errorCodeOf, KafkaError } from './errors.js'
import { advertisedApiKeys } from './versions.js'

/** Empty record set: librdkafka rejects a null (-1) record set size in Fetch responses. */
const NO_RECORDS = Buffer.alloc(0)

/** The single broker every Metadata/FindCoordinator answer names. */
export const NODE_ID = 0
export const CLUSTER_ID = 'wharf-cluster'
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

function topicMetadata(stream: Stream): MetadataResponseMetadataResponseTopic {
  return {
    errorCode: KafkaError.NONE,
    name: stream.name,
    isInternal: false,
    partitions: stream.partitions.map((_log, partitionIndex) => ({
      errorCode: KafkaError.NONE,
      partitionIndex,
      leaderId: NODE_ID,
      leaderEpoch: 0,
      replicaNodes: [NODE_ID],
      isrNodes: [NODE_ID],
      offlineReplicas: [],
    })),
  }
}

function missingTopic(name: string, errorCode: number): MetadataResponseMetadataResponseTopic {
  return { errorCode, name, isInternal: false, partitions: [] }
}

export async function handleMetadata(c: Connection, req: MetadataRequest, version: number): Promise<MetadataResponse> {
  const { broker, options } = c.server
  const base = {
    throttleTimeMs: 0,
    brokers: [{ nodeId: NODE_ID, host: c.server.advertisedHost, port: c.server.advertisedPort, rack: null }],
    clusterId: CLUSTER_ID,
    controllerId: NODE_ID,
  }
  // v0: an empty list means all topics; v1+: null means all, empty means none.
  const all = req.topics === null || (version === 0 && req.topics.length === 0)
  if (all) return { ...base, topics: broker.listStreams().map(topicMetadata) }
  // Metadata v0-v3 have no flag: the broker setting alone decides (Kafka behaves the same).
  const allowCreate = options.autoCreateTopics && (version < 4 || req.allowAutoTopicCreation !== false)
  const topics = await Promise.all(
    (req.topics ?? []).map(async ({ name }) => {
      if (name === null) return missingTopic('', KafkaError.UNKNOWN_TOPIC_OR_PARTITION)
      const stream = broker.getStream(name)
      if (stream !== undefined) return topicMetadata(stream)
      if (!isValidTopicName(name)) return missingTopic(name, KafkaError.INVALID_TOPIC_EXCEPTION)
      if (!allowCreate) return missingTopic(name, KafkaError.UNKNOWN_TOPIC_OR_PARTITION)
      try {
        return topicMetadata(
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

// ---- Produce ----

function produceError(index: number, error: unknown): ProduceResponsePartitionProduceResponse {
  const errorMessage = isWharfError(error) ? error.message : null
  return { index, errorCode: errorCodeOf(error), baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, errorMessage }
}

async function appendOne(c: Connection, topic: string, index: number, records: Buffer | Buffer[] | null) {
  const stream = c.server.broker.getStream(topic)
  if (stream === undefined || index < 0 || index >= stream.partitions.length) {
    return {
      index,
      errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
      baseOffset: -1,
      logAppendTimeMs: -1,
      logStartOffset: -1,
    }
  }
  const bytes = records === null ? null : Array.isArray(records) ? Buffer.concat(records) : records
  if (bytes === null || bytes.length === 0)
    return { index, errorCode: KafkaError.CORRUPT_MESSAGE, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 }
  let batch: Buffer
  try {
    const batches = splitBatches(bytes)
    // Produce v3+ carries exactly one batch per partition (ProduceRequest.validateRecords).
    if (batches.length !== 1)
      return {
        index,
        errorCode: KafkaError.INVALID_RECORD,
        baseOffset: -1,
        logAppendTimeMs: -1,
        logStartOffset: -1,
        errorMessage: 'exactly one record batch per partition',
      }
    batch = batches[0]!
  } catch (error) {
    return produceError(index, error)
  }
  // Called synchronously in request order: offsets (and idempotent sequence checks) follow the wire order.
  const appended = c.server.broker.appendRawBatch(topic, index, batch)
  try {
    const result = await appended
    // A duplicate (idempotent retry) is a success carrying the original offset, as Kafka answers it.
    return {
      index,
      errorCode: KafkaError.NONE,
      baseOffset: result.baseOffset,
      logAppendTimeMs: -1,
      logStartOffset: result.logStartOffset,
    }
  } catch (error) {
    return produceError(index, error)
  }
}

/** The same error for every partition of a request (whole-request refusals). */
function failAll(req: ProduceRequest, errorCode: number): ProduceResponse {
  const responses = req.topicData.map((t) => ({
    name: t.name,
    partitionResponses: t.partitionData.map((p) => ({ index: p.index, errorCode, baseOffset: -1 })),
  }))
  return { responses, throttleTimeMs: 0 }
}

export function handleProduce(
  c: Connection,
  req: ProduceRequest,
  version: number,
): Promise<ProduceResponse | typeof NO_RESPONSE> | ProduceResponse {
  // Transactions are not implemented (no AddPartitionsToTxn/EndTxn advertised).
  if (req.transactionalId != null) return failAll(req, KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
  // Produce v0-2 carry magic 0/1 message sets; Wharf stores RecordBatch v2 only (see versions.ts).
  if (version < 3) return failAll(req, KafkaError.UNSUPPORTED_FOR_MESSAGE_FORMAT)
  if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) return failAll(req, KafkaError.INVALID_REQUIRED_ACKS)
  const pending = req.topicData.map((t) => ({
    name: t.name,
    partitions: t.partitionData.map((p) => appendOne(c, t.name, p.index, p.records)),
  }))
  const done = Promise.all(
    pending.map(async (t) => ({ name: t.name, partitionResponses: await Promise.all(t.partitions) })),
  )
  if (req.acks === 0) {
    // acks=0 gets no response at all (kafkajs: expectResponse = acks !== 0); failures are only logged.
    return done.then((responses) => {
      for (const t of responses)
        for (const p of t.partitionResponses)
          if (p.errorCode !== 0)
            c.logger.debug({ topic: t.name, partition: p.index, errorCode: p.errorCode }, 'acks=0 produce failed')
      return NO_RESPONSE
    })
  }
  // acks=1 and acks=-1 are the same on a single node: answered once durable per the stream's fsync policy.
  return done.then((responses) => ({ responses, throttleTimeMs: 0 }))
}

// ---- Fetch ----

interface FetchTarget {
  topic: string
  partition: number
  fetchOffset: number
  partitionMaxBytes: number
}

function fetchPartitionEmpty(
  partitionIndex: number,
  errorCode: number,
  highWatermark = -1,
  logStartOffset = -1,
): FetchResponsePartitionData {
  return {
    partitionIndex,
    errorCode,
    highWatermark,
    lastStableOffset: highWatermark,
    logStartOffset,
    abortedTransactions: [],
    records: NO_RECORDS,
  }
}

/** Reads every partition once; returns the per-partition data and total bytes. */
async function readAll(
  c: Connection,
  targets: FetchTarget[],
  maxBytes: number,
): Promise<{ data: FetchResponsePartitionData[]; bytes: number }> {
  const broker = c.server.broker
  let remaining = maxBytes
  let bytes = 0
  const data: FetchResponsePartitionData[] = []
  // Sequential on purpose: the response budget (maxBytes) is shared in request order, like Kafka.
  for (const t of targets) {
    const stream = broker.getStream(t.topic)
    const log = stream?.partitions[t.partition]
    if (log === undefined) {
      data.push(fetchPartitionEmpty(t.partition, KafkaError.UNKNOWN_TOPIC_OR_PARTITION))
      continue
    }
    const hw = log.highWatermark
    if (t.fetchOffset < log.logStartOffset || t.fetchOffset > hw) {
      data.push(fetchPartitionEmpty(t.partition, KafkaError.OFFSET_OUT_OF_RANGE, hw, log.logStartOffset))
      continue
    }
    if (t.fetchOffset === hw || (remaining <= 0 && bytes > 0)) {
      data.push(fetchPartitionEmpty(t.partition, KafkaError.NONE, hw, log.logStartOffset))
      continue
    }
    try {
      // The log returns at least one whole batch even above the limit (KIP-74), so a huge batch never stalls.
      const result = await log.read(t.fetchOffset, Math.max(1, Math.min(t.partitionMaxBytes, remaining)))
      remaining -= result.bytes
      bytes += result.bytes
      data.push({
        partitionIndex: t.partition,
        errorCode: KafkaError.NONE,
        highWatermark: result.highWatermark,
        // No transactions: the last stable offset is the high watermark (read_committed sees everything).
        lastStableOffset: result.highWatermark,
        logStartOffset: result.logStartOffset,
        abortedTransactions: [],
        records: result.chunks.length === 0 ? NO_RECORDS : result.chunks,
      })
    } catch (error) {
      data.push(fetchPartitionEmpty(t.partition, errorCodeOf(error), log.highWatermark, log.logStartOffset))
    }
  }
  return { data, bytes }
}

/** Resolves when any target partition has data past its fetch offset, the timeout passes or the client goes. */
async function waitForAny(c: Connection, targets: FetchTarget[], timeoutMs: number): Promise<void> {
  const broker = c.server.broker
  const stop = new AbortController()
  const onClose = () => stop.abort()
  c.closing.signal.addEventListener('abort', onClose, { once: true })
  try {
    const waits = targets
      .filter((t) => broker.getStream(t.topic)?.partitions[t.partition] !== undefined)
      .map((t) => broker.waitForData(t.topic, t.partition, t.fetchOffset, timeoutMs, stop.signal))
    if (waits.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        stop.signal.addEventListener('abort', () => {
          clearTimeout(timer)
          resolve()
        })
      })
      return
    }
    await Promise.race(waits)
  } finally {
    stop.abort()
    c.closing.signal.removeEventListener('abort', onClose)
  }
}

/** Kafka's own cap on fetch.max.wait.ms-style waits we honour (a client asking for longer gets this). */
const fetchWaitMsMax = 30_000

export async function handleFetch(c: Connection, req: FetchRequest, version: number): Promise<FetchResponse> {
  const targets: FetchTarget[] = []
  for (const topic of req.topics) {
    for (const p of topic.partitions) {
      targets.push({
        topic: topic.topic ?? '',
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: Math.max(0, p.partitionMaxBytes),
      })
    }
  }
  const maxBytes = Math.min(
    req.maxBytes !== undefined && version >= 3 ? req.maxBytes : Number.MAX_SAFE_INTEGER,
    c.server.options.fetchBytesMax,
  )
  let result = await readAll(c, targets, maxBytes)
  const waitMs = Math.min(Math.max(0, req.maxWaitMs), fetchWaitMsMax)
  if (
    result.bytes < Math.max(1, req.minBytes) &&
    waitMs > 0 &&
    targets.length > 0 &&
    !result.data.some((d) => d.errorCode !== 0)
  ) {
    await waitForAny(c, targets, waitMs)
    if (c.isClosed) return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [] }
    result = await readAll(c, targets, maxBytes)
  }
  let i = 0
  const responses = req.topics.map((topic) => ({
    topic: topic.topic ?? '',
    partitions: topic.partitions.map(() => result.data[i++]!),
  }))
  // Fetch sessions (v7+) are declined by answering session id 0: clients then send full fetches every time.
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, sessionId: 0, responses }
}

// ---- ListOffsets ----

const LATEST = -1
const EARLIEST = -2
const MAX_TIMESTAMP = -3

async function listOffset(
  c: Connection,
  topic: string,
  partitionIndex: number,
  timestamp: number,
  version: number,
): Promise<ListOffsetsResponseListOffsetsPartitionResponse> {
  // leaderEpoch exists from v4; a single node's epoch is always 0.
  const epoch = version >= 4 ? 0 : undefined
  const noEpoch = version >= 4 ? -1 : undefined
  const broker = c.server.broker
  const log = broker.getStream(topic)?.partitions[partitionIndex]
  if (log === undefined)
    return {
      partitionIndex,
      errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
      timestamp: -1,
      offset: -1,
      leaderEpoch: noEpoch,
    }
  const answer = (offset: number, ts = -1) => ({
    partitionIndex,
    errorCode: KafkaError.NONE,
    timestamp: ts,
    offset,
    leaderEpoch: epoch,
  })
  // No transactions: read_committed's LSO and read_uncommitted's HW are the same offset.
  if (timestamp === LATEST) return answer(log.highWatermark)
  if (timestamp === EARLIEST) return answer(log.logStartOffset)
  try {
    if (timestamp === MAX_TIMESTAMP) {
      if (log.highWatermark <= log.logStartOffset) return answer(-1)
      const last = log.highWatermark - 1
      const { messages } = await broker.readMessages(topic, partitionIndex, last, 64 * 1024)
      return answer(last, messages[0]?.timestamp ?? -1)
    }
    const offset = await log.offsetForTimestamp(timestamp)
    if (offset === null || offset >= log.highWatermark) return answer(-1)
    // Kafka answers with the found record's own timestamp.
    const { messages } = await broker.readMessages(topic, partitionIndex, offset, 64 * 1024)
    const found = messages.find((m) => m.timestamp >= timestamp)
    return found === undefined ? answer(offset, timestamp) : answer(found.offset, found.timestamp)
  } catch (error) {
    return { partitionIndex, errorCode: errorCodeOf(error), timestamp: -1, offset: -1, leaderEpoch: noEpoch }
  }
}

export async function handleListOffsets(
  c: Connection,
  req: ListOffsetsRequest,
  version: number,
): Promise<ListOffsetsResponse> {
  const topics = await Promise.all(
    req.topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(
        t.partitions.map((p) => listOffset(c, t.name, p.partitionIndex, p.timestamp, version)),
      ),
    })),
  )
  return { throttleTimeMs: 0, topics }
}

// ---- InitProducerId ----

export async function handleInitProducerId(c: Connection, req: InitProducerIdRequest): Promise<InitProducerIdResponse> {
  if (req.transactionalId !== null) {
    // Transactions are not implemented; a transactional producer learns so at once instead of hanging.
    return {
      throttleTimeMs: 0,
      errorCode: KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      producerId: -1,
      producerEpoch: -1,
    }
  }
  try {
    // Non-transactional producers get a fresh id per call (also on KIP-360 epoch-bump requests).
    const { producerId, producerEpoch } = await c.server.broker.initProducerId()
    return { throttleTimeMs: 0, errorCode: KafkaError.NONE, producerId, producerEpoch }
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: errorCodeOf(error), producerId: -1, producerEpoch: -1 }
  }
}
