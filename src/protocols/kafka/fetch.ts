// Fetch and ListOffsets: reads by offset or timestamp. Fetch returns stored RecordBatches as they are,
// with a long-poll wait when the client asks for more bytes than are there.

import { leaderEpochOf, leaderRefusal } from './cluster.js'
import type {
  FetchRequest,
  FetchResponse,
  FetchResponsePartitionData,
  ListOffsetsRequest,
  ListOffsetsResponse,
  ListOffsetsResponseListOffsetsPartitionResponse,
} from './codec/index.js'
import type { Connection } from './connection.js'
import { errorCodeOf, KafkaError } from './errors.js'
import { type FetchTarget, fetchPlan, fetchTarget, sessionResponses } from './fetch-plan.js'
import { maxTimestampRecord } from './max-timestamp.js'
import { READ_COMMITTED, stableLimit, stableResult } from './transactions/read-committed.js'

/** Empty record set: librdkafka rejects a null (-1) record set size in Fetch responses. */
const NO_RECORDS = Buffer.alloc(0)

// ---- Fetch ----

function fetchPartitionEmpty(
  partitionIndex: number,
  errorCode: number,
  highWatermark = -1,
  logStartOffset = -1,
  lastStableOffset = highWatermark,
): FetchResponsePartitionData {
  return {
    partitionIndex,
    errorCode,
    highWatermark,
    lastStableOffset,
    logStartOffset,
    abortedTransactions: [],
    records: NO_RECORDS,
  }
}

