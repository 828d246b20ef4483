// Produce and InitProducerId. A produced RecordBatch is stored as received (the broker checks idempotent
// sequences against its header), so fetch can return the client's own bytes. Authorization as Kafka 3.x: Write
// on each topic to produce; a transactional id needs Write on it; InitProducerId for an idempotent producer
// needs IdempotentWrite on the cluster or Write on some topic (KIP-679: idempotence is on by default); for a
// transactional one, transactions/coordinator.ts.
import { principalString } from '../../broker/security/authorizer.js'
import { OFFSET_RECORD_COUNT, readBatchHeader, splitBatches } from '../../record/index.js'
import { isWharfError } from '../../util/errors.js'
import { burstClock } from '../common/metrics.js'
import { leaderRefusal } from './cluster.js'
import type {
  InitProducerIdRequest,
  InitProducerIdResponse,
  ProduceRequest,
  ProduceResponse,
  ProduceResponsePartitionProduceResponse,
} from './codec/index.js'
import { type Connection, NO_RESPONSE } from './connection.js'
import { errorCodeOf, KafkaError, transactionErrorCode } from './errors.js'
import { CLUSTER_RESOURCE } from './metadata.js'
import { initTransactionalProducer } from './transactions/coordinator.js'

// ---- Produce ----

function produceError(index: number, error: unknown): ProduceResponsePartitionProduceResponse {
  const errorMessage = isWharfError(error) ? error.message : null
  return { index, errorCode: errorCodeOf(error), baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, errorMessage }
}

async function appendOne(
  c: Connection,
  transactionalId: string | null,
  topic: string,
  writable: boolean,
  index: number,
  records: Buffer | Buffer[] | null,
) {
  if (!writable)
    return {
      index,
      errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED,
      baseOffset: -1,
      logAppendTimeMs: -1,
      logStartOffset: -1,
    }
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
  // In a cluster only the partition's owner appends; the client re-routes on NOT_LEADER_OR_FOLLOWER.
  const notLeader = leaderRefusal(c.server.broker, stream, index)
  if (notLeader !== KafkaError.NONE)
    return { index, errorCode: notLeader, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 }
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
    const refused = transactionRefusal(c, transactionalId, topic, index, batch)
    if (refused !== KafkaError.NONE)
      return { index, errorCode: refused, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 }
  } catch (error) {
    return produceError(index, error)
  }
  // Called synchronously in request order: offsets (and idempotent sequence checks) follow the wire order.
  const appended = c.server.broker.appendRawBatch(topic, index, batch)
  try {
    const result = await appended
    c.server.traffic.received(batch.readInt32BE(OFFSET_RECORD_COUNT), batch.length)
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

/**
 * A transactional batch needs the request's transactional id, the producer's current epoch and its partition
 * added to the open transaction (so a fenced or timed-out instance cannot write); a batch that is not
 * transactional is appended as usual even in a transactional request.
 */
function transactionRefusal(
  c: Connection,
  transactionalId: string | null,
  topic: string,
  partition: number,
  batch: Buffer,
): number {
  const h = readBatchHeader(batch)
  if (!h.isTransactional) return KafkaError.NONE
  if (transactionalId === null) return KafkaError.INVALID_RECORD
  const txns = c.server.broker.producerTransactions
  const refusal = txns.checkAppend(transactionalId, h.producerId, h.producerEpoch, topic, partition)
  // Produce answers INVALID_PRODUCER_EPOCH for a fenced epoch (PRODUCER_FENCED is the coordinator's code).
  return refusal === null ? KafkaError.NONE : transactionErrorCode(refusal, false)
}

/** The same error for every partition of a request (whole-request refusals). */
function failAll(req: ProduceRequest, errorCode: number): ProduceResponse {
  const responses = req.topicData.map((t) => ({
    name: t.name,
    partitionResponses: t.partitionData.map((p) => ({ index: p.index, errorCode, baseOffset: -1 })),
  }))
  return { responses, throttleTimeMs: 0 }
}

/**
 * A produce under a resource alarm is not appended: it waits (reading paused) for the alarm to clear, at most
 * the listener's bound and the request's own timeout, then is appended as usual, or answered REQUEST_TIMED_OUT
 * with the time it was held as throttle_time_ms. REQUEST_TIMED_OUT is what Kafka answers a produce it could
 * not complete within its timeout, and every client retries it (a retriable error in the protocol's table);
 * THROTTLING_QUOTA_EXCEEDED exists only for the topic-admin APIs, and storage or replica errors would say
 * something false.
 */
async function produceWhenClear(c: Connection, req: ProduceRequest): Promise<ProduceResponse | typeof NO_RESPONSE> {
  const throttle = c.server.throttle
  const bound = c.server.options.alarmProduceWaitMsMax
  const waitMs = req.timeoutMs > 0 ? Math.min(bound, req.timeoutMs) : bound
  const started = Date.now()
  c.produceHold.hold()
  let cleared: boolean
  try {
    cleared = await throttle.whenClear(waitMs, c.closing.signal)
  } finally {
    c.produceHold.release()
  }
  if (cleared && !c.isClosed) return appendAll(c, req)
  if (req.acks === 0) {
    c.logger.debug({ reason: throttle.reason }, 'acks=0 produce dropped under a resource alarm')
    return NO_RESPONSE
  }
  const refused = failAll(req, KafkaError.REQUEST_TIMED_OUT)
  return { ...refused, throttleTimeMs: Math.min(Date.now() - started, 0x7fffffff) }
}

export function handleProduce(
  c: Connection,
  req: ProduceRequest,
  version: number,
): Promise<ProduceResponse | typeof NO_RESPONSE> | ProduceResponse {
  if (req.transactionalId != null && !c.allows('Write', 'TransactionalId', req.transactionalId))
    return failAll(req, KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
  // Produce v0-2 carry magic 0/1 message sets; Wharf stores RecordBatch v2 only (see versions.ts).
  if (version < 3) return failAll(req, KafkaError.UNSUPPORTED_FOR_MESSAGE_FORMAT)
  if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) return failAll(req, KafkaError.INVALID_REQUIRED_ACKS)
  if (c.server.throttle.reason !== null) return produceWhenClear(c, req)
  return appendAll(c, req)
}

/** Appends every partition's batch (synchronously, in request order) and answers once all are durable. */
function appendAll(c: Connection, req: ProduceRequest): Promise<ProduceResponse | typeof NO_RESPONSE> {
  const receivedAt = burstClock()
  const pending = req.topicData.map((t) => {
    // One decision per topic of the request, not per partition.
    const writable = c.allows('Write', 'Topic', t.name)
    const transactionalId = req.transactionalId ?? null
    const partitions = t.partitionData.map((p) => appendOne(c, transactionalId, t.name, writable, p.index, p.records))
    return { name: t.name, partitions }
  })
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
  // acks=1 and acks=-1 are the same (the storage holds the copies): answered once durable per the stream's policy.
  return done.then((responses) => {
    c.server.traffic.publishToConfirm.since(receivedAt)
    return { responses, throttleTimeMs: 0 }
  })
}

// ---- InitProducerId ----

/**
 * Kafka's authorizeByResourceType(Write, Topic): is there a topic this principal may write? With the default
 * permission allow, yes unless a deny covers every topic; with deny, only an allow rule naming it grants one.
 */
function mayWriteSomeTopic(c: Connection): boolean {
  const security = c.server.broker.security
  const access = c.access!
  const principal = principalString(access.principal)
  const address = access.host
  const rules = security.acls
    .list({ resourceType: 'Topic' })
    .filter(
      (r) =>
        (r.principal === principal || r.principal === 'User:*') &&
        (r.host === '*' || r.host === address) &&
        (r.operation === 'Write' || r.operation === 'All'),
    )
  const everyTopic = (r: (typeof rules)[number]) => r.resourceName === '*' && r.patternType === 'Literal'
  if (rules.some((r) => r.permission === 'Deny' && everyTopic(r))) return false
  return rules.some((r) => r.permission === 'Allow') || security.policy.defaultPermission === 'allow'
}

export async function handleInitProducerId(
  c: Connection,
  req: InitProducerIdRequest,
  version: number,
): Promise<InitProducerIdResponse> {
  if (
    req.transactionalId === null &&
    !c.allows('IdempotentWrite', 'Cluster', CLUSTER_RESOURCE) &&
    !mayWriteSomeTopic(c)
  )
    return { throttleTimeMs: 0, errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 }
  if (req.transactionalId !== null) return initTransactionalProducer(c, req, version)
  try {
    // Non-transactional producers get a fresh id per call (also on KIP-360 epoch-bump requests).
    const { producerId, producerEpoch } = await c.server.broker.initProducerId()
    return { throttleTimeMs: 0, errorCode: KafkaError.NONE, producerId, producerEpoch }
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: errorCodeOf(error), producerId: -1, producerEpoch: -1 }
  }
}