/** Reads every partition once; returns the per-partition data, total bytes and records past the fetch offsets. */
async function readAll(
  c: Connection,
  targets: FetchTarget[],
  maxBytes: number,
  isolationLevel: number,
): Promise<{ data: FetchResponsePartitionData[]; bytes: number; records: number }> {
  const broker = c.server.broker
  let remaining = maxBytes
  let bytes = 0
  let records = 0
  const data: FetchResponsePartitionData[] = []
  // Sequential on purpose: the response budget (maxBytes) is shared in request order, like Kafka.
  for (const t of targets) {
    if (t.unknownTopicId) {
      data.push(fetchPartitionEmpty(t.partition, KafkaError.UNKNOWN_TOPIC_ID))
      continue
    }
    if (t.denied) {
      data.push(fetchPartitionEmpty(t.partition, KafkaError.TOPIC_AUTHORIZATION_FAILED))
      continue
    }
    const stream = broker.getStream(t.topic)
    const log = stream?.partitions[t.partition]
    if (log === undefined) {
      data.push(fetchPartitionEmpty(t.partition, KafkaError.UNKNOWN_TOPIC_OR_PARTITION))
      continue
    }
    // Only the owner serves a partition in a cluster: another broker's view of its tail may lag.
    const notLeader = leaderRefusal(broker, stream!, t.partition)
    if (notLeader !== KafkaError.NONE) {
      data.push(fetchPartitionEmpty(t.partition, notLeader))
      continue
    }
    const hw = log.highWatermark
    if (t.fetchOffset < log.logStartOffset || t.fetchOffset > hw) {
      data.push(fetchPartitionEmpty(t.partition, KafkaError.OFFSET_OUT_OF_RANGE, hw, log.logStartOffset))
      continue
    }
    try {
      // read_committed stops at the last stable offset (transactions/read-committed.ts).
      const stable = await stableLimit(broker, t.topic, t.partition, isolationLevel)
      if (t.fetchOffset >= stable.limit || (remaining <= 0 && bytes > 0)) {
        data.push(fetchPartitionEmpty(t.partition, KafkaError.NONE, hw, log.logStartOffset, stable.lastStableOffset))
        continue
      }
      // The log returns at least one whole batch even above the limit (KIP-74), so a huge batch never stalls.
      const read = await log.read(t.fetchOffset, Math.max(1, Math.min(t.partitionMaxBytes, remaining)))
      const result = await stableResult(broker, t.topic, t.partition, t.fetchOffset, stable, isolationLevel, read)
      remaining -= result.bytes
      bytes += result.bytes
      // Records from the fetch offset on (the first batch may start before it; clients skip those).
      records += Math.max(0, result.nextOffset - t.fetchOffset)
      data.push({
        partitionIndex: t.partition,
        errorCode: KafkaError.NONE,
        highWatermark: read.highWatermark,
        lastStableOffset: stable.lastStableOffset,
        logStartOffset: read.logStartOffset,
        abortedTransactions: result.abortedTransactions,
        records: result.chunks.length === 0 ? NO_RECORDS : result.chunks,
      })
    } catch (error) {
      data.push(fetchPartitionEmpty(t.partition, errorCodeOf(error), log.highWatermark, log.logStartOffset))
    }
  }
  return { data, bytes, records }
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
      .map((t) => broker.log.waitForData(t.topic, t.partition, t.fetchOffset, timeoutMs, stop.signal))
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

/**
 * read_committed waits for the log to grow past its end, not past the fetch offset: data behind an open
 * transaction is already there, and only a later append (the marker, or more data) can move the LSO.
 */
function pastStable(c: Connection, targets: FetchTarget[]): FetchTarget[] {
  return targets.map((t) => {
    const hw = c.server.broker.getStream(t.topic)?.partitions[t.partition]?.highWatermark ?? t.fetchOffset
    return { ...t, fetchOffset: Math.max(t.fetchOffset, hw) }
  })
}

/** Kafka's own cap on fetch.max.wait.ms-style waits we honour (a client asking for longer gets this). */
const fetchWaitMsMax = 30_000

export async function handleFetch(c: Connection, req: FetchRequest, version: number): Promise<FetchResponse> {
  // Taken before the first await: the connection's response budget orders turns by this request's place.
  const slot = c.dispatching
  const plan = fetchPlan(c, req, version)
  if (plan.kind === 'error') return { throttleTimeMs: 0, errorCode: plan.errorCode, sessionId: 0, responses: [] }
  const resolve = c.server.topicIds.resolver()
  const targets = plan.partitions.map((p) => fetchTarget(c, p, resolve))
  const maxBytes = Math.min(
    req.maxBytes !== undefined && version >= 3 ? req.maxBytes : Number.MAX_SAFE_INTEGER,
    c.server.options.fetchBytesMax,
  )
  const closed = { throttleTimeMs: 0, errorCode: 0, sessionId: plan.sessionId, responses: [] }
  // A response is built only with a turn of the connection's response budget (released when it is answered).
  await c.budget.acquire(slot)
  if (c.isClosed) return closed
  const isolationLevel = req.isolationLevel ?? 0
  let result = await readAll(c, targets, maxBytes, isolationLevel)
  const waitMs = Math.min(Math.max(0, req.maxWaitMs), fetchWaitMsMax)
  if (
    result.bytes < Math.max(1, req.minBytes) &&
    waitMs > 0 &&
    targets.length > 0 &&
    !result.data.some((d) => d.errorCode !== 0)
  ) {
    c.budget.release(slot)
    await waitForAny(c, isolationLevel === READ_COMMITTED ? pastStable(c, targets) : targets, waitMs)
    if (c.isClosed) return closed
    await c.budget.acquire(slot)
    if (c.isClosed) return closed
    result = await readAll(c, targets, maxBytes, isolationLevel)
  }
  // Counted once, for the read that is answered (a long poll reads again after its wait).
  c.server.traffic.delivered(result.records, result.bytes)
  // An incremental fetch answers only the session's partitions with something new (fetch-plan.ts).
  const responses = sessionResponses(plan, targets, result.data, version >= 13)
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, sessionId: plan.sessionId, responses }
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
  isolationLevel: number,
): Promise<ListOffsetsResponseListOffsetsPartitionResponse> {
  const noEpoch = version >= 4 ? -1 : undefined
  if (!c.allows('Describe', 'Topic', topic))
    return {
      partitionIndex,
      errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED,
      timestamp: -1,
      offset: -1,
      leaderEpoch: noEpoch,
    }
  const broker = c.server.broker
  const stream = broker.getStream(topic)
  const log = stream?.partitions[partitionIndex]
  if (log === undefined)
    return {
      partitionIndex,
      errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
      timestamp: -1,
      offset: -1,
      leaderEpoch: noEpoch,
    }
  const notLeader = leaderRefusal(broker, stream!, partitionIndex)
  if (notLeader !== KafkaError.NONE)
    return { partitionIndex, errorCode: notLeader, timestamp: -1, offset: -1, leaderEpoch: noEpoch }
  // leaderEpoch exists from v4: the owner's epoch in a cluster, 0 on a single broker.
  const epoch = version >= 4 ? leaderEpochOf(broker, stream!, partitionIndex) : undefined
  const answer = (offset: number, ts = -1) => ({
    partitionIndex,
    errorCode: KafkaError.NONE,
    timestamp: ts,
    offset,
    leaderEpoch: epoch,
  })
  // read_committed's latest is the last stable offset.
  if (timestamp === LATEST)
    return answer(
      isolationLevel === READ_COMMITTED
        ? (await stableLimit(broker, topic, partitionIndex, isolationLevel)).limit
        : log.highWatermark,
    )
  if (timestamp === EARLIEST) return answer(log.logStartOffset)
  try {
    if (timestamp === MAX_TIMESTAMP) {
      const found = await maxTimestampRecord(log)
      return found === null ? answer(-1) : answer(found.offset, found.timestamp)
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
        t.partitions.map((p) => listOffset(c, t.name, p.partitionIndex, p.timestamp, version, req.isolationLevel ?? 0)),
      ),
    })),
  )
  return { throttleTimeMs: 0, topics }
}
